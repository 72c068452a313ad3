/**
 * Token bucket: `ratePerS` tokens a second, at most `burst` saved up. `acquire()` resolves when a
 * token is available (waiting if needed); Security Hub's documented quota is 10 calls/s with a
 * burst of 30 per account and region. Clock and sleep are injected for tests. The bucket
 * arithmetic is the ingest limiter's (../rate-limiter.ts); this class adds waiting in arrival order.
 */
import { msUntilToken, refillBucket, takeToken, type Bucket } from '../rate-limiter.js';
import { unrefSleep } from './retry.js';

export interface RateLimiterOptions {
  ratePerS: number;
  burst: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export class TokenBucket {
  private readonly bucket: Bucket;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Serialises waiters so they take tokens in arrival order. */
  private queue: Promise<void> = Promise.resolve();
  /** Total milliseconds callers were made to wait (for metrics). */
  waitedMs = 0;

  constructor(private readonly opts: RateLimiterOptions) {
    if (!(opts.ratePerS > 0) || !(opts.burst >= 1)) throw new RangeError('TokenBucket needs ratePerS > 0 and burst >= 1');
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? unrefSleep;
    this.bucket = { tokens: opts.burst, atMs: this.now() };
  }

  /** Takes one token without waiting; false when none is available. */
  tryTake(): boolean {
    refillBucket(this.bucket, this.now(), this.opts.ratePerS, this.opts.burst);
    return takeToken(this.bucket);
  }

  /** Resolves once a token was taken. */
  acquire(): Promise<void> {
    const run = async (): Promise<void> => {
      while (!this.tryTake()) {
        const waitMs = Math.ceil(msUntilToken(this.bucket, this.opts.ratePerS));
        this.waitedMs += waitMs;
        await this.sleep(waitMs);
      }
    };
    const p = this.queue.then(run);
    this.queue = p.catch(() => undefined);
    return p;
  }
}
