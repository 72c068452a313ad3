/**
 * Which collector answers to a batch are worth sending again (OpenTelemetry's is-retryable, apart
 * from the transport): timeouts, throttling and server errors; a clock-skew refusal (the agent
 * re-reads the clock and signs again); and "this identity is no longer accepted" (the runtime
 * enrolls again, then the batch is resent). Anything else would fail the same way: dead letter.
 */
import { WireErrorCodes } from '@mcpwatch/shared/protocol';

/** Answers that mean "this identity is no longer accepted": enroll again, then resend. */
export const REENROLL_CODES: ReadonlySet<string> = new Set([WireErrorCodes.unknownAgent, WireErrorCodes.certExpired]);

/** true when a batch refused with HTTP `status` and wire `code` may succeed when sent again. */
export function isRetryableAnswer(status: number, code: string | undefined): boolean {
  return status === 408 || status === 429 || status >= 500 || code === WireErrorCodes.timestampSkew || (code !== undefined && REENROLL_CODES.has(code));
}
