/**
 * Coded errors of the agent pipeline (spool, shipper, enrollment, config). Each extends AgentError
 * with a stable MCPW_ERR_* code and keeps the underlying failure as `cause`.
 */
import { AgentError } from '../errors.js';

export const PipelineCodes = {
  spoolIo: 'MCPW_ERR_SPOOL_IO',
  spoolRecordTooLarge: 'MCPW_ERR_SPOOL_RECORD_TOO_LARGE',
  spoolClosed: 'MCPW_ERR_SPOOL_CLOSED',
  insecureUrl: 'MCPW_ERR_INSECURE_URL',
  pinMismatch: 'MCPW_ERR_CERT_PIN_MISMATCH',
  /** The configured pin is the collector's server certificate (renewed), not its CA. */
  pinIsLeaf: 'MCPW_ERR_CERT_PIN_IS_LEAF',
  network: 'MCPW_ERR_NETWORK',
  httpStatus: 'MCPW_ERR_HTTP_STATUS',
  clockSkew: 'MCPW_ERR_CLOCK_SKEW',
  enroll: 'MCPW_ERR_ENROLL',
  notEnrolled: 'MCPW_ERR_NOT_ENROLLED',
  deadLetter: 'MCPW_ERR_DEAD_LETTER',
  stateCorrupt: 'MCPW_ERR_STATE_CORRUPT',
  config: 'MCPW_ERR_CONFIG_VALUE',
} as const;
export type PipelineCode = (typeof PipelineCodes)[keyof typeof PipelineCodes];

/** A pipeline failure with a stable code; `status` is the HTTP status when one was received. */
export class PipelineError extends AgentError {
  readonly status: number | undefined;
  constructor(code: PipelineCode, message: string, options?: { cause?: unknown; status?: number }) {
    super(code, message, options);
    this.name = 'PipelineError';
    this.status = options?.status;
  }
}

/** A one-line description of any thrown value, for logs and the heartbeat's lastError. */
export function describeError(e: unknown): string {
  if (e instanceof AgentError) return `${e.code}: ${e.message}`;
  if (e instanceof Error) return `${(e as NodeJS.ErrnoException).code ?? e.name}: ${e.message}`;
  return String(e);
}
