/**
 * Fits a value inside the bounds of its schema, so that what an agent emits is never refused by the
 * collector for being too large (a refused batch is dead-lettered whole, losing the good events with
 * the one oversized record).
 *
 * What it does, walking the JSON Schema that TypeBox produced:
 * - a string longer than `maxLength` is cut (on a code-point boundary) and ends in `…`;
 * - an array longer than `maxItems` keeps its first `maxItems` elements;
 * - an object drops properties its closed schema does not name, and a record (`patternProperties`)
 *   keeps at most `maxProperties` entries whose names fit `propertyNames.maxLength`;
 * - a union is fitted with the first branch whose JSON type matches the value.
 * What it does not do: repair values of the wrong type, enums, patterns or minimums. Those are the
 * emitter's own fields and a test's business (the agent's tests validate its output against the
 * schemas). Pure, no I/O; it returns the input object itself when nothing had to change.
 */
import type { TSchema } from '@sinclair/typebox';
import { EVENT_DATA, type EventType, type McpEvent } from './events.js';

type JsonSchema = {
  type?: string | string[];
  maxLength?: number;
  maxItems?: number;
  maxProperties?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  patternProperties?: Record<string, JsonSchema>;
  propertyNames?: { maxLength?: number };
  anyOf?: JsonSchema[];
  const?: unknown;
};

const ELLIPSIS = '…';

function jsonTypeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(s: JsonSchema, v: unknown): boolean {
  if (s.const !== undefined) return s.const === v;
  if (s.anyOf) return s.anyOf.some((b) => typeMatches(b, v));
  if (s.type === undefined) return true;
  const t = jsonTypeOf(v);
  const types = Array.isArray(s.type) ? s.type : [s.type];
  return types.includes(t) || (t === 'integer' && types.includes('number'));
}

/** Cuts `s` to at most `max` UTF-16 code units, never splitting a surrogate pair, marked with `…`. */
export function truncateString(s: string, max: number): string {
  if (s.length <= max) return s;
  if (max <= 0) return '';
  let end = max - ELLIPSIS.length;
  if (end <= 0) return s.slice(0, max);
  const code = s.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return s.slice(0, end) + ELLIPSIS;
}

function fitObject(s: JsonSchema, v: Record<string, unknown>): Record<string, unknown> {
  const closed = s.additionalProperties === false;
  const props = s.properties ?? {};
  const pattern = s.patternProperties ? Object.values(s.patternProperties)[0] : undefined;
  const maxKey = s.propertyNames?.maxLength;
  let out: Record<string, unknown> | null = null;
  let kept = 0;
  const keys = Object.keys(v);
  for (let i = 0; i < keys.length; i += 1) {
    const k = keys[i]!;
    const child = Object.prototype.hasOwnProperty.call(props, k) ? props[k] : pattern;
    const dropped =
      (child === undefined && closed) ||
      (pattern !== undefined && child === pattern &&
        ((s.maxProperties !== undefined && kept >= s.maxProperties) || (maxKey !== undefined && k.length > maxKey)));
    if (dropped) {
      out ??= copyUpTo(v, keys, i);
      continue;
    }
    if (child === pattern) kept += 1;
    const fitted = child ? fitValue(child, v[k]) : v[k];
    if (fitted !== v[k]) out ??= copyUpTo(v, keys, i);
    if (out) out[k] = fitted;
  }
  return out ?? v;
}

function copyUpTo(v: Record<string, unknown>, keys: string[], end: number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let j = 0; j < end; j += 1) o[keys[j]!] = v[keys[j]!];
  return o;
}

function fitArray(s: JsonSchema, v: unknown[]): unknown[] {
  const src = s.maxItems !== undefined && v.length > s.maxItems ? v.slice(0, s.maxItems) : v;
  if (!s.items) return src;
  let out: unknown[] | null = src === v ? null : src;
  for (let i = 0; i < src.length; i += 1) {
    const fitted = fitValue(s.items, src[i]);
    if (fitted !== src[i]) {
      out ??= src.slice();
      out[i] = fitted;
    }
  }
  return out ?? v;
}

function fitValue(s: JsonSchema, v: unknown): unknown {
  if (s.anyOf) {
    const branch = s.anyOf.find((b) => typeMatches(b, v));
    return branch ? fitValue(branch, v) : v;
  }
  if (typeof v === 'string') return s.maxLength !== undefined ? truncateString(v, s.maxLength) : v;
  if (Array.isArray(v)) return fitArray(s, v);
  if (v !== null && typeof v === 'object') return fitObject(s, v as Record<string, unknown>);
  return v;
}

/** `value` fitted inside the bounds of `schema` (see the module header). */
export function fitToSchema<T>(schema: TSchema, value: T): T {
  return fitValue(schema as unknown as JsonSchema, value) as T;
}

/** The event with its `data` fitted inside the bounds of its type's schema. */
export function fitEvent<E extends McpEvent>(event: E): E {
  const schema = EVENT_DATA[event.type as EventType] as TSchema | undefined;
  if (!schema) return event;
  const data = fitToSchema(schema, event.data);
  return data === event.data ? event : ({ ...event, data } as E);
}
