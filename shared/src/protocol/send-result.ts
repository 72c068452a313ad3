/**
 * The result of sending something to the other side (STYLE.md habit 2: failures are values). One
 * shape for the agent's uploader and the collector's sinks: `retryable: false` means the same bytes
 * would fail the same way; `retryAfterMs` is what the other side asked for. `E` is how the failure
 * is told (the agent keeps a string, the collector an Error); `X` carries what an outlet adds (the
 * HTTP status and wire code on the agent's side, the rows not accepted on a sink's side).
 */
export type SendResult<E = string, X extends object = object> =
  | { ok: true }
  | ({ ok: false; retryable: boolean; retryAfterMs?: number; error: E } & X);
