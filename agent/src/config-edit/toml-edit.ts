/**
 * TOML editing by surgical text edits guided by smol-toml's parse. npm has no well-kept
 * format-preserving TOML editor in this tree's dependencies (toml-patch forks exist, with few
 * users), and smol-toml's stringify rewrites the whole file; so a removal cuts exactly the lines
 * of the entry: its table (`[mcp_servers.x]`) with its sub-tables (`[mcp_servers.x.env]`, wherever
 * they sit), or its one-line `x = { ... }` inside the parent table. Table headers are found by a
 * scanner that skips strings (multi-line included) and comments; each header's key path is read
 * by smol-toml itself. Everything else stays byte for byte. The caller verifies the result parses
 * to the intended document; layouts this editor cannot cut cleanly (dotted keys spread over a
 * table, multi-line values of an inline entry) end as MCPW_ERR_CONFIG_EDIT_UNSUPPORTED.
 */
import { parse, stringify } from 'smol-toml';
import { AgentCodes } from '../errors.js';
import { ConfigEditError, nextLineStart, type KeyPath } from './edit-types.js';

/** Parses TOML; throws MCPW_ERR_CONFIG_EDIT_NOT_FOUND when it does not parse. */
export function parseToml(text: string): unknown {
  try {
    return parse(text);
  } catch (e) {
    throw new ConfigEditError(AgentCodes.configEditNotFound, `the file is not valid TOML (${(e as Error).message.split('\n')[0]})`, { cause: e });
  }
}

interface Header {
  /** Offset of the header line's start. */
  start: number;
  path: string[];
}

/** Offsets of the lines that start outside any string, and whether each opens a table header. */
function scanHeaders(text: string): Header[] {
  const headers: Header[] = [];
  let i = 0;
  let atLineStart = true;
  while (i < text.length) {
    const ch = text[i]!;
    if (atLineStart) {
      let j = i;
      while (text[j] === ' ' || text[j] === '\t') j++;
      if (text[j] === '[') {
        const end = nextLineStart(text, j);
        headers.push({ start: i, path: headerPath(text.slice(j, end)) });
        i = end;
        continue;
      }
      atLineStart = false;
    }
    if (ch === '\n') {
      atLineStart = true;
      i++;
    } else if (ch === '#') {
      i = nextLineStart(text, i);
      atLineStart = true;
    } else if (text.startsWith('"""', i) || text.startsWith("'''", i)) {
      const quote = text.slice(i, i + 3);
      let j = i + 3;
      for (;;) {
        const k = text.indexOf(quote, j);
        if (k < 0) return headers; // unterminated: the parse check reports it
        if (quote === '"""' && isEscaped(text, k)) {
          j = k + 1;
          continue;
        }
        j = k + 3;
        while (text[j] === quote[0]) j++; // up to two quotes may close the content
        break;
      }
      i = j;
    } else if (ch === '"' || ch === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== '\n' && !(text[j] === ch && (ch === "'" || !isEscaped(text, j)))) j++;
      i = j + 1;
    } else {
      i++;
    }
  }
  return headers;
}

function isEscaped(text: string, at: number): boolean {
  let n = 0;
  for (let k = at - 1; k >= 0 && text[k] === '\\'; k--) n++;
  return n % 2 === 1;
}

/** The key path of a header line (`[a."b c"]`, `[[a.b]]`), as smol-toml reads it. */
function headerPath(line: string): string[] {
  let doc: unknown;
  try {
    doc = parse(line);
  } catch (e) {
    throw new ConfigEditError(AgentCodes.configEditNotFound, `a table header does not parse: ${line.trim().slice(0, 120)}`, { cause: e });
  }
  const out: string[] = [];
  for (;;) {
    if (Array.isArray(doc)) doc = doc[0];
    if (typeof doc !== 'object' || doc === null) break;
    const keys = Object.keys(doc);
    if (keys.length !== 1) break;
    out.push(keys[0]!);
    doc = (doc as Record<string, unknown>)[keys[0]!];
  }
  return out;
}

function startsWith(path: readonly string[], prefix: KeyPath): boolean {
  return prefix.length <= path.length && prefix.every((k, i) => path[i] === k);
}

