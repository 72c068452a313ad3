/**
 * Normalization of raw server entries (any client dialect) into ServerEntry records that carry
 * no secret values. See normalize-entry.ts for the contract.
 */
export { normalizeEntry, type NormalizeResult } from './normalize-entry.js';
export { readEntryFields, type EntryFields } from './entry-fields.js';
export { identifyLaunch, parseImageRef, parseNpmSpec, parsePypiSpec, type LaunchIdentity } from './package-identity.js';
export { resolveTransport, transportFromName, transportFromUrl } from './transport.js';
export { commandLineSpans, executableBaseName, splitCommandField, splitCommandLine, type WordSpan } from './command-line.js';
