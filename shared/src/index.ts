/**
 * @mcpwatch/shared: schemas (TypeBox -> JSON Schema + TS types), signing, ids, and the protocol
 * vocabulary (also alone, without the schemas, as @mcpwatch/shared/protocol). No I/O.
 */
export * from './protocol/index.js';
export * from './event-id.js';
export * from './argv.js';
export * from './signing.js';
export * from './command-signing.js';
export * from './schemas/command.js';
export * from './schemas/tool-calls.js';
export * from './schemas/server.js';
export * from './schemas/inventory.js';
export * from './schemas/events.js';
export * from './schemas/tools.js';
export * from './schemas/extensions.js';
export * from './schemas/batch.js';
export * from './schemas/fit.js';
export * from './event-builder.js';
export * from './cert-fingerprint.js';
export * from './native-rsa-signer.js';
