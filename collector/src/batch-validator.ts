/**
 * Schema validation of an inflated batch against the shared Batch schema, compiled once with ajv.
 *
 * Unknown properties: the shared schemas close every object agents send (`additionalProperties:
 * false`), so a property they do not name, on the batch envelope, an event envelope or anywhere in
 * an event's data, refuses the batch (MCPW_ERR_SCHEMA, 400, naming it): junk never reaches the
 * store, and a 400 is not retried. Agents emit exactly what the schemas name (their tests validate
 * their output against the same schemas); a new field is a schema version bump (DESIGN.md).
 * Every string, array and record is bounded by the shared schemas.
 *
 * Nesting depth: JSON.parse in V8 is iterative (any depth parses without a stack overflow), and
 * since every object is closed and every array typed, ajv refuses a deep value at its first level
 * without walking into it; what passes is at most as deep as the schema (about 7 levels), so
 * nothing downstream (JSON.stringify in the store, structured clone to the ingest worker) can
 * overflow the stack on a batch's content. A depth pre-scan of the text would cost about half of
 * JSON.parse per batch and guard nothing more. (The route still maps any RangeError from parsing,
 * validating or storing a batch to a 400.)
 *
 * NUL characters: valid JSON and valid by the schema, but PostgreSQL text cannot store them;
 * `hasNulEscape` + `replaceNulCharacters` turn them into U+FFFD (the route calls them).
 *
 * The shared McpEvent schema is a union of 15 event envelopes (`anyOf`). Validating that as is makes
 * ajv try every branch for every event and report the errors of all of them; here the union is
 * recompiled as a `oneOf` with ajv's `discriminator` on `type`, so each event is checked against
 * exactly its own envelope (faster, and the error names the real problem). Same schema, same
 * accepted set: the envelopes are disjoint by their `type` literal.
 */
import { _, Ajv, type ErrorObject, type KeywordCxt, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { Batch, McpEvent } from '@mcpwatch/shared';
import { Errors } from './errors.js';

type FormatsPlugin = (ajv: Ajv, formats?: string[]) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? addFormatsModule) as unknown as FormatsPlugin;

/** Plain JSON copy of a TypeBox schema, nested `$id`s removed (they repeat: ServerEntry, ...). */
function plain(schema: unknown): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
  const strip = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(strip);
    else if (v !== null && typeof v === 'object') {
      delete (v as Record<string, unknown>).$id;
      Object.values(v).forEach(strip);
    }
  };
  strip(copy);
  return copy;
}

/** The Batch schema with the event union as a discriminated oneOf. */
export function discriminatedBatchSchema(): Record<string, unknown> {
  const batch = plain(Batch);
  const events = plain(McpEvent) as { anyOf: unknown[] };
  const props = batch.properties as Record<string, Record<string, unknown>>;
  props.events = {
    ...props.events,
    items: { type: 'object', required: ['type'], discriminator: { propertyName: 'type' }, oneOf: events.anyOf },
  };
  return batch;
}

/** ajv-formats' full RFC 3339 date-time check (the reference this module must agree with). */
const fullDateTime = (() => {
  const probe = new Ajv({ strict: false });
  addFormats(probe, ['date-time'] as never);
  const f = probe.formats['date-time'] as { validate?: (s: string) => boolean } | ((s: string) => boolean);
  return typeof f === 'function' ? f : (f.validate as (s: string) => boolean);
})();

