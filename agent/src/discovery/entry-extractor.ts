/**
 * Pulls raw server entries out of a parsed config document, following the catalog location's
 * sections. Only the sections the client reads are looked at: servers sitting anywhere else
 * (a stray top-level block, Zed's non-existent `mcp.servers`) are not entries.
 *
 * One bad entry never drops its neighbours: an entry that is not an object yields a ConfigError
 * (code invalid-entry, with the entry name) and extraction goes on. A section whose container has
 * the wrong shape (an array where a map belongs) yields code invalid-section. Bounded: at most
 * MAX_ENTRIES_PER_FILE entries per file (code too-many-entries past that).
 */
import type { ConfigError, ConfigScope } from '@mcpwatch/shared';
import type { ConfigLocation, ServerSection } from '../catalog/index.js';
import type { EntryDialect, RawServerEntry } from '../types.js';
import { withDefinition, type Definitions } from './definitions.js';
import { expandPluginRoot, pluginRootOf } from './plugin-root.js';

export const MAX_ENTRIES_PER_FILE = 5000;

/** Keys that make an object look like a server entry rather than a container of them. */
const SERVER_KEYS = ['command', 'url', 'type', 'transport', 'args', 'serverUrl', 'httpUrl', 'cmd', 'uri', 'baseUrl'];

export interface ExtractMeta {
  client: string;
  configPath: string;
  user: string | null;
  projectPath: string | null;
  /** The plugin folder when it is not the file's own (a file a plugin manifest names). */
  pluginRoot?: string;
}

