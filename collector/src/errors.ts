/**
 * Coded errors of the collector, built in one place (fastify's FST_ERR_* habit). Each has a stable
 * code, the HTTP status it maps to where it crosses HTTP, and a message a person can act on.
 * Add new codes here; never throw bare Errors across module boundaries.
 */
export class CollectorError extends Error {
  readonly code: string;
  readonly statusCode: number;
  /** Seconds for a Retry-After header (429/503). */
  readonly retryAfterS?: number;
  constructor(code: string, statusCode: number, message: string, options?: { cause?: unknown; retryAfterS?: number }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'CollectorError';
    this.code = code;
    this.statusCode = statusCode;
    if (options?.retryAfterS !== undefined) this.retryAfterS = options.retryAfterS;
  }
}

type Factory = (message?: string, options?: { cause?: unknown; retryAfterS?: number }) => CollectorError;

function define(code: string, statusCode: number, defaultMessage: string): Factory & { code: string } {
  const f = ((message?: string, options?: { cause?: unknown; retryAfterS?: number }) =>
    new CollectorError(code, statusCode, message ?? defaultMessage, options)) as Factory & { code: string };
  f.code = code;
  return f;
}

export const Errors = {
  config: define('MCPW_ERR_CONFIG', 500, 'invalid configuration'),
  malformed: define('MCPW_ERR_MALFORMED', 400, 'malformed request'),
  schema: define('MCPW_ERR_SCHEMA', 400, 'request does not match the schema'),
  contentType: define('MCPW_ERR_CONTENT_TYPE', 415, 'unsupported content type'),
  signatureInvalid: define('MCPW_ERR_SIGNATURE_INVALID', 401, 'batch signature does not verify'),
  unknownAgent: define('MCPW_ERR_UNKNOWN_AGENT', 401, 'unknown agent: enroll again'),
  enrollSecretInvalid: define('MCPW_ERR_ENROLL_SECRET', 401, 'enroll secret is not valid'),
  csrInvalid: define('MCPW_ERR_CSR_INVALID', 400, 'certificate signing request is not valid'),
  headerMismatch: define('MCPW_ERR_HEADER_MISMATCH', 400, 'batch headers do not match the batch body'),
  endpointMismatch: define('MCPW_ERR_ENDPOINT_MISMATCH', 400, 'an event names an endpoint that is not this agent\'s'),
  ca: define('MCPW_ERR_CA', 500, 'certificate authority unavailable'),
  internal: define('MCPW_ERR_INTERNAL', 500, 'internal error'),
  unauthorized: define('MCPW_ERR_UNAUTHORIZED', 401, 'missing or invalid bearer token'),
  forbidden: define('MCPW_ERR_FORBIDDEN', 403, 'token lacks the scope for this route'),
  agentRevoked: define('MCPW_ERR_AGENT_REVOKED', 403, 'agent is revoked'),
  certExpired: define('MCPW_ERR_CERT_EXPIRED', 401, 'agent certificate has expired: enroll again'),
  timestampSkew: define('MCPW_ERR_TIMESTAMP_SKEW', 401, 'batch timestamp is outside the accepted window; check the clock'),
  seqConflict: define('MCPW_ERR_SEQ_CONFLICT', 409, 'a different batch was already accepted under this seq'),
  tooLarge: define('MCPW_ERR_TOO_LARGE', 413, 'body too large'),
  rateLimited: define('MCPW_ERR_RATE_LIMITED', 429, 'too many requests'),
  overloaded: define('MCPW_ERR_OVERLOADED', 503, 'the collector is overloaded; retry later'),
  keyReused: define('MCPW_ERR_KEY_REUSED', 409, 'this public key is already enrolled under too many agent ids; make a new key pair'),
  storeUnavailable: define('MCPW_ERR_STORE_UNAVAILABLE', 503, 'store unavailable'),
  notFound: define('MCPW_ERR_NOT_FOUND', 404, 'not found'),
  conflict: define('MCPW_ERR_CONFLICT', 409, 'a record with this name already exists'),
} as const;

export function isCollectorError(e: unknown): e is CollectorError {
  return e instanceof CollectorError;
}