const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?Z$/;
const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Two decimal digits of `s` at `i`, or -1. */
function two(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * `YYYY-MM-DDTHH:MM:SS.sssZ` or `YYYY-MM-DDTHH:MM:SSZ` (what `toISOString()` gives) with a real
 * date and time, read by character codes: no regex match array per event. True only for strings
 * the ISO_UTC path below accepts too (anything else goes there).
 */
function isPlainUtc(s: string): boolean {
  const n = s.length;
  if (n !== 24 && n !== 20) return false;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58 || s.charCodeAt(n - 1) !== 90) return false;
  if (n === 24 && (s.charCodeAt(19) !== 46 || two(s, 20) < 0 || two(s, 21) < 0)) return false;
  const hi = two(s, 0);
  const lo = two(s, 2);
  const month = two(s, 5);
  const day = two(s, 8);
  const hour = two(s, 11);
  const minute = two(s, 14);
  const second = two(s, 17);
  if (hi < 0 || lo < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  const year = hi * 100 + lo;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && !leap ? 28 : DAYS_IN_MONTH[month]!);
}

/**
 * Whether `s` is exactly what `toISOString()` gives for its own instant (`YYYY-MM-DDTHH:MM:SS.sssZ`,
 * a real date and time, year 0000-9999): then `new Date(Date.parse(s)).toISOString() === s`, and
 * two such strings order as their instants do, so they can be compared without parsing.
 */
export function isCanonicalIsoTime(s: string): boolean {
  return s.length === 24 && isPlainUtc(s);
}

/**
 * `date-time` as ajv-formats checks it, with a fast path for what agents send (`toISOString()`:
 * UTC, `T`, `Z`). Anything the fast path does not clearly accept goes to the full check, so the
 * accepted set is exactly ajv-formats'.
 */
export function isDateTime(s: string): boolean {
  if (isPlainUtc(s)) return true;
  const m = ISO_UTC.exec(s);
  if (m) {
    const month = +m[2]!;
    const day = +m[3]!;
    const year = +m[1]!;
    const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
    if (
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      day <= (month === 2 && !leap ? 28 : DAYS_IN_MONTH[month]!) &&
      +m[4]! <= 23 &&
      +m[5]! <= 59 &&
      +m[6]! <= 59
    ) {
      return true;
    }
  }
  return fullDateTime(s);
}

