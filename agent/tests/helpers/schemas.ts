/** ajv validators of the shared schemas (the contract the collector checks too). */
import ajvModule from 'ajv';
import { InventoryDocument, McpEvent } from '@mcpwatch/shared';

// CommonJS packages seen from ESM: the class / function may sit on `.default`.
type AjvClass = typeof ajvModule.default;
const AjvCtor = ((ajvModule as unknown as { default?: AjvClass }).default ?? ajvModule) as AjvClass;
const ajv = new AjvCtor({ allErrors: true, strict: false });
// RFC 3339 date-time (the only format the shared schemas use).
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);

export const validateInventory = ajv.compile(InventoryDocument);
export const validateEvent = ajv.compile(McpEvent);

/** Validation errors as text (empty when valid). */
export function schemaErrors(validate: (v: unknown) => boolean, value: unknown): string {
  return validate(value) ? '' : ajv.errorsText((validate as { errors?: Parameters<typeof ajv.errorsText>[0] }).errors);
}
