/**
 * Reading and parsing config files: JSON / JSONC (comments, trailing commas), YAML, TOML and
 * JetBrains AI Assistant's options XML (read into the mcpServers form by jetbrains-xml.ts).
 *
 * Contract: never throws, never hangs. A file that does not exist is `missing` (not an error). A
 * file that exists but cannot be used yields exactly one ConfigError with a stable code:
 *   unreadable   - stat/open/read failed (permissions), or the path is not a regular file (a
 *                  directory, FIFO, socket or device: never opened for reading, so a named pipe
 *                  cannot block the agent; opened O_NONBLOCK and fstat'ed, so a swap between the
 *                  check and the open cannot either)
 *   read-timeout - stat + open + read took longer than readTimeoutMs (a hung network mount)
 *   too-large    - larger than maxFileBytes (checked by stat before reading, and again while
 *                  reading), or YAML aliases that expand the document past its size bound
 *   too-deep     - nested deeper than MAX_NESTING_DEPTH (checked by a pre-scan before a JSON
 *                  parser recurses; a stack overflow in any parser is caught and reported so too)
 *   binary       - a NUL byte in the first 8 KiB (after any UTF-16 byte-order mark is honoured)
 *   parse        - syntax error, with 1-based line and column where the parser knows them
 *   not-object   - parsed, but the top level is not an object (e.g. a bare string or array)
 * A UTF-8 BOM is stripped; UTF-16 files with a BOM are decoded; CRLF line endings are fine.
 * An empty (or whitespace-only) file is an empty document: no servers, no error.
 *
 * Documents are trees of null-prototype objects, arrays and scalars (every format): a key such as
 * `__proto__` or `constructor` is an ordinary own key (a server of that name is kept), and no
 * parsed key can reach Object.prototype. They are trees, not graphs (YAML aliases are expanded,
 * within the size bound), at most MAX_NESTING_DEPTH deep, so consumers may walk them recursively.
 */
import { constants as fsConstants } from 'node:fs';
import { open, stat as fsStat, type FileHandle } from 'node:fs/promises';
import type { ConfigError } from '@mcpwatch/shared';
import { printParseErrorCode, visit as visitJsonc, type ParseErrorCode } from 'jsonc-parser';
// YAML and TOML parsers are loaded on the first file of that format (a scan of a home without any
// starts without them; yaml alone costs about 50 ms of start-up).
type YamlModule = typeof import('yaml');
type TomlModule = typeof import('smol-toml');
type XmlModule = typeof import('./jetbrains-xml.js');
let yamlModule: Promise<YamlModule> | undefined;
let tomlModule: Promise<TomlModule> | undefined;
let xmlModule: Promise<XmlModule> | undefined;
import type { ConfigFormat } from '../types.js';

/** Default upper bound on one config file's size. */
export const DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024;
/** Default upper bound on the time one file's stat + open + read may take. */
export const DEFAULT_READ_TIMEOUT_MS = 10_000;
/** Deepest nesting of objects/arrays accepted in a config document (real configs stay under 20). */
export const MAX_NESTING_DEPTH = 256;
/**
 * Bound on a document's expanded size (roughly its JSON length): this many times the text's
 * length, and at least MIN_EXPANDED_BYTES. Only YAML aliases can make a document much larger
 * than its text.
 */
const EXPANSION_FACTOR = 4;
const MIN_EXPANDED_BYTES = 2 * 1024 * 1024;
const BINARY_SNIFF_BYTES = 8192;
/** YAML alias count bound (yaml's own check; the size bound above is what stops a bomb). */
const YAML_MAX_ALIAS_COUNT = 1000;
/** O_NONBLOCK where the platform has it: opening a FIFO then returns at once instead of waiting for a writer. */
const OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0);

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
  /** Give up on a file whose stat + open + read takes longer (default 10 s). */
  readTimeoutMs?: number;
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
  if (document === undefined || document === null) return { ok: true, document: Object.create(null) as Record<string, unknown> };
  if (!isPlainObject(document)) {
    const kind = Array.isArray(document) ? 'an array' : `a ${typeof document}`;
    return { ok: false, error: configError(path, 'not-object', `top level is ${kind}, not an object`, { client }) };
  }
  return { ok: true, document };
}

const OPEN_BRACKETS = new Set([0x5b, 0x7b]); // [ {
const CLOSE_BRACKETS = new Set([0x5d, 0x7d]); // ] }

/**
 * Offset at which JSON/JSONC text nests deeper than `max` ([ and { outside strings and comments),
 * or -1. Linear, no recursion: runs before a recursive-descent parser sees the text.
 */
