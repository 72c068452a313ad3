/**
 * A non-2xx reply of the collector's HTTP API as its clients see it: the status and the
 * collector's coded error (`{ code, message }`). Shared by the admin CLI (admin-cli.ts, also the
 * analyst MCP server's client) and the dashboard (ui/src/api.ts, bundled for the browser): it
 * imports nothing.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** From a reply's status and parsed body; `fallback` is the message when the body names none. */
  static fromReply(status: number, body: unknown, fallback = `HTTP ${status}`): ApiError {
    const err = (body !== null && typeof body === 'object' ? body : {}) as { code?: unknown; message?: unknown };
    return new ApiError(status, typeof err.code === 'string' ? err.code : 'HTTP_ERROR', typeof err.message === 'string' ? err.message : fallback);
  }
}