export interface Extraction {
  entries: RawServerEntry[];
  errors: ConfigError[];
  /** Files a section names instead of holding servers (plugin.json `mcpServers: "./mcp.json"`), as written. */
  references?: string[];
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function looksLikeServer(v: Record<string, unknown>): boolean {
  return SERVER_KEYS.some((k) => k in v);
}

interface Container {
  value: unknown;
  /** Keys matched by '*' segments, by their index in the section path. */
  wildcards: Map<number, string>;
}

/** Every container the section path reaches ('*' fans out over an object's keys). */
function resolveContainers(doc: Record<string, unknown>, path: readonly string[]): Container[] {
  let frontier: Container[] = [{ value: doc, wildcards: new Map() }];
  path.forEach((key, index) => {
    const next: Container[] = [];
    for (const c of frontier) {
      if (!isPlainObject(c.value)) continue;
      if (key === '*') {
        for (const [k, v] of Object.entries(c.value)) next.push({ value: v, wildcards: new Map(c.wildcards).set(index, k) });
      } else if (Object.hasOwn(c.value, key)) {
        next.push({ value: c.value[key], wildcards: c.wildcards });
      }
    }
    frontier = next;
  });
  return frontier;
}

/** Ids of a VS Code style `inputs` array at `path`, if any. */
export function inputIds(doc: Record<string, unknown>, path: readonly string[] | undefined): string[] | undefined {
  if (!path) return undefined;
  const [c] = resolveContainers(doc, path);
  if (!c || !Array.isArray(c.value)) return undefined;
  return c.value.flatMap((i) => (isPlainObject(i) && typeof i.id === 'string' ? [i.id] : []));
}

function entryError(meta: ExtractMeta, code: string, reason: string, entry: string | null): ConfigError {
  return { path: meta.configPath, client: meta.client, code, reason, line: null, column: null, entry };
}

/**
 * Extracts every server entry of `doc` per the location's sections. With `definitions` (a location
 * that only names its servers), each entry is read as its definition (see definitions.ts).
 */
export function extractEntries(doc: Record<string, unknown>, location: ConfigLocation, meta: ExtractMeta, definitions?: Definitions): Extraction {
  const out: Extraction = { entries: [], errors: [] };
  const ids = inputIds(doc, location.inputsPath);
  for (const section of location.sections) {
    let containers = resolveContainers(doc, section.path);
    if (containers.length === 0 && section.rootFallback && looksLikeServerMap(doc)) containers = [{ value: doc, wildcards: new Map() }];
    for (const c of containers) extractContainer(doc, c, section, location, meta, ids, out, definitions);
  }
  return out;
}

/** A bare {name: {command|url...}} map (a plugin .mcp.json written without `mcpServers`). */
function looksLikeServerMap(doc: Record<string, unknown>): boolean {
  const values = Object.values(doc);
  return values.length > 0 && values.every((v) => isPlainObject(v) && looksLikeServer(v));
}

function extractContainer(
  doc: Record<string, unknown>,
  c: Container,
  section: ServerSection,
  location: ConfigLocation,
  meta: ExtractMeta,
  ids: string[] | undefined,
  out: Extraction,
  definitions?: Definitions,
): void {
  let value = c.value;
  const label = section.path.join('.');
  if (value === null || value === undefined) return;
  if (typeof value === 'string' && section.allowPathReference) {
    // Names another file (relative to the plugin), which discovery reads in its turn.
    (out.references ??= []).push(value);
    return;
  }
  if (section.unwrapKey && isPlainObject(value)) {
    const inner = value[section.unwrapKey];
    if (isPlainObject(inner) && !looksLikeServer(inner)) value = inner;
  }
  const projectPath = section.projectKeyIndex !== undefined ? (c.wildcards.get(section.projectKeyIndex) ?? meta.projectPath) : meta.projectPath;
  const scope: ConfigScope = section.scope ?? location.scope;
  const push = (name: string, written: unknown, dialect: EntryDialect): void => {
    const defined = definitions ? withDefinition(name, written, definitions) : written;
    const raw = location.pluginRoot ? expandPluginRoot(defined, meta.pluginRoot ?? pluginRootOf(meta.configPath)) : defined;
    if (out.entries.length >= MAX_ENTRIES_PER_FILE) {
      if (!out.errors.some((e) => e.code === 'too-many-entries')) {
        out.errors.push(entryError(meta, 'too-many-entries', `more than ${MAX_ENTRIES_PER_FILE} server entries; the rest were not read`, null));
      }
      return;
    }
    if (!isPlainObject(raw)) {
      const kind = raw === null ? 'null' : Array.isArray(raw) ? 'an array' : `a ${typeof raw}`;
      out.errors.push(entryError(meta, 'invalid-entry', `server entry "${name}" in ${label} is ${kind}, not an object; skipped`, name));
      return;
    }
    out.entries.push({
      client: meta.client,
      scope,
      configPath: meta.configPath,
      user: meta.user,
      projectPath,
      name,
      raw,
      dialect,
      fileContext: { section: label, ...(ids ? { inputIds: ids } : {}) },
    });
  };
  if (section.shape === 'single') {
    const named = section.namePath ? resolveContainers(doc, section.namePath)[0]?.value : undefined;
    push(typeof named === 'string' && named !== '' ? named : label, value, location.dialect);
    return;
  }
  const shape = section.shape === 'auto' ? (Array.isArray(value) ? 'list' : 'map') : section.shape;
  if (shape === 'map') {
    if (!isPlainObject(value)) {
      out.errors.push(entryError(meta, 'invalid-section', `${label} should be an object of servers but is ${Array.isArray(value) ? 'an array' : `a ${typeof value}`}`, null));
      return;
    }
    const dialect = section.mapDialect ?? location.dialect;
    for (const [name, raw] of Object.entries(value)) push(name, raw, dialect);
    return;
  }
  if (!Array.isArray(value)) {
    out.errors.push(entryError(meta, 'invalid-section', `${label} should be a list of servers but is ${isPlainObject(value) ? 'an object' : `a ${typeof value}`}`, null));
    return;
  }
  value.forEach((raw, i) => {
    const named = isPlainObject(raw) ? (raw.name ?? raw.uses) : undefined;
    push(typeof named === 'string' && named !== '' ? named : `${label}[${i}]`, raw, location.dialect);
  });
}
