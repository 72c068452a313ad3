import { backoffDelayMs } from '../../../src/protocol/backoff.js';

describe('backoffDelayMs (the one backoff formula)', () => {
  it('caps the backoff at maxMs (full jitter)', () => {
    expect(backoffDelayMs(40, { baseMs: 100, maxMs: 10_000, random: () => 0.999 })).toBe(9990);
    expect(backoffDelayMs(0, { baseMs: 100, maxMs: 10_000, random: () => 0.5 }, 2500)).toBe(2500);
  });

  it('always waits floorFraction of the cap (equal jitter)', () => {
    expect(backoffDelayMs(0, { baseMs: 1000, maxMs: 8000, floorFraction: 0.5, random: () => 0 })).toBe(500);
    expect(backoffDelayMs(3, { baseMs: 1000, maxMs: 8000, floorFraction: 0.5, random: () => 0.999 })).toBe(7996);
  });
});
