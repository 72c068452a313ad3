/**
 * The one retry wrapper (STYLE.md habit 2). Calls `attempt` until it returns ok, a non-retryable
 * failure, or the deadline would pass: the shared backoff (@mcpwatch/shared backoffDelayMs, full
 * jitter: a random wait in [0, min(maxMs, baseMs * 2^n)]), never less than a `retryAfterMs` the
 * service asked for.
 *
 * `attempt` receives the result of the previous attempt so it can resend only what failed (Kinesis
 * failed records, Security Hub FailedFindings). Clock, sleep and randomness are injected so unit
 * tests run without real waiting.
 */
import { backoffDelayMs } from '@mcpwatch/shared';
import type { SendResult } from './types.js';

export interface RetryOptions {
  /** Give up once a further wait would end after now + deadlineMs. */
  deadlineMs: number;
  baseMs?: number;
  maxMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** A sleep whose timer does not hold the process open. */
export function unrefSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Retries `attempt` with backoff. Returns the last result: ok, the first non-retryable failure,
 * or the retryable failure outstanding at the deadline (the caller releases those rows).
 */
export async function withRetry(
  attempt: (previous: SendResult | undefined, n: number) => Promise<SendResult>,
  opts: RetryOptions,
): Promise<SendResult> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? unrefSleep;
  const random = opts.random ?? Math.random;
  const baseMs = opts.baseMs ?? 100;
  const maxMs = opts.maxMs ?? 10_000;
  const deadline = now() + opts.deadlineMs;
  let result: SendResult | undefined;
  for (let n = 0; ; n++) {
    result = await attempt(result, n);
    if (result.ok || !result.retryable) return result;
    const wait = backoffDelayMs(n, { baseMs, maxMs, random }, result.retryAfterMs);
    if (now() + wait > deadline) return result;
    await sleep(wait);
  }
}