export function jsonNestingOverflow(text: string, max: number): number {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // "string" with backslash escapes; an unterminated one runs to the end (the parser reports it)
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22 || d === 0x0a) break;
      }
    } else if (c === 0x2f && text.charCodeAt(i + 1) === 0x2f) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? n : nl;
    } else if (c === 0x2f && text.charCodeAt(i + 1) === 0x2a) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 1;
    } else if (OPEN_BRACKETS.has(c)) {
      if (++depth > max) return i;
    } else if (CLOSE_BRACKETS.has(c)) {
      if (depth > 0) depth--;
    }
  }
  return -1;
}

interface JsonParseError {
  error: ParseErrorCode;
  offset: number;
}

/**
 * JSONC to a tree of null-prototype objects (jsonc-parser's own `parse` assigns keys to plain
 * objects, so a `__proto__` key would set the prototype instead of being kept).
 */
function parseJsonTree(text: string, errors: JsonParseError[]): unknown {
  let root: unknown;
  const stack: Array<Record<string, unknown> | unknown[]> = [];
  let key: string | null = null;
  const add = (value: unknown): void => {
    const top = stack[stack.length - 1];
    if (top === undefined) root = value;
    else if (Array.isArray(top)) top.push(value);
    // A null-prototype object has no __proto__ setter: every key, __proto__ included, is an own property.
    else if (key !== null) top[key] = value;
  };
  const begin = (container: Record<string, unknown> | unknown[]): void => {
    add(container);
    stack.push(container);
    key = null;
  };
  const end = (): void => {
    stack.pop();
    key = null;
  };
  visitJsonc(
    text,
    {
      onObjectBegin: () => begin(Object.create(null) as Record<string, unknown>),
      onObjectProperty: (name) => {
        key = name;
      },
      onObjectEnd: end,
      onArrayBegin: () => begin([]),
      onArrayEnd: end,
      onLiteralValue: (value: unknown) => add(value),
      onError: (error, offset) => {
        errors.push({ error, offset });
      },
    },
    { allowTrailingComma: true, disallowComments: false, allowEmptyContent: true },
  );
  return root;
}

type TreeResult = { ok: true; value: unknown } | { ok: false; code: 'too-deep' | 'too-large'; reason: string };

/**
 * Checks a parsed value (which may share subtrees, as YAML aliases do, or even be cyclic) against
 * the depth and expanded-size bounds, then copies it into a tree of null-prototype objects and
 * arrays. Shared subtrees are measured once (memoized), so a "billion laughs" is refused without
 * being expanded. Maps become objects and Sets arrays; other objects (dates) are kept as they are.
 */
export function boundedTree(value: unknown, maxDepth: number, maxBytes: number): TreeResult {
  const measured = new Map<object, { bytes: number; height: number }>();
  const inProgress = new Set<object>();
  let cyclic = false;
  const children = (v: object): Array<[string | null, unknown]> => {
    if (Array.isArray(v)) return v.map((x) => [null, x]);
    if (v instanceof Map) return [...v].map(([k, x]) => [String(k), x]);
    if (v instanceof Set) return [...v].map((x) => [null, x]);
    return Object.keys(v).map((k) => [k, (v as Record<string, unknown>)[k]]);
  };
  const isContainer = (v: unknown): v is object => typeof v === 'object' && v !== null && !(v instanceof Date);
  // Recursion is bounded by maxDepth: a deeper node stops the walk.
  const measure = (v: unknown, depth: number): { bytes: number; height: number } => {
    if (typeof v === 'string') return { bytes: v.length + 2, height: 0 };
    if (!isContainer(v)) return { bytes: 8, height: 0 };
    const seen = measured.get(v);
    if (seen) return seen;
    if (depth > maxDepth) return { bytes: 0, height: Infinity };
    if (inProgress.has(v)) {
      cyclic = true;
      return { bytes: Infinity, height: Infinity };
    }
    inProgress.add(v);
    let bytes = 2;
    let height = 0;
    for (const [k, child] of children(v)) {
      const m = measure(child, depth + 1);
      bytes += m.bytes + 1 + (k === null ? 0 : k.length + 3);
      height = Math.max(height, m.height + 1);
      if (bytes > maxBytes || height + depth > maxDepth) break;
    }
    inProgress.delete(v);
    const out = { bytes, height };
    measured.set(v, out);
    return out;
  };
  const m = measure(value, 0);
  if (cyclic) return { ok: false, code: 'too-large', reason: 'an alias refers to a node that contains it (a cycle): it would expand without end' };
  if (m.height > maxDepth) return { ok: false, code: 'too-deep', reason: `nested deeper than ${maxDepth} levels; not read` };
  if (m.bytes > maxBytes) return { ok: false, code: 'too-large', reason: `the document expands (through aliases) to more than ${maxBytes} bytes; not read` };
  const copy = (v: unknown): unknown => {
    if (!isContainer(v)) return v;
    if (Array.isArray(v) || v instanceof Set) return children(v).map(([, x]) => copy(x));
    const out = Object.create(null) as Record<string, unknown>;
    for (const [k, x] of children(v)) out[k as string] = copy(x);
    return out;
  };
  return { ok: true, value: copy(value) };
}