function sameKeys(a: readonly string[], b: KeyPath): boolean {
  return a.length === b.length && startsWith(a, b);
}

/** The text spans [start, end) that hold the value at `keyPath`. Empty when there are none. */
export function tomlSpans(text: string, keyPath: KeyPath): Array<[number, number]> {
  const headers = scanHeaders(text);
  const spans: Array<[number, number]> = [];
  headers.forEach((h, i) => {
    if (startsWith(h.path, keyPath)) spans.push([h.start, headers[i + 1]?.start ?? text.length]);
  });
  if (spans.length > 0) return spans;
  // `name = { ... }` (or a dotted `name.x = ...`) on one line of the parent table.
  const parentPath = keyPath.slice(0, -1);
  const parentIndex = headers.findIndex((h) => sameKeys(h.path, parentPath));
  const from = parentPath.length === 0 ? 0 : parentIndex < 0 ? -1 : nextLineStart(text, headers[parentIndex]!.start);
  if (from < 0) return spans;
  const to = headers.find((h) => h.start >= from)?.start ?? text.length;
  const last = keyPath[keyPath.length - 1]!;
  for (let at = from; at < to; at = nextLineStart(text, at)) {
    const line = text.slice(at, nextLineStart(text, at));
    if (!/^\s*[A-Za-z0-9_"'-]/.test(line)) continue;
    let one: unknown;
    try {
      one = parse(line);
    } catch {
      continue; // a line of a multi-line value, or a multi-line value's first line: the check decides
    }
    if (typeof one === 'object' && one !== null && Object.hasOwn(one, last)) spans.push([at, nextLineStart(text, at)]);
  }
  return spans;
}

/** Removes the value at `keyPath` by cutting its spans; returns the new text and the cut text. */
export function removeToml(text: string, keyPath: KeyPath): { text: string; removedText: string } {
  const spans = tomlSpans(text, keyPath);
  if (spans.length === 0) throw new ConfigEditError(AgentCodes.configEditNotFound, `no table or key ${keyPath.join('.')} found to cut`);
  let out = text;
  for (const [s, e] of [...spans].reverse()) out = out.slice(0, s) + out.slice(e);
  return { text: out, removedText: spans.map(([s, e]) => text.slice(s, e)).join('') };
}

/**
 * Inserts `entryText` (as cut by removeToml) back: a table at the end of the file, a one-line
 * entry just below its parent table's header (or at the top for the root table).
 */
export function insertTomlText(text: string, keyPath: KeyPath, entryText: string): string {
  const isTable = /^\s*\[/.test(entryText);
  const block = entryText.endsWith('\n') ? entryText : `${entryText}\n`;
  if (isTable) {
    const sep = text.length === 0 || text.endsWith('\n\n') ? '' : text.endsWith('\n') ? '\n' : '\n\n';
    return `${text}${sep}${block}`;
  }
  const parentPath = keyPath.slice(0, -1);
  if (parentPath.length === 0) return block + text;
  const parent = scanHeaders(text).find((h) => sameKeys(h.path, parentPath));
  if (!parent) return `${text}${text.endsWith('\n') || text.length === 0 ? '' : '\n'}[${parentPath.map(tomlKey).join('.')}]\n${block}`;
  const at = nextLineStart(text, parent.start);
  return text.slice(0, at) + block + text.slice(at);
}

function tomlKey(k: string): string {
  return /^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k);
}

/** Sets (value defined) or removes (undefined) the value at `keyPath`; a set appends a table. */
export function setToml(text: string, keyPath: KeyPath, value: unknown): string {
  let base = text;
  if (tomlSpans(text, keyPath).length > 0) base = removeToml(text, keyPath).text;
  if (value === undefined) return base;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const line = `${tomlKey(keyPath[keyPath.length - 1]!)} = ${stringify({ v: value }).replace(/^v = /, '').trimEnd()}\n`;
    return insertTomlText(base, keyPath, line);
  }
  const nested = keyPath.reduceRight<unknown>((acc, k) => ({ [k]: acc }), value) as Record<string, unknown>;
  return insertTomlText(base, keyPath, stringify(nested));
}
