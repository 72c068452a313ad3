import { backoffDelayMs, parseRetryAfter, reconnectJitterMs } from '../../../src/ship/retry.js';

describe('retry', () => {
  it('backs off exponentially with jitter, capped, never under Retry-After', () => {
    const o = { baseMs: 1000, maxMs: 8000 };
    expect(backoffDelayMs(0, { ...o, random: () => 0 })).toBe(500);
    expect(backoffDelayMs(0, { ...o, random: () => 0.999 })).toBe(999);
    expect(backoffDelayMs(3, { ...o, random: () => 0.999 })).toBe(7996);
    expect(backoffDelayMs(30, { ...o, random: () => 0.999 })).toBeLessThanOrEqual(8000);
    expect(backoffDelayMs(0, { ...o, random: () => 0 }, 30_000)).toBe(30_000);
    expect(backoffDelayMs(0, { ...o, random: () => 0.5 }, 30_000)).toBe(32_500);
    expect(backoffDelayMs(0, { ...o, random: () => 0 }, 10 * 3600_000)).toBe(600_000);
    expect(reconnectJitterMs(2000, () => 0.25)).toBe(500);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('7', 0)).toBe(7000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(10_000);
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });
});
