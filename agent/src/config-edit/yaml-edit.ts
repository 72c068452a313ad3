/**
 * YAML editing with the `yaml` package's Document API. A removal from a block mapping is a splice
 * of the pair's own lines, located through the Document's source ranges: every other byte of the
 * file (comments, quoting, blank lines, anchors) stays as it was. Other removals (a flow mapping,
 * the last pair of a mapping) and insertions go through the Document (deleteIn / setIn) and its
 * re-serialisation, which keeps comments but may re-indent; the caller's verification decides.
 */
import { isMap, isScalar, parseDocument, type Document, type Pair, type YAMLMap } from 'yaml';
import { AgentCodes } from '../errors.js';
import { ConfigEditError, nextLineStart, lineStart, type KeyPath } from './edit-types.js';

function load(text: string): Document.Parsed {
  const doc = parseDocument(text, { keepSourceTokens: true });
  if (doc.errors.length > 0) throw new ConfigEditError(AgentCodes.configEditNotFound, `the file is not valid YAML (${doc.errors[0]!.message.split('\n')[0]})`);
  return doc;
}

/** Parses YAML to plain values; throws MCPW_ERR_CONFIG_EDIT_NOT_FOUND when it does not parse. */
export function parseYaml(text: string): unknown {
  return load(text).toJS({ maxAliasCount: 1000 }) as unknown;
}

function serialise(doc: Document): string {
  return doc.toString({ lineWidth: 0, minContentWidth: 0 });
}

/** Sets (value defined) or removes (undefined) the value at `keyPath`. */
export function setYaml(text: string, keyPath: KeyPath, value: unknown): string {
  const doc = load(text);
  if (value !== undefined) {
    doc.setIn([...keyPath], doc.createNode(value));
    return serialise(doc);
  }
  const parent = keyPath.length === 1 ? doc.contents : doc.getIn(keyPath.slice(0, -1), true);
  if (!isMap(parent)) throw new ConfigEditError(AgentCodes.configEditNotFound, `no mapping at ${keyPath.slice(0, -1).join(' > ') || 'the document root'}`);
  const map = parent as YAMLMap;
  const items = map.items as Pair[];
  const index = items.findIndex((p) => isScalar(p.key) && String(p.key.value) === keyPath[keyPath.length - 1]);
  if (index < 0) throw new ConfigEditError(AgentCodes.configEditNotFound, `no key ${keyPath.join(' > ')}`);
  const pair = items[index]!;
  const keyRange = isScalar(pair.key) ? pair.key.range : undefined;
  const valueRange = (pair.value as { range?: [number, number, number] } | null)?.range;
  if (map.flow || items.length === 1 || !keyRange || !valueRange) {
    doc.deleteIn([...keyPath]);
    return serialise(doc);
  }
  // The pair's lines: from its key's line to the end of its value (trailing comments of the value
  // stay with it; comment lines above the next key stay with that key).
  const start = lineStart(text, keyRange[0]);
  const valueEnd = valueRange[1];
  const end = valueEnd > 0 && text[valueEnd - 1] === '\n' ? valueEnd : nextLineStart(text, valueEnd);
  return text.slice(0, start) + text.slice(end);
}
