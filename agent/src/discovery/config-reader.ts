/**
 * Reading and parsing config files: JSON / JSONC (comments, trailing commas), YAML and TOML.
 *
 * Contract: never throws. A file that does not exist is `missing` (not an error). A file that
 * exists but cannot be used yields exactly one ConfigError with a stable code:
 *   unreadable  - stat/open/read failed (permissions, a directory where a file was expected)
 *   too-large   - larger than maxFileBytes (checked by stat before reading, and again while reading)
 *   binary      - a NUL byte in the first 8 KiB (after any UTF-16 byte-order mark is honoured)
 *   parse       - syntax error, with 1-based line and column where the parser knows them
 *   not-object  - parsed, but the top level is not an object (e.g. a bare string or array)
 * A UTF-8 BOM is stripped; UTF-16 files with a BOM are decoded; CRLF line endings are fine.
 * An empty (or whitespace-only) file is an empty document: no servers, no error.
 */
import { open, stat as fsStat } from 'node:fs/promises';
import type { ConfigError } from '@mcpwatch/shared';
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { parse as parseToml, TomlError } from 'smol-toml';
import { parseDocument } from 'yaml';
import type { ConfigFormat } from '../types.js';

/** Default upper bound on one config file's size. */
export const DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024;
const BINARY_SNIFF_BYTES = 8192;
/** YAML alias expansion bound (a "billion laughs" file is refused, not expanded). */
const YAML_MAX_ALIAS_COUNT = 1000;

export type ParseResult = { ok: true; document: Record<string, unknown> } | { ok: false; error: ConfigError };

export interface FileStat {
  mode: number;
  uid: number;
  size: number;
  mtimeMs: number;
}

export type ReadResult =
  | { status: 'missing' }
  | { status: 'ok'; document: Record<string, unknown>; stat: FileStat }
  | { status: 'error'; error: ConfigError; stat: FileStat | null };

export interface ReadOptions {
  format: ConfigFormat;
  /** Refuse files larger than this (default 5 MiB). */
  maxFileBytes?: number;
  /** Catalog client id recorded on errors. */
  client?: string | null;
}

function configError(path: string, code: string, reason: string, extra: Partial<ConfigError> = {}): ConfigError {
  return { path, code, reason: reason.slice(0, 2048), line: null, column: null, ...extra };
}

/** 1-based line and column of a character offset (CRLF counts as one line break). */
export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function topLevel(document: unknown, path: string, client: string | null): ParseResult {
  if (document === undefined || document === null) return { ok: true, document: {} };
  if (!isPlainObject(document)) {
    const kind = Array.isArray(document) ? 'an array' : `a ${typeof document}`;
    return { ok: false, error: configError(path, 'not-object', `top level is ${kind}, not an object`, { client }) };
  }
  return { ok: true, document };
}

/**
 * Parses config text of the given format. `path` is only used to label errors.
 * @returns the top-level object, or a coded ConfigError (parse | not-object).
 */
export function parseConfigText(text: string, format: ConfigFormat, path: string, client: string | null = null): ParseResult {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '') return { ok: true, document: {} };
  if (format === 'json' || format === 'jsonc') {
    const errors: ParseError[] = [];
    const document: unknown = parseJsonc(body, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: true });
    const first = errors[0];
    if (first) {
      const { line, column } = lineColumnAt(body, first.offset);
      const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
      return {
        ok: false,
        error: configError(path, 'parse', `invalid JSON: ${printParseErrorCode(first.error)} at line ${line}, column ${column}${more}`, { client, line, column }),
      };
    }
    return topLevel(document, path, client);
  }
  if (format === 'yaml') {
    const doc = parseDocument(body, { uniqueKeys: false, prettyErrors: false });
    const first = doc.errors[0];
    if (first) {
      const { line, column } = lineColumnAt(body, first.pos[0]);
      return { ok: false, error: configError(path, 'parse', `invalid YAML: ${first.message.split('\n')[0]} at line ${line}, column ${column}`, { client, line, column }) };
    }
    try {
      return topLevel(doc.toJS({ maxAliasCount: YAML_MAX_ALIAS_COUNT }), path, client);
    } catch (err) {
      return { ok: false, error: configError(path, 'parse', `invalid YAML: ${(err as Error).message}`, { client }) };
    }
  }
  try {
    return topLevel(parseToml(body), path, client);
  } catch (err) {
    if (err instanceof TomlError) {
      return {
        ok: false,
        error: configError(path, 'parse', `invalid TOML: ${err.message.split('\n')[0]}`, { client, line: err.line, column: err.column }),
      };
    }
    return { ok: false, error: configError(path, 'parse', `invalid TOML: ${(err as Error).message}`, { client }) };
  }
}

/** Decodes file bytes: UTF-16 LE/BE with a BOM, else UTF-8 (a UTF-8 BOM is left for the parser to strip). */
function decode(bytes: Buffer): string {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  return new TextDecoder('utf-8').decode(bytes);
}

function hasUtf16Bom(bytes: Buffer): boolean {
  return bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/**
 * Stats, bounds-checks, reads and parses one config file. Never throws.
 * @returns missing | ok (document + stat) | error (one ConfigError + stat when known).
 */
export async function readConfigFile(path: string, opts: ReadOptions): Promise<ReadResult> {
  const client = opts.client ?? null;
  const maxBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  let st: FileStat;
  try {
    const s = await fsStat(path);
    st = { mode: s.mode, uid: s.uid, size: s.size, mtimeMs: s.mtimeMs };
    if (s.isDirectory()) return { status: 'error', error: configError(path, 'unreadable', 'is a directory, expected a file', { client }), stat: st };
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { status: 'missing' };
    return { status: 'error', error: configError(path, 'unreadable', `cannot stat: ${code ?? (err as Error).message}`, { client }), stat: null };
  }
  if (st.size > maxBytes) {
    return { status: 'error', error: configError(path, 'too-large', `file is ${st.size} bytes, over the ${maxBytes}-byte limit; not read`, { client }), stat: st };
  }
  let bytes: Buffer;
  try {
    bytes = await readBounded(path, maxBytes);
  } catch (err) {
    if (err instanceof TooLargeWhileReading) {
      return { status: 'error', error: configError(path, 'too-large', `file grew past the ${maxBytes}-byte limit while being read`, { client }), stat: st };
    }
    return { status: 'error', error: configError(path, 'unreadable', `cannot read: ${errnoCode(err) ?? (err as Error).message}`, { client }), stat: st };
  }
  if (!hasUtf16Bom(bytes) && bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) {
    return { status: 'error', error: configError(path, 'binary', 'file contains NUL bytes: binary, not a text config', { client }), stat: st };
  }
  const parsed = parseConfigText(decode(bytes), opts.format, path, client);
  return parsed.ok ? { status: 'ok', document: parsed.document, stat: st } : { status: 'error', error: parsed.error, stat: st };
}

class TooLargeWhileReading extends Error {}

/** Reads at most maxBytes (+1 to detect growth) through one file handle. */
async function readBounded(path: string, maxBytes: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    const chunkSize = 64 * 1024;
    for (;;) {
      const buf = Buffer.allocUnsafe(chunkSize);
      const { bytesRead } = await fh.read(buf, 0, chunkSize, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw new TooLargeWhileReading();
      chunks.push(buf.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks, total);
  } finally {
    await fh.close();
  }
}
