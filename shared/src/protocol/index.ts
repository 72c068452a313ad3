/**
 * @mcpwatch/shared/protocol: the vocabulary both sides of the wire use, without the schemas
 * (no TypeBox is loaded: a `scan` starts without it). Hashes and ids, severities, constants,
 * terminal-safe text, wire error codes, SendResult, the one backoff and the one URL redactor.
 */
export * from './hash.js';
export * from './ids.js';
export * from './severity.js';
export * from './constants.js';
export * from './terminal-text.js';
export * from './wire-errors.js';
export * from './send-result.js';
export * from './backoff.js';
export * from './hosts.js';
export * from './redact-url.js';
