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
  /** hooks/: the client's hook input was not valid JSON of its documented shape. */
  hookInputInvalid: 'MCPW_ERR_HOOK_INPUT_INVALID',
  /** hooks/: the hook input exceeded its size bound. */
  hookInputTooLarge: 'MCPW_ERR_HOOK_INPUT_TOO_LARGE',
  /** hooks/: the hook input did not arrive (end of stdin) within its time bound. */
  hookInputTimeout: 'MCPW_ERR_HOOK_INPUT_TIMEOUT',
  /** hooks/: the cached tool policy file is unreadable or not a valid ToolPolicy. */
  hookPolicyInvalid: 'MCPW_ERR_HOOK_POLICY_INVALID',
  /** hooks/: the hook journal could not be written. */
  hookJournalIo: 'MCPW_ERR_HOOK_JOURNAL_IO',
  /** hooks/: a client hook file could not be read, parsed or written. */
  hookFile: 'MCPW_ERR_HOOK_FILE',
  /** hooks/: the client has no documented hook file for that scope/OS. */
  hookUnsupported: 'MCPW_ERR_HOOK_UNSUPPORTED',
  ruleFailed: 'MCPW_ERR_RULE_FAILED',
  watch: 'MCPW_ERR_WATCH',
  watchTargets: 'MCPW_ERR_WATCH_TARGETS',
  watchLimit: 'MCPW_ERR_WATCH_LIMIT',
  watchPass: 'MCPW_ERR_WATCH_PASS',
  watchSink: 'MCPW_ERR_WATCH_SINK',
  /** A process source could not list processes (helper missing, failed, timed out or listed none). */
  processSource: 'MCPW_ERR_PROCESS_SOURCE',
  /** A socket source could not list sockets, or could not tie them to processes. */
  socketSource: 'MCPW_ERR_SOCKET_SOURCE',
  /** Host facts could not be read (the inventory keeps node:os facts). */
  hostFacts: 'MCPW_ERR_HOST_FACTS',
  /** A probe target the agent refuses to contact (remote without policy probeRemote, credentials in the URL). */
  probeTarget: 'MCPW_ERR_PROBE_TARGET',
  /** The tool pin file could not be read or written (pinning restarts from what is seen now). */
  toolPins: 'MCPW_ERR_TOOL_PINS',
  /** A client's tool cache on disk could not be read (locked, corrupt, no SQLite reader in this build). */
  toolCache: 'MCPW_ERR_TOOL_CACHE',
  /** config-edit/: the file's format has no format-preserving editor here (or the layout is one it cannot edit surgically). */
  configEditUnsupported: 'MCPW_ERR_CONFIG_EDIT_UNSUPPORTED',
  /** config-edit/: the document does not parse, or the path to edit is not in it. */
  configEditNotFound: 'MCPW_ERR_CONFIG_EDIT_NOT_FOUND',
  /** config-edit/: the edited text would not parse back to exactly the intended document; nothing written. */
  configEditUnsafe: 'MCPW_ERR_CONFIG_EDIT_UNSAFE',
  /** containment/: a command refused or failed (the reason is in command.failed). */
  containment: 'MCPW_ERR_CONTAINMENT',
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
