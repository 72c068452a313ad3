/**
 * The format-preserving config editor (JSON/JSONC, YAML, TOML): edit a value at a key path and
 * nothing else, verified; write the result atomically keeping mode and owner. Used by containment/
 * (quarantine / restore of server entries) and by hook installation.
 */
export { ConfigEditError, editFormatOf, type EditFormat, type KeyPath } from './edit-types.js';
export { getAt, parseConfig, reinsertAt, removeAt, setAt, type RemoveResult } from './config-editor.js';
export { writeFileAtomic } from './atomic-write.js';
