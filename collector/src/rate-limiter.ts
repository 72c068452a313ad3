/**
 * Per-key token buckets (per agent for ingest). `take(key)` spends one token or says how long to
 * wait. Bounded: at most `maxKeys` buckets; the least recently used is forgotten (a forgotten
 * agent simply starts with a full bucket again). Time comes from an injected clock.
 */

export type TakeResult = { ok: true } | { ok: false; retryAfterS: number };

export interface RateLimiterOptions {
  /** Tokens added per second; 0 disables limiting. */
  ratePerS: number;
  /** Bucket size. */
  burst: number;
  maxKeys?: number;
  /** Milliseconds clock (Date.now by default). */
  now?: () => number;
}

/** One token bucket's state: tokens saved up (fractional) as of `atMs`. */
export interface Bucket {
  tokens: number;
  atMs: number;
}

/** The one token-bucket arithmetic (ingest limits here, the sinks' call quotas in sinks/): adds the
 * tokens earned since `b.atMs`, at most `burst`, and moves `b.atMs` to `nowMs`. */
export function refillBucket(b: Bucket, nowMs: number, ratePerS: number, burst: number): void {
  b.tokens = Math.min(burst, b.tokens + ((nowMs - b.atMs) / 1000) * ratePerS);
  b.atMs = nowMs;
}

/** Spends one token when there is one. */
export function takeToken(b: Bucket): boolean {
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

/** Milliseconds until `b` holds one whole token. */
export function msUntilToken(b: Bucket, ratePerS: number): number {
  return ((1 - b.tokens) / ratePerS) * 1000;
}

/** Token-bucket rate limiter keyed by string. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(private readonly opts: RateLimiterOptions) {
    this.maxKeys = opts.maxKeys ?? 100_000;
    this.now = opts.now ?? Date.now;
  }

  /** Spends one token of `key`'s bucket, or returns the whole seconds until one is available. */
  take(key: string): TakeResult {
    const { ratePerS, burst } = this.opts;
    if (ratePerS <= 0) return { ok: true };
    const now = this.now();
    let b = this.buckets.get(key);
    if (b) {
      this.buckets.delete(key); // re-insert below: Map order is recency
      refillBucket(b, now, ratePerS, burst);
    } else {
      b = { tokens: burst, atMs: now };
      if (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
    }
    this.buckets.set(key, b);
    if (takeToken(b)) return { ok: true };
    return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - b.tokens) / ratePerS)) };
  }
}
