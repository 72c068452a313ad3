/**
 * Coded errors of the agent. The agent's public functions do not throw across the boundary to
 * its host loop: they return values or report through reportError(); these classes give every
 * reported failure a stable code and a cause.
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
    super('MCPW_ERR_USAGE', message);
    this.name = 'UsageError';
  }
}
