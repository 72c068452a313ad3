/**
 * Coded errors of the collector, built in one place (fastify's FST_ERR_* habit). Each has a stable
 * code, the HTTP status it maps to where it crosses HTTP, and a message a person can act on.
 * Add new codes here; never throw bare Errors across module boundaries. Codes that cross HTTP are
 * named in @mcpwatch/shared (WireErrorCodes), which the agent reads too; the outlets' own codes
 * (SinkErrors, below) never cross HTTP.
 */
import { WireErrorCodes } from '@mcpwatch/shared';

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
  config: define(WireErrorCodes.config, 500, 'invalid configuration'),
  malformed: define(WireErrorCodes.malformed, 400, 'malformed request'),
  schema: define(WireErrorCodes.schema, 400, 'request does not match the schema'),
  contentType: define(WireErrorCodes.contentType, 415, 'unsupported content type'),
  signatureInvalid: define(WireErrorCodes.signatureInvalid, 401, 'batch signature does not verify'),
  unknownAgent: define(WireErrorCodes.unknownAgent, 401, 'unknown agent: enroll again'),
  enrollSecretInvalid: define(WireErrorCodes.enrollSecretInvalid, 401, 'enroll secret is not valid'),
  csrInvalid: define(WireErrorCodes.csrInvalid, 400, 'certificate signing request is not valid'),
  headerMismatch: define(WireErrorCodes.headerMismatch, 400, 'batch headers do not match the batch body'),
  endpointMismatch: define(WireErrorCodes.endpointMismatch, 400, 'an event names an endpoint that is not this agent\'s'),
  reservedRule: define(WireErrorCodes.reservedRule, 400, 'a finding names a rule only the collector raises'),
  ca: define(WireErrorCodes.ca, 500, 'certificate authority unavailable'),
  internal: define(WireErrorCodes.internal, 500, 'internal error'),
  unauthorized: define(WireErrorCodes.unauthorized, 401, 'missing or invalid bearer token'),
  forbidden: define(WireErrorCodes.forbidden, 403, 'token lacks the scope for this route'),
  agentRevoked: define(WireErrorCodes.agentRevoked, 403, 'agent is revoked'),
  certExpired: define(WireErrorCodes.certExpired, 401, 'agent certificate has expired: enroll again'),
  timestampSkew: define(WireErrorCodes.timestampSkew, 401, 'batch timestamp is outside the accepted window; check the clock'),
  seqConflict: define(WireErrorCodes.seqConflict, 409, 'a different batch was already accepted under this seq'),
  tooLarge: define(WireErrorCodes.tooLarge, 413, 'body too large'),
  rateLimited: define(WireErrorCodes.rateLimited, 429, 'too many requests'),
  overloaded: define(WireErrorCodes.overloaded, 503, 'the collector is overloaded; retry later'),
  keyReused: define(WireErrorCodes.keyReused, 409, 'this public key is already enrolled under too many agent ids; make a new key pair'),
  storeUnavailable: define(WireErrorCodes.storeUnavailable, 503, 'store unavailable'),
  notFound: define(WireErrorCodes.notFound, 404, 'not found'),
  conflict: define(WireErrorCodes.conflict, 409, 'a record with this name already exists'),
  replayed: define(WireErrorCodes.replayed, 409, 'this signed request was already used: sign a new one (a fresh timestamp and seq)'),
} as const;

export function isCollectorError(e: unknown): e is CollectorError {
  return e instanceof CollectorError;
}

/**
 * Coded errors of the outlets (sinks and outbox drainers). They never cross HTTP (status 500 is
 * nominal); they travel inside SendResult values, into logs and into the outbox rows' last-error
 * column.
 */
export const SinkErrors = {
  /** The service could not be reached (network, DNS, 5xx). Retryable. */
  unavailable: define('MCPW_ERR_SINK_UNAVAILABLE', 500, 'the sink service could not be reached; rows stay in the outbox'),
  /** The service throttled the call (ProvisionedThroughputExceeded, TooManyRequests). Retryable. */
  throttled: define('MCPW_ERR_SINK_THROTTLED', 500, 'the sink service throttled the call; rows stay in the outbox'),
  /** Some records/findings of an accepted call failed. Those rows are retried. */
  partial: define('MCPW_ERR_SINK_PARTIAL', 500, 'the sink service rejected some records; they stay in the outbox'),
  /** The service rejected the request as invalid; resending the same bytes fails again. */
  rejected: define('MCPW_ERR_SINK_REJECTED', 500, 'the sink service rejected the request as invalid; rows stay in the outbox'),
  /** A sink is configured wrongly (missing account id, unknown sink name). */
  config: define('MCPW_ERR_SINK_CONFIG', 500, 'sink misconfigured'),
} as const;