/** Keywords that apply to one JSON type only (a null passes them): what a nullable branch may hold. */
const TYPE_ONLY_KEYWORDS: Readonly<Record<string, ReadonlySet<string>>> = {
  string: new Set(['type', 'maxUnits', 'maxLength', 'minLength', 'pattern', 'format']),
  number: new Set(['type', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf']),
  integer: new Set(['type', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf']),
  boolean: new Set(['type']),
};

/** A constant of `type` (or of any type when there is none): `{const}` then means the same as `{type, const}`. */
function constOfType(c: unknown, type: unknown): boolean {
  if (c !== null && typeof c === 'object') return false;
  if (type === undefined) return true;
  if (type === 'integer') return Number.isInteger(c);
  return type === (c === null ? 'null' : typeof c);
}

/**
 * `{anyOf: [...]}` as one keyword set, or null when it has no such form. ajv checks an anyOf by
 * trying each branch and building an error object for every branch that fails (a nullable string
 * holding null, a `v` of 2 against `const 1`), which costs an allocation per value; these forms check
 * the same thing without one:
 * - `[{type: T, ...keywords of T only}, {type: 'null'}]` (either order) -> `{type: [T, 'null'], ...}`;
 * - `[{const: c1}, {const: c2}, ...]` (each with at most a `type` that c already has) -> `{enum: [c1, c2, ...]}`.
 * What the result accepts, the anyOf accepts (the fast validator may only ever be stricter).
 */
export function mergedAnyOf(node: Record<string, unknown>): Record<string, unknown> | null {
  const branches = node.anyOf;
  if (!Array.isArray(branches) || Object.keys(node).length !== 1 || branches.length < 2) return null;
  const objects = branches.filter((b): b is Record<string, unknown> => b !== null && typeof b === 'object' && !Array.isArray(b));
  if (objects.length !== branches.length) return null;
  const isNull = (b: Record<string, unknown>): boolean => b.type === 'null' && Object.keys(b).length === 1;
  if (objects.length === 2 && objects.filter(isNull).length === 1) {
    const other = objects.find((b) => !isNull(b))!;
    const allowed = typeof other.type === 'string' ? TYPE_ONLY_KEYWORDS[other.type] : undefined;
    if (allowed && Object.keys(other).every((k) => allowed.has(k))) return { ...other, type: [other.type, 'null'] };
  }
  if (objects.every((b) => 'const' in b && Object.keys(b).every((k) => k === 'const' || k === 'type') && constOfType(b.const, b.type))) {
    return { enum: objects.map((b) => b.const) };
  }
  return null;
}

/**
 * The schema for the fast validator (see `validateBatch`). Accepts a subset of what the Batch
 * schema accepts (in practice the same set, but strings bounded in UTF-16 units), checked faster:
 * - every `maxLength` becomes `maxUnits`, the same bound on `s.length` (UTF-16 units) instead of
 *   ajv's code point count, which walks every string for surrogate pairs (ucs2length: ~10 % of
 *   validation's CPU in a profile). `minLength` stays in code points (a unit count could let a
 *   7-code-point string with a surrogate pair pass a `minLength: 8`);
 * - anyOf forms ajv checks by building error objects are one keyword set (mergedAnyOf);
 * - each event envelope, and each object that array items must be, is its own `$defs` entry, which
 *   the fast validator compiles as a function of its own (ajv option inlineRefs: false). Inlined,
 *   the whole Batch schema was ONE generated function of ~1 MB of source, far over what V8
 *   optimizes (TurboFan skips functions past ~60 KB of bytecode), so every batch ran it in the
 *   interpreter: 259 -> ~36 µs per 100-event batch measured with these small functions.
 */
export function fastBatchSchema(): Record<string, unknown> {
  return splitBatchSchema(discriminatedBatchSchema(), (o) => {
    // Also where the type is implied (propertyNames: keys are strings); like maxLength, maxUnits
    // applies to strings only.
    if (typeof o.maxLength === 'number') {
      o.maxUnits = o.maxLength;
      delete o.maxLength;
    }
    return mergedAnyOf(o) ?? o;
  });
}

/**
 * The Batch schema for the exact validator: the same keywords, split into `$defs` like the fast
 * one (see fastBatchSchema) so that a refused batch, which both validators check, is not checked
 * by a ~1 MB interpreted function either. The error paths (instancePath) and messages are the same.
 */
export function exactBatchSchema(): Record<string, unknown> {
  return splitBatchSchema(discriminatedBatchSchema(), (o) => o);
}

/**
 * `schema` with each event envelope of the discriminated union and each object-typed array item
 * moved to `$defs` (compiled as functions of their own with inlineRefs: false), after `rewrite`
 * of every object, bottom up.
 */
function splitBatchSchema(schema: Record<string, unknown>, rewrite: (o: Record<string, unknown>) => Record<string, unknown>): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  const hoist = (sub: unknown): Record<string, unknown> => {
    const name = `s${Object.keys(defs).length}`;
    defs[name] = sub;
    return { $ref: `#/$defs/${name}` };
  };
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const copy: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) copy[k] = walk(x);
    const o = rewrite(copy);
    const items = o.items as Record<string, unknown> | undefined;
    if (items !== null && typeof items === 'object' && !Array.isArray(items) && items.type === 'object' && items.properties !== undefined) o.items = hoist(items);
    return o;
  };
  const out = walk(schema) as Record<string, unknown>;
  const events = (out.properties as Record<string, Record<string, unknown>>).events!;
  const eventItems = (events.items as { $ref?: string }).$ref ? (defs[(events.items as { $ref: string }).$ref.slice('#/$defs/'.length)] as Record<string, unknown>) : (events.items as Record<string, unknown>);
  // Each event envelope of the discriminated union (the discriminator reads `type` through the $ref).
  eventItems.oneOf = (eventItems.oneOf as unknown[]).map(hoist);
  out.$defs = defs;
  return out;
}

let compiled: { fast: ValidateFunction; exact: ValidateFunction } | undefined;

function newAjv(opts: { inlineRefs?: boolean } = {}): Ajv {
  // No removeAdditional / coercion: the batch is validated exactly as signed and refused whole.
  const ajv = new Ajv({ discriminator: true, allErrors: false, strict: false, ...opts });
  addFormats(ajv);
  ajv.addFormat('date-time', { type: 'string', validate: isDateTime });
  return ajv;
}

/** The two compiled validators (see `validateBatch`); compiled on first use. Exported for tests. */
export function batchValidators(): { fast: ValidateFunction; exact: ValidateFunction } {
  if (!compiled) {
    const fastAjv = newAjv({ inlineRefs: false });
    // Inline code, like ajv's own maxLength with its (deprecated) `unicode: false`.
    fastAjv.addKeyword({ keyword: 'maxUnits', type: 'string', schemaType: 'number', code: (cxt: KeywordCxt) => cxt.fail(_`${cxt.data}.length > ${cxt.schema as number}`) });
    compiled = { fast: fastAjv.compile(fastBatchSchema()), exact: newAjv({ inlineRefs: false }).compile(exactBatchSchema()) };
  }
  return compiled;
}

function describe(e: ErrorObject): string {
  const where = e.instancePath === '' ? 'batch' : e.instancePath;
  const extra = e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : '';
  return `${where} ${e.message ?? e.keyword}${extra}`;
}

const NUL_ESCAPE = Buffer.from('\\u0000');
const BACKSLASH = 0x5c;

/**
 * Whether the JSON text holds a `\u0000` escape (the only way JSON carries a NUL character; an
 * escaped backslash followed by `u0000` is not one). A native search: near free for batches
 * without one.
 */
export function hasNulEscape(json: Buffer): boolean {
  for (let i = json.indexOf(NUL_ESCAPE); i >= 0; i = json.indexOf(NUL_ESCAPE, i + 1)) {
    let backslashes = 1;
    while (i - backslashes >= 0 && json[i - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 1) return true;
  }
  return false;
}

/**
 * Replaces NUL characters in every string of a validated batch with U+FFFD, in place. PostgreSQL
 * text cannot hold NUL (the insert fails, which would look like an outage and be retried forever),
 * and a NUL planted in a config must not make an endpoint's batches unstorable: the batch is kept,
 * on both engines alike, with the character marked as replaced. Recursion is bounded by the
 * schema's depth (the batch is validated first).
 */
export function replaceNulCharacters(value: unknown): unknown {
  if (typeof value === 'string') return value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = replaceNulCharacters(value[i]);
  } else if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      const v = replaceNulCharacters(o[k]);
      if (k.includes('\u0000')) {
        delete o[k];
        o[k.replaceAll('\u0000', '\uFFFD')] = v;
      } else {
        o[k] = v;
      }
    }
  }
  return value;
}

/** Compiles the validators now (at startup) instead of on the first batch. */
export function warmBatchValidator(): void {
  batchValidators();
}

/**
 * Returns `doc` typed as a Batch, or throws MCPW_ERR_SCHEMA naming the first violation.
 *
 * Two validators of the same schema: a fast one that bounds strings by UTF-16 units (`s.length`
 * instead of walking every string for surrogate pairs: fastBatchSchema), and the exact one (code
 * points, as JSON Schema counts them). UTF-16 units are never fewer than code points, so a batch
 * the fast one accepts, the exact one accepts too; anything the fast one refuses is decided by the
 * exact one, whose first error is the one reported. The accepted set and the error messages are
 * exactly the exact validator's; a refused batch costs two validations (bad input only).
 */
export function validateBatch(doc: unknown): Batch {
  const { fast, exact } = batchValidators();
  if (fast(doc)) return doc as Batch;
  if (!exact(doc)) {
    const first = exact.errors?.[0];
    throw Errors.schema(`batch does not match the schema: ${first ? describe(first) : 'invalid'}`);
  }
  return doc as Batch;
}
