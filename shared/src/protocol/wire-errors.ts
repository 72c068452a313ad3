/**
 * The error codes the collector answers with over HTTP (`{ code, message }` bodies), named once for
 * both sides: the collector builds its errors from them (collector/src/errors.ts) and the agent
 * decides from them (re-enroll, fix the clock, back off). Never restate one as a string.
 */
export const WireErrorCodes = {
  config: 'MCPW_ERR_CONFIG',
  malformed: 'MCPW_ERR_MALFORMED',
  schema: 'MCPW_ERR_SCHEMA',
  contentType: 'MCPW_ERR_CONTENT_TYPE',
  signatureInvalid: 'MCPW_ERR_SIGNATURE_INVALID',
  unknownAgent: 'MCPW_ERR_UNKNOWN_AGENT',
  enrollSecretInvalid: 'MCPW_ERR_ENROLL_SECRET',
  csrInvalid: 'MCPW_ERR_CSR_INVALID',
  headerMismatch: 'MCPW_ERR_HEADER_MISMATCH',
  endpointMismatch: 'MCPW_ERR_ENDPOINT_MISMATCH',
  ca: 'MCPW_ERR_CA',
  internal: 'MCPW_ERR_INTERNAL',
  unauthorized: 'MCPW_ERR_UNAUTHORIZED',
  forbidden: 'MCPW_ERR_FORBIDDEN',
  agentRevoked: 'MCPW_ERR_AGENT_REVOKED',
  certExpired: 'MCPW_ERR_CERT_EXPIRED',
  timestampSkew: 'MCPW_ERR_TIMESTAMP_SKEW',
  seqConflict: 'MCPW_ERR_SEQ_CONFLICT',
  tooLarge: 'MCPW_ERR_TOO_LARGE',
  rateLimited: 'MCPW_ERR_RATE_LIMITED',
  overloaded: 'MCPW_ERR_OVERLOADED',
  keyReused: 'MCPW_ERR_KEY_REUSED',
  storeUnavailable: 'MCPW_ERR_STORE_UNAVAILABLE',
  notFound: 'MCPW_ERR_NOT_FOUND',
  conflict: 'MCPW_ERR_CONFLICT',
  /** A signed agent request (a command wait) sent again: its signed timestamp + seq was already used. */
  replayed: 'MCPW_ERR_REPLAYED',
  /** A batch carries a finding under a rule only the collector raises (fleet divergence, tool-call analytics). */
  reservedRule: 'MCPW_ERR_RESERVED_RULE',
} as const;
export type WireErrorCode = (typeof WireErrorCodes)[keyof typeof WireErrorCodes];
