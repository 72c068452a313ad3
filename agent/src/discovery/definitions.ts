/**
 * Server definitions kept apart from the file that enables the servers (ConfigLocation.definitions):
 * Docker MCP Toolkit's registry.yaml names the enabled servers, its catalogs/*.yaml define them.
 *
 * Contract: never throws. Every definitions file found is read through the bounded config reader;
 * one that cannot be read or parsed, or whose section is not a map, is a ConfigError of its own
 * (its definitions are then unknown, never silently "none"). Files are read in name order with
 * `first` ahead of the rest; a later file's definition of a name replaces an earlier one.
 */
import { basename } from 'node:path';
import type { ConfigError } from '@mcpwatch/shared';
import type { DefinitionFiles } from '../catalog/index.js';
import { readConfigFile } from './config-reader.js';
import { isPlainObject } from './entry-extractor.js';
import { expandPath, watchPathFor } from './path-expander.js';
import { byText } from '../normalize/text-order.js';

/** Catalogs carry tool lists and descriptions: larger than a config file. */
export const DEFINITIONS_MIN_MAX_BYTES = 32 * 1024 * 1024;

export interface Definitions {
  byName: Map<string, Record<string, unknown>>;
  errors: ConfigError[];
}

function sectionOf(doc: Record<string, unknown>, section: readonly string[]): unknown {
  let cur: unknown = doc;
  for (const key of section) {
    if (!isPlainObject(cur) || !Object.hasOwn(cur, key)) return undefined;
    cur = cur[key];
  }
  return cur;
}

/** Reads every definitions file below `baseDir`. */
export async function readDefinitions(baseDir: string, defs: DefinitionFiles, client: string, maxFileBytes: number): Promise<Definitions> {
  const out: Definitions = { byName: new Map(), errors: [] };
  const expanded = await expandPath(baseDir, defs.path);
  out.errors.push(...expanded.errors.map((e) => ({ ...e, client })));
  if (expanded.truncated) {
    out.errors.push({
      path: watchPathFor(baseDir, defs.path),
      client,
      code: 'walk-truncated',
      reason: `search for ${defs.path.join('/')} stopped at its match limit; some server definitions were not read`,
      line: null,
      column: null,
    });
  }
  const order = (p: string): string => `${basename(p) === defs.first ? '0' : '1'}${basename(p)}`;
  const paths = [...expanded.paths].sort((a, b) => byText(order(a), order(b)));
  for (const path of paths) {
    const r = await readConfigFile(path, { format: defs.format, maxFileBytes: Math.max(maxFileBytes, DEFINITIONS_MIN_MAX_BYTES), client });
    if (r.status === 'missing') continue;
    if (r.status === 'error') {
      out.errors.push(r.error);
      continue;
    }
    const map = sectionOf(r.document, defs.section);
    if (map === undefined || map === null) continue;
    if (!isPlainObject(map)) {
      out.errors.push({ path, client, code: 'invalid-section', reason: `${defs.section.join('.')} should be an object of server definitions`, line: null, column: null });
      continue;
    }
    for (const [name, def] of Object.entries(map)) {
      if (!isPlainObject(def)) continue;
      out.byName.set(name, def);
    }
  }
  return out;
}

/**
 * The raw entry of `name`: its definition (a copy), with the enabling file's own entry under
 * `registryEntry`. A null entry (a YAML key with no value) still enables the server.
 */
export function withDefinition(name: string, entry: unknown, defs: Definitions): unknown {
  if (entry !== null && entry !== undefined && !isPlainObject(entry)) return entry;
  const merged = Object.create(null) as Record<string, unknown>;
  Object.assign(merged, defs.byName.get(name) ?? {});
  merged.registryEntry = entry ?? null;
  return merged;
}
