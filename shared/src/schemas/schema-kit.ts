/**
 * The building blocks of every schema file: a closed object's options, bounded and nullable
 * strings, SHA-256 hex, and a union of string literals from a list. Imports nothing but TypeBox,
 * so every schema file can use it without an import cycle.
 */
import { Type, type SchemaOptions, type TLiteral, type TUnion } from '@sinclair/typebox';

/**
 * Objects agents send name every property they may hold (`additionalProperties: false`): the
 * collector refuses a batch holding a property the schema does not name, and the agent's tests
 * fail when it emits one. Every string, array and record is bounded; the limits are generous for
 * real inventories (tens of thousands of servers, processes, findings per endpoint).
 */
export const CLOSED_OBJECT = { additionalProperties: false } as const;

/** A string of at most `max` characters. */
export const Str = (max = 1024) => Type.String({ maxLength: max });

/** A string of at most `max` characters, or null. */
export const NullableStr = (max = 1024) => Type.Union([Type.String({ maxLength: max }), Type.Null()]);

/** A SHA-256 digest as 64 lower-case hex digits. */
export const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });

/** One of the listed strings (a union of literals; its static type is the list's element type). */
export function OneOf<const T extends readonly string[]>(values: T, options?: SchemaOptions): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(values.map((v) => Type.Literal(v)) as TLiteral<T[number]>[], options);
}
