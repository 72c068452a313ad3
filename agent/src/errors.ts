/**
 * Coded errors of the agent. The agent's public functions do not throw across the boundary to
 * its host loop: they return values or report through reportError(); these classes give every
 * reported failure a stable code and a cause.
 *
 * Every code of the agent is in AgentCodes below (one table, one style: MCPW_ERR_*). Codes the
 * collector answers with over the wire are in @mcpwatch/shared's WireErrorCodes.
 */
export class AgentError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'AgentError';
    this.code = code;
  }
}

/** Usage errors of the CLI: exit code 2 with the message. */
export class UsageError extends AgentError {
  constructor(message: string) {
    super(AgentCodes.usage, message);
    this.name = 'UsageError';
  }
}

export const AgentCodes = {
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
  usage: 'MCPW_ERR_USAGE',
  ruleFailed: 'MCPW_ERR_RULE_FAILED',
  watch: 'MCPW_ERR_WATCH',
  watchTargets: 'MCPW_ERR_WATCH_TARGETS',
  watchLimit: 'MCPW_ERR_WATCH_LIMIT',
  watchPass: 'MCPW_ERR_WATCH_PASS',
  watchSink: 'MCPW_ERR_WATCH_SINK',
} as const;
export type AgentCode = (typeof AgentCodes)[keyof typeof AgentCodes];

/** A pipeline failure with a stable code; `status` is the HTTP status when one was received. */
export class PipelineError extends AgentError {
  readonly status: number | undefined;
  constructor(code: AgentCode, message: string, options?: { cause?: unknown; status?: number }) {
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
