/**
 * The one backoff formula of mcpwatch: capped exponential with jitter. The cap for retry number
 * `attempt` (0-based) is min(maxMs, baseMs * 2^attempt); the wait is a random point in
 * [cap * floorFraction, cap) — floorFraction 0 is "full jitter" (the collector's sinks), 0.5 keeps
 * consecutive failures really slowing down (the agent's uploads, the outbox drainer) — and never
 * less than a `minMs` the other side asked for (Retry-After). Pure; randomness injected for tests.
 */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Share of the cap that is always waited (0 = full jitter, 0.5 = equal jitter). Default 0. */
  floorFraction?: number;
  random?: () => number;
}

/** The wait before retry number `attempt` (0-based), at least `minMs`. */
export function backoffDelayMs(attempt: number, opts: BackoffOptions, minMs = 0): number {
  const random = opts.random ?? Math.random;
  const cap = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  const floor = cap * (opts.floorFraction ?? 0);
  return Math.max(minMs, Math.floor(floor + random() * (cap - floor)));
}
