/**
 * JetBrains AI Assistant's IDE-level MCP servers, kept in options/llm.mcpServers.xml of every IDE's
 * configuration folder (<config>/JetBrains/<Product><Version>/options, one per product and
 * version). This module turns that XML into the `mcpServers` document JSON clients write, so the
 * entry extractor and normalization read it like any other file.
 *
 * Layouts read, all inside <component name="McpApplicationServerCommands"> (or
 * McpProjectServerCommands, the project-level twin):
 * - 2025.1: <McpServerCommand> entries directly in the component, each a set of
 *   <option name="…" value="…"/> (name, programPath or command, arguments, url) and an
 *   environment list (<envs><env name value/></envs>, or an <option name="env"> map of
 *   <entry key value/>).
 * - later: the same entries grouped under <commands> (local servers) and <urls> (remote ones).
 * - 2025.3 and later: entries keep only state (name, enabled); the definitions moved to
 *   ~/.ai/mcp/mcp.json, read as its own location. An entry with neither a command nor a url is
 *   therefore skipped, not reported.
 * `enabled="false"` becomes `disabled: true`. `arguments` is one string, split quote-aware.
 *
 * Contract: pure (no I/O), never throws. Malformed XML (any xmldom error or fatal error) yields a
 * problem with its line and column where known; a well-formed file without the component is an
 * empty document. xmldom expands only the predefined entities (a DTD's entity declarations are
 * not applied: their use is reported as an error), so a file can neither include another file
 * nor grow by entity expansion. The returned tree is built from null-prototype objects.
 */
import { DOMParser } from '@xmldom/xmldom';
import { splitCommandLine } from '../normalize/command-line.js';

/** Component names that hold AI Assistant MCP server entries. */
const COMPONENTS = new Set(['McpApplicationServerCommands', 'McpProjectServerCommands']);
/** Containers of entries in the later layouts. */
const GROUPS = new Set(['commands', 'urls']);
/** Element / option labels that hold an environment or header list. */
const ENV_LABELS = new Set(['envs', 'env', 'environment']);
/** An entry's elements are never nested deeper than this in real files; deeper ones are ignored. */
const MAX_ENTRY_DEPTH = 16;

export type JetbrainsXmlResult = { ok: true; document: Record<string, unknown> } | { ok: false; problem: string; line?: number; column?: number };

/** Minimal view of the xmldom node API this module uses. */
interface XmlElement {
  nodeType: number;
  localName: string | null;
  nodeName: string;
  childNodes: ArrayLike<XmlElement>;
  getAttribute(name: string): string | null;
  hasAttribute(name: string): boolean;
}

const ELEMENT_NODE = 1;

function elementChildren(n: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  for (let i = 0; i < n.childNodes.length; i++) {
    const c = n.childNodes[i]!;
    if (c.nodeType === ELEMENT_NODE) out.push(c);
  }
  return out;
}

const nameOf = (e: XmlElement): string => e.localName ?? e.nodeName;

/** A name="…" (or key="…") value="…" pair, or null. */
function pair(e: XmlElement): [string, string] | null {
  const key = e.getAttribute('name') || e.getAttribute('key');
  if (!key || !e.hasAttribute('value')) return null;
  return [key, e.getAttribute('value') ?? ''];
}

function obj(): Record<string, unknown> {
  return Object.create(null) as Record<string, unknown>;
}

/** One entry's server definition in the mcpServers form, with its name; null when it has none. */
function readEntry(entry: XmlElement): { name: string; server: Record<string, unknown> } | null {
  const options = new Map<string, string>();
  const env = obj();
  const headers = obj();
  const walk = (n: XmlElement, list: Record<string, unknown> | null, depth: number): void => {
    if (depth > MAX_ENTRY_DEPTH) return;
    const label = nameOf(n) === 'option' ? (n.getAttribute('name') ?? '') : nameOf(n);
    const kv = pair(n);
    let into = list;
    if (list) {
      if (kv) list[kv[0]] = kv[1];
    } else if (ENV_LABELS.has(label)) into = env;
    else if (label === 'headers') into = headers;
    else if (nameOf(n) === 'option' && kv && !options.has(kv[0])) options.set(kv[0], kv[1]);
    for (const c of elementChildren(n)) walk(c, into, depth + 1);
  };
  walk(entry, null, 0);
  const name = options.get('name');
  const command = options.get('programPath') || options.get('command');
  const url = options.get('url') || options.get('serverUrl');
  if (!name || (!command && !url)) return null;
  const server = obj();
  if (command) {
    server.command = command;
    const args = options.get('arguments') ?? options.get('args');
    if (args) server.args = splitCommandLine(args);
    const cwd = options.get('workingDirectory');
    if (cwd) server.cwd = cwd;
  }
  if (url) server.url = url;
  if (Object.keys(env).length > 0) server.env = env;
  if (Object.keys(headers).length > 0) server.headers = headers;
  if (options.get('enabled') === 'false') server.disabled = true;
  return { name, server };
}

/**
 * Parses an llm.mcpServers.xml (or workspace.xml) text into `{ mcpServers: { name: entry } }`.
 * @returns the document, or the first parse problem (with 1-based line and column where known).
 */
export function jetbrainsMcpDocument(text: string): JetbrainsXmlResult {
  let problem: string | null = null;
  let root: XmlElement | null = null;
  let line: number | undefined;
  let column: number | undefined;
  try {
    const doc = new DOMParser({
      onError: (level: string, message: string) => {
        if (level !== 'warning' && problem === null) problem = message.split('\n')[0]!.trim();
      },
    }).parseFromString(text, 'text/xml');
    root = (doc.documentElement as unknown as XmlElement | null) ?? null;
  } catch (err) {
    problem ??= (err as Error).message.split('\n')[0]!.trim();
    const at = (err as { locator?: { lineNumber?: number; columnNumber?: number } }).locator;
    line = at?.lineNumber;
    column = at?.columnNumber;
  }
  if (problem !== null || root === null) {
    return { ok: false, problem: problem ?? 'no root element', ...(line ? { line } : {}), ...(column ? { column } : {}) };
  }
  const servers = obj();
  for (const component of elementChildren(root)) {
    if (nameOf(component) !== 'component' || !COMPONENTS.has(component.getAttribute('name') ?? '')) continue;
    const entries = elementChildren(component).flatMap((e) => (GROUPS.has(nameOf(e)) ? elementChildren(e) : [e]));
    for (const e of entries) {
      const read = readEntry(e);
      if (read && !(read.name in servers)) servers[read.name] = read.server;
    }
  }
  const document = obj();
  document.mcpServers = servers;
  return { ok: true, document };
}
