/**
 * Token bucket: `ratePerS` tokens a second, at most `burst` saved up. `acquire()` resolves when a
 * token is available (waiting if needed); Security Hub's documented quota is 10 calls/s with a
 * burst of 30 per account and region. Clock and sleep are injected for tests.
 */
import { unrefSleep } from './retry.js';

export interface RateLimiterOptions {
  ratePerS: number;
  burst: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export class TokenBucket {
  private tokens: number;
  private last: number;
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
    this.tokens = opts.burst;
    this.last = this.now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.opts.burst, this.tokens + ((t - this.last) / 1000) * this.opts.ratePerS);
    this.last = t;
  }

  /** Takes one token without waiting; false when none is available. */
  tryTake(): boolean {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /** Resolves once a token was taken. */
  acquire(): Promise<void> {
    const run = async (): Promise<void> => {
      while (!this.tryTake()) {
        const waitMs = Math.ceil(((1 - this.tokens) / this.opts.ratePerS) * 1000);
        this.waitedMs += waitMs;
        await this.sleep(waitMs);
      }
    };
    const p = this.queue.then(run);
    this.queue = p.catch(() => undefined);
    return p;
  }
}
