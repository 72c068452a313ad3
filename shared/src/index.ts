/**
 * @mcpwatch/shared: schemas (TypeBox -> JSON Schema + TS types), signing, ids. No I/O.
 */
export * from './hash.js';
export * from './ids.js';
export * from './signing.js';
export * from './schemas/server.js';
export * from './schemas/inventory.js';
export * from './schemas/events.js';
export * from './schemas/batch.js';
export * from './schemas/fit.js';
export * from './severity.js';
export * from './event-builder.js';
export * from './cert-fingerprint.js';
export * from './native-rsa-signer.js';
export * from './terminal-text.js';
