import { RateLimiter } from '../../src/rate-limiter.js';

describe('RateLimiter', () => {
  test('spends the burst, then says when the next token comes, refilling with time', () => {
    let now = 0;
    const rl = new RateLimiter({ ratePerS: 2, burst: 3, now: () => now });
    expect([rl.take('a'), rl.take('a'), rl.take('a')]).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(rl.take('a')).toEqual({ ok: false, retryAfterS: 1 });
    expect(rl.take('b')).toEqual({ ok: true }); // per key
    now += 500;
    expect(rl.take('a')).toEqual({ ok: true });
    expect(rl.take('a')).toEqual({ ok: false, retryAfterS: 1 });
  });

  test('0 per second disables limiting', () => {
    const rl = new RateLimiter({ ratePerS: 0, burst: 1 });
    for (let i = 0; i < 100; i++) expect(rl.take('a').ok).toBe(true);
  });

  test('holds at most maxKeys buckets: the least recently used is forgotten (and starts full again)', () => {
    const rl = new RateLimiter({ ratePerS: 0.001, burst: 1, maxKeys: 2, now: () => 0 });
    expect(rl.take('a').ok).toBe(true);
    expect(rl.take('b').ok).toBe(true);
    expect(rl.take('a').ok).toBe(false); // a is now most recent
    expect(rl.take('c').ok).toBe(true); // evicts b
    expect(rl.take('b').ok).toBe(true); // b forgotten -> full bucket; evicts a
    expect(rl.take('c').ok).toBe(false);
  });
});