function isStackOverflow(err: unknown): boolean {
  return err instanceof RangeError && /call stack/i.test(err.message);
}

/**
 * Parses config text of the given format. `path` is only used to label errors.
 * @returns the top-level object (a null-prototype tree), or a coded ConfigError
 *   (parse | not-object | too-deep | too-large).
 */
export async function parseConfigText(text: string, format: ConfigFormat, path: string, client: string | null = null): Promise<ParseResult> {
  const parsers = {
    yaml: format === 'yaml' ? await (yamlModule ??= import('yaml')) : undefined,
    toml: format === 'toml' ? await (tomlModule ??= import('smol-toml')) : undefined,
    xml: format === 'xml' ? await (xmlModule ??= import('./jetbrains-xml.js')) : undefined,
  };
  try {
    return parseUnguarded(text, format, path, client, parsers);
  } catch (err) {
    // Defensive: a parser that recursed too deep (or failed otherwise) costs this file only.
    if (isStackOverflow(err)) return { ok: false, error: configError(path, 'too-deep', 'nested too deeply to parse; not read', { client }) };
    return { ok: false, error: configError(path, 'parse', `cannot parse: ${(err as Error)?.message ?? String(err)}`, { client }) };
  }
}

function parseUnguarded(text: string, format: ConfigFormat, path: string, client: string | null, parsers: { yaml?: YamlModule | undefined; toml?: TomlModule | undefined; xml?: XmlModule | undefined }): ParseResult {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '') return { ok: true, document: Object.create(null) as Record<string, unknown> };
  const maxBytes = Math.max(EXPANSION_FACTOR * body.length, MIN_EXPANDED_BYTES);
  const bounded = (value: unknown): ParseResult => {
    const tree = boundedTree(value, MAX_NESTING_DEPTH, maxBytes);
    return tree.ok ? topLevel(tree.value, path, client) : { ok: false, error: configError(path, tree.code, tree.reason, { client }) };
  };
  if (format === 'json' || format === 'jsonc') {
    const deep = jsonNestingOverflow(body, MAX_NESTING_DEPTH);
    if (deep >= 0) {
      const { line, column } = lineColumnAt(body, deep);
      return { ok: false, error: configError(path, 'too-deep', `nested deeper than ${MAX_NESTING_DEPTH} levels at line ${line}, column ${column}; not read`, { client, line, column }) };
    }
    const errors: JsonParseError[] = [];
    const document = parseJsonTree(body, errors);
    const first = errors[0];
    if (first) {
      const { line, column } = lineColumnAt(body, first.offset);
      const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
      return {
        ok: false,
        error: configError(path, 'parse', `invalid JSON: ${printParseErrorCode(first.error)} at line ${line}, column ${column}${more}`, { client, line, column }),
      };
    }
    // Already a null-prototype tree within the depth bound, and JSON has no aliases.
    return topLevel(document, path, client);
  }
  if (format === 'yaml') {
    const doc = (parsers.yaml as YamlModule).parseDocument(body, { uniqueKeys: false, prettyErrors: false, merge: true }); // `<<: *anchor` merge keys, as PyYAML (Hermes, Goose) reads them
    const first = doc.errors[0];
    if (first) {
      const { line, column } = lineColumnAt(body, first.pos[0]);
      return { ok: false, error: configError(path, 'parse', `invalid YAML: ${first.message.split('\n')[0]} at line ${line}, column ${column}`, { client, line, column }) };
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: YAML_MAX_ALIAS_COUNT });
    } catch (err) {
      if (isStackOverflow(err)) throw err;
      return { ok: false, error: configError(path, 'parse', `invalid YAML: ${(err as Error).message}`, { client }) };
    }
    return bounded(value);
  }
  if (format === 'xml') {
    const read = (parsers.xml as XmlModule).jetbrainsMcpDocument(body);
    if (!read.ok) {
      const at = read.line !== undefined ? ` at line ${read.line}, column ${read.column ?? 1}` : '';
      return { ok: false, error: configError(path, 'parse', `invalid XML: ${read.problem}${at}`, { client, ...(read.line !== undefined ? { line: read.line, column: read.column ?? 1 } : {}) }) };
    }
    return bounded(read.document);
  }
  let value: unknown;
  try {
    value = (parsers.toml as TomlModule).parse(body);
  } catch (err) {
    if (err instanceof (parsers.toml as TomlModule).TomlError) {
      return {
        ok: false,
        error: configError(path, 'parse', `invalid TOML: ${err.message.split('\n')[0]}`, { client, line: err.line, column: err.column }),
      };
    }
    throw err;
  }
  return bounded(value);
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

