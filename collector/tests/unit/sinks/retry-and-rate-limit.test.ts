import { withRetry } from '../../../src/sinks/retry.js';
import { TokenBucket } from '../../../src/sinks/rate-limiter.js';
import type { SendResult } from '../../../src/sinks/types.js';

/** A fake clock: sleep advances time instantly. */
function fakeClock() {
  let t = 1_000_000;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
    sleeps,
  };
}

const retryable = (retryAfterMs?: number): SendResult => ({ ok: false, retryable: true, error: new Error('busy'), ...(retryAfterMs ? { retryAfterMs } : {}) });

describe('withRetry', () => {
  it('retries retryable failures with growing jittered backoff until ok', async () => {
    const c = fakeClock();
    const results = [retryable(), retryable(), retryable(), { ok: true } as const];
    const seen: Array<SendResult | undefined> = [];
    const out = await withRetry(async (prev) => {
      seen.push(prev);
      return results.shift()!;
    }, { deadlineMs: 60_000, baseMs: 100, maxMs: 10_000, now: c.now, sleep: c.sleep, random: () => 0.999 });
    expect(out).toEqual({ ok: true });
    expect(c.sleeps).toEqual([99, 199, 399]);
    expect(seen[0]).toBeUndefined();
    expect(seen[1]).toMatchObject({ ok: false, retryable: true });
  });

  it('honours Retry-After as a floor', async () => {
    const c = fakeClock();
    const results = [retryable(5000), { ok: true } as const];
    await withRetry(async () => results.shift()!, { deadlineMs: 60_000, baseMs: 100, now: c.now, sleep: c.sleep, random: () => 0 });
    expect(c.sleeps).toEqual([5000]);
  });

  it('stops at once on a non-retryable failure', async () => {
    const c = fakeClock();
    let calls = 0;
    const out = await withRetry(async () => {
      calls++;
      return { ok: false, retryable: false, error: new Error('bad input') };
    }, { deadlineMs: 60_000, now: c.now, sleep: c.sleep });
    expect(calls).toBe(1);
    expect(out).toMatchObject({ ok: false, retryable: false });
    expect(c.sleeps).toEqual([]);
  });

  it('gives up with the last failure when the next wait would pass the deadline', async () => {
    const c = fakeClock();
    let calls = 0;
    const out = await withRetry(async () => {
      calls++;
      return retryable();
    }, { deadlineMs: 1000, baseMs: 100, maxMs: 400, now: c.now, sleep: c.sleep, random: () => 0.999 });
    expect(out).toMatchObject({ ok: false, retryable: true });
    expect(c.sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1000);
    expect(calls).toBe(c.sleeps.length + 1);
  });
});

describe('TokenBucket (10/s, burst 30)', () => {
  it('lets a burst of 30 through, then paces at 10 per second', async () => {
    const c = fakeClock();
    const bucket = new TokenBucket({ ratePerS: 10, burst: 30, now: c.now, sleep: c.sleep });
    const start = c.now();
    for (let i = 0; i < 30; i++) await bucket.acquire();
    expect(c.now() - start).toBe(0);
    for (let i = 0; i < 20; i++) await bucket.acquire();
    // 20 more tokens at 10/s take 2 s of (fake) time.
    expect(c.now() - start).toBeGreaterThanOrEqual(2000);
    expect(c.now() - start).toBeLessThan(2100);
  });

  it('refills up to the burst only', () => {
    const c = fakeClock();
    const bucket = new TokenBucket({ ratePerS: 10, burst: 30, now: c.now, sleep: c.sleep });
    for (let i = 0; i < 30; i++) expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(false);
    void c.sleep(3_600_000);
    let n = 0;
    while (bucket.tryTake()) n++;
    expect(n).toBe(30);
  });

  it('refuses a nonsensical configuration with a clear error', () => {
    expect(() => new TokenBucket({ ratePerS: 0, burst: 30 })).toThrow(/ratePerS/);
  });
});
