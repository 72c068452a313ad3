/**
 * Hashing and canonical JSON. Pure functions over node:crypto; no I/O.
 */
import { createHash } from 'node:crypto';

/** SHA-256 of a string or bytes, lower-case hex. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * JSON with object keys sorted at every level, so equal values give equal strings.
 * `undefined` members are dropped as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as Record<string, unknown>).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** A short stable id: the first `length` hex chars of sha256(canonicalJson(parts)). */
export function stableId(parts: unknown, length = 32): string {
  return sha256Hex(canonicalJson(parts)).slice(0, length);
}