/** What a stat says a non-regular file is, in words. */
function fileKind(s: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isSocket()) return 'a socket';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

function notRegular(path: string, kind: string, client: string | null): ConfigError {
  if (kind === 'a directory') return configError(path, 'unreadable', 'is a directory, expected a file', { client });
  return configError(path, 'unreadable', `cannot read: is ${kind}, not a regular file; not opened`, { client });
}

/**
 * Stats, bounds-checks, reads and parses one config file. Never throws; resolves within
 * readTimeoutMs (plus parsing) even when the file system does not answer.
 * @returns missing | ok (document + stat) | error (one ConfigError + stat when known).
 */
export async function readConfigFile(path: string, opts: ReadOptions): Promise<ReadResult> {
  const client = opts.client ?? null;
  const timeoutMs = opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
    timer.unref();
  });
  const loaded = loadFile(path, opts, client);
  const first = await Promise.race([loaded, timedOut]).finally(() => clearTimeout(timer));
  if (first === 'timeout') {
    return { status: 'error', error: configError(path, 'read-timeout', `no answer from the file system within ${timeoutMs} ms; not read`, { client }), stat: null };
  }
  if (first.status !== 'bytes') return first;
  const { bytes, stat: st } = first;
  if (!hasUtf16Bom(bytes) && bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) {
    return { status: 'error', error: configError(path, 'binary', 'file contains NUL bytes: binary, not a text config', { client }), stat: st };
  }
  const parsed = await parseConfigText(decode(bytes), opts.format, path, client);
  return parsed.ok ? { status: 'ok', document: parsed.document, stat: st } : { status: 'error', error: parsed.error, stat: st };
}

type Loaded = Exclude<ReadResult, { status: 'ok' }> | { status: 'bytes'; bytes: Buffer; stat: FileStat };

/** stat → open (non-blocking) → fstat → bounded read. Never throws. */
async function loadFile(path: string, opts: ReadOptions, client: string | null): Promise<Loaded> {
  const maxBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  let st: FileStat;
  try {
    const s = await fsStat(path);
    st = { mode: s.mode, uid: s.uid, size: s.size, mtimeMs: s.mtimeMs };
    if (!s.isFile()) return { status: 'error', error: notRegular(path, fileKind(s), client), stat: st };
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { status: 'missing' };
    return { status: 'error', error: configError(path, 'unreadable', `cannot stat: ${code ?? (err as Error).message}`, { client }), stat: null };
  }
  if (st.size > maxBytes) {
    return { status: 'error', error: configError(path, 'too-large', `file is ${st.size} bytes, over the ${maxBytes}-byte limit; not read`, { client }), stat: st };
  }
  let fh: FileHandle;
  try {
    fh = await open(path, OPEN_FLAGS);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') return { status: 'missing' };
    return { status: 'error', error: configError(path, 'unreadable', `cannot read: ${code ?? (err as Error).message}`, { client }), stat: st };
  }
  try {
    // The path may have been swapped for a FIFO or device since the stat: check what was opened.
    const s = await fh.stat();
    if (!s.isFile()) return { status: 'error', error: notRegular(path, fileKind(s), client), stat: st };
    st = { mode: s.mode, uid: s.uid, size: s.size, mtimeMs: s.mtimeMs };
    if (st.size > maxBytes) {
      return { status: 'error', error: configError(path, 'too-large', `file is ${st.size} bytes, over the ${maxBytes}-byte limit; not read`, { client }), stat: st };
    }
    return { status: 'bytes', bytes: await readBounded(fh, maxBytes), stat: st };
  } catch (err) {
    if (err instanceof TooLargeWhileReading) {
      return { status: 'error', error: configError(path, 'too-large', `file grew past the ${maxBytes}-byte limit while being read`, { client }), stat: st };
    }
    return { status: 'error', error: configError(path, 'unreadable', `cannot read: ${errnoCode(err) ?? (err as Error).message}`, { client }), stat: st };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

class TooLargeWhileReading extends Error {}

/** Reads at most maxBytes (+1 to detect growth) from an open regular file. */
async function readBounded(fh: FileHandle, maxBytes: number): Promise<Buffer> {
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
}
