/**
 * Constants of the protocol both sides use: the placeholder that replaces a secret value and the
 * inventory document's schema id. Plain values, no TypeBox (a scan loads them without the schemas).
 */

/** Placeholder that replaces a secret value wherever one was found. */
export const REDACTED = '[REDACTED]';

/** `schema` field of an InventoryDocument. */
export const INVENTORY_SCHEMA_ID = 'mcpwatch.inventory/v1';
