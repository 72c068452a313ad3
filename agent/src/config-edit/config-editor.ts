/**
 * THE format-preserving config editor of the agent (containment, hook installation): reads a
 * value at a key path, removes it, or sets it, in JSON/JSONC, YAML or TOML text, changing only the
 * bytes of that value.
 *
 * Contract:
 * - Pure text in, text out; no I/O (writeFileAtomic in atomic-write.ts puts the result on disk).
 * - Every edit is verified before it is returned: the new text must parse, in the same format, to
 *   exactly the old document with only that change. If it does not (an unusual layout, a bug), the
 *   edit throws MCPW_ERR_CONFIG_EDIT_UNSAFE and the caller writes nothing.
 * - Errors are ConfigEditError with a code: _UNSUPPORTED (no editor for the format), _NOT_FOUND
 *   (the text does not parse, or the path is absent), _UNSAFE (see above).
 */
import { isDeepStrictEqual } from 'node:util';
import { AgentCodes } from '../errors.js';
import { ConfigEditError, type EditFormat, type KeyPath } from './edit-types.js';
import { parseJson, setJson } from './json-edit.js';
import { insertTomlText, parseToml, removeToml, setToml } from './toml-edit.js';
import { parseYaml, setYaml } from './yaml-edit.js';

/** Parses `text` in `format` to plain values. */
export function parseConfig(text: string, format: EditFormat): unknown {
  switch (format) {
    case 'json':
      return parseJson(text);
    case 'yaml':
      return parseYaml(text);
    case 'toml':
      return parseToml(text);
    default:
      throw new ConfigEditError(AgentCodes.configEditUnsupported, `no format-preserving editor for ${String(format)}`);
  }
}

/** The value at `keyPath`, or undefined when absent. */
export function getAt(doc: unknown, keyPath: KeyPath): unknown {
  let cur: unknown = doc;
  for (const k of keyPath) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, k)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** A deep copy of `doc` with the value at `keyPath` set (or removed when undefined). */
function withValue(doc: unknown, keyPath: KeyPath, value: unknown): unknown {
  const copy = structuredClone(doc) as Record<string, unknown>;
  let cur: Record<string, unknown> = copy;
  for (const k of keyPath.slice(0, -1)) {
    const next = cur[k];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  const last = keyPath[keyPath.length - 1]!;
  if (value === undefined) delete cur[last];
  else cur[last] = structuredClone(value);
  return copy;
}

function verified(before: unknown, after: string, format: EditFormat, keyPath: KeyPath, value: unknown): string {
  let parsed: unknown;
  try {
    parsed = parseConfig(after, format);
  } catch (e) {
    throw new ConfigEditError(AgentCodes.configEditUnsafe, `the edit of ${keyPath.join(' > ')} would leave a file that does not parse; nothing written`, { cause: e });
  }
  // Normalise through JSON so YAML/TOML value classes (dates) compare by content.
  const norm = (v: unknown): unknown => JSON.parse(JSON.stringify(v ?? null)) as unknown;
  if (!isDeepStrictEqual(norm(parsed), norm(withValue(before, keyPath, value)))) {
    throw new ConfigEditError(AgentCodes.configEditUnsafe, `the edit of ${keyPath.join(' > ')} would change more than that entry; nothing written`);
  }
  return after;
}

export interface RemoveResult {
  text: string;
  /** The removed value, as parsed. */
  value: unknown;
  /** The removed bytes when the editor cut a contiguous text (TOML), for a later re-insertion. */
  removedText?: string;
}

/** Removes the value at `keyPath`. Throws ConfigEditError (nothing changed) when it cannot. */
export function removeAt(text: string, format: EditFormat, keyPath: KeyPath): RemoveResult {
  if (keyPath.length === 0) throw new ConfigEditError(AgentCodes.configEditNotFound, 'an empty key path names the whole document');
  const before = parseConfig(text, format);
  const value = getAt(before, keyPath);
  if (value === undefined) throw new ConfigEditError(AgentCodes.configEditNotFound, `no value at ${keyPath.join(' > ')}`);
  if (format === 'toml') {
    let cut: { text: string; removedText: string };
    try {
      cut = removeToml(text, keyPath);
    } catch (e) {
      throw e instanceof ConfigEditError && e.code === AgentCodes.configEditNotFound
        ? new ConfigEditError(AgentCodes.configEditUnsupported, `${keyPath.join('.')} is not a table or a one-line key in this TOML file; this layout is not edited`, { cause: e })
        : e;
    }
    try {
      return { text: verified(before, cut.text, format, keyPath, undefined), value, removedText: cut.removedText };
    } catch (e) {
      throw new ConfigEditError(AgentCodes.configEditUnsupported, `${keyPath.join('.')} is spread over this TOML file in a layout the editor does not cut; nothing written`, { cause: e });
    }
  }
  const after = format === 'json' ? setJson(text, keyPath, undefined) : setYaml(text, keyPath, undefined);
  return { text: verified(before, after, format, keyPath, undefined), value };
}

/** Sets the value at `keyPath` (creating parents). Throws ConfigEditError (nothing changed) when it cannot. */
export function setAt(text: string, format: EditFormat, keyPath: KeyPath, value: unknown): string {
  if (keyPath.length === 0 || value === undefined) throw new ConfigEditError(AgentCodes.configEditNotFound, 'setAt needs a key path and a value');
  const before = parseConfig(text, format);
  const after = format === 'json' ? setJson(text, keyPath, value) : format === 'yaml' ? setYaml(text, keyPath, value) : setToml(text, keyPath, value);
  return verified(before, after, format, keyPath, value);
}

/**
 * Puts a removed entry back: TOML from its cut text (its comments and layout as they were), the
 * other formats from its value. Verified like any edit.
 */
export function reinsertAt(text: string, format: EditFormat, keyPath: KeyPath, value: unknown, removedText?: string): string {
  if (format === 'toml' && removedText !== undefined) {
    const before = parseConfig(text, format);
    if (getAt(before, keyPath) !== undefined) throw new ConfigEditError(AgentCodes.configEditUnsafe, `${keyPath.join('.')} is already in the file again`);
    return verified(before, insertTomlText(text, keyPath, removedText), format, keyPath, value);
  }
  return setAt(text, format, keyPath, value);
}
