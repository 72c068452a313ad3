/**
 * Backoff for the agent's uploads: jittered exponential ("full jitter": a random wait in
 * [base/2, min(max, base * 2^n)]), never less than a Retry-After the collector asked for (plus a
 * little jitter so a fleet told "come back in 30 s" does not return in the same millisecond), and a
 * random delay on reconnect/start so a fleet does not stampede a collector that just came back.
 * Pure functions; randomness injected for tests. The formula is the one in @mcpwatch/shared
 * (backoffDelayMs, floorFraction 0.5); this module adds only the Retry-After spread and cap.
 */
import { backoffDelayMs as cappedBackoffMs, type SendResult as ProtocolSendResult } from '@mcpwatch/shared/protocol';

/** Failures are values (STYLE.md habit 2): shared SendResult, with the HTTP status and wire code. */
export type SendResult = ProtocolSendResult<string, { status?: number; code?: string }>;

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  random?: () => number;
}

/** Hard ceiling on any single wait, whatever Retry-After says (a laptop must not go silent for hours). */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

/** The wait before retry number `attempt` (0-based). */
export function backoffDelayMs(attempt: number, opts: BackoffOptions, retryAfterMs?: number): number {
  const random = opts.random ?? Math.random;
  const jittered = cappedBackoffMs(attempt, { baseMs: opts.baseMs, maxMs: opts.maxMs, floorFraction: 0.5, random });
  if (retryAfterMs !== undefined && retryAfterMs > 0) {
    const after = Math.min(retryAfterMs, MAX_RETRY_AFTER_MS);
    return Math.max(jittered, after + Math.floor(random() * Math.min(after * 0.2, 5000)));
  }
  return jittered;
}

/** A random delay in [0, spreadMs) before the first attempt after start or reconnect. */
export function reconnectJitterMs(spreadMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.max(0, spreadMs));
}

/**
 * Parses an HTTP Retry-After value (delta seconds or an HTTP date) into milliseconds from `nowMs`.
 * undefined when absent or unparsable.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v.trim()) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
