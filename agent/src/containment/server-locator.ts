/**
 * Where a server entry sits inside its config file: the key path from the document root to the
 * entry (`mcpServers > github`, `projects > /repo > mcpServers > x`, `mcp_servers > x`), found by
 * following the client's catalog sections through the parsed document, the way discovery read it.
 * Pure: no I/O.
 *
 * Outcomes: one path; `not-found` (the entry is not there now); `unsupported` (the client keeps its
 * servers as a list or as a single-entry file: removing one is not a keyed edit this agent makes);
 * `ambiguous` (several places hold an entry of that name and nothing tells which).
 */
import { clientById, type ServerSection } from '../catalog/index.js';
import { isPlainObject } from '../discovery/entry-extractor.js';

export type Located =
  | { ok: true; keyPath: string[] }
  | { ok: false; why: 'not-found' | 'unsupported' | 'ambiguous'; message: string };

interface Reached {
  path: string[];
  value: unknown;
  wildcards: Map<number, string>;
}

function reach(doc: unknown, pattern: readonly string[]): Reached[] {
  let frontier: Reached[] = [{ path: [], value: doc, wildcards: new Map() }];
  pattern.forEach((key, index) => {
    const next: Reached[] = [];
    for (const r of frontier) {
      if (!isPlainObject(r.value)) continue;
      if (key === '*') for (const [k, v] of Object.entries(r.value)) next.push({ path: [...r.path, k], value: v, wildcards: new Map(r.wildcards).set(index, k) });
      else if (Object.hasOwn(r.value, key)) next.push({ path: [...r.path, key], value: r.value[key], wildcards: r.wildcards });
    }
    frontier = next;
  });
  return frontier;
}

/** Finds the entry `name` of `client` in `doc` (the parsed config file). */
export function locateEntry(doc: unknown, client: string, name: string, projectPath: string | null | undefined): Located {
  const def = clientById(client);
  if (!def) return { ok: false, why: 'unsupported', message: `client ${client} is not in this agent's catalog` };
  const found = new Map<string, string[]>();
  let listShaped = false;
  const sections: ServerSection[] = def.locations.flatMap((l) => [...l.sections]);
  for (const s of sections) {
    if (s.shape === 'list' || s.shape === 'single') {
      listShaped = true;
      continue;
    }
    let containers = reach(doc, s.path);
    if (containers.length === 0 && s.rootFallback) containers = [{ path: [], value: doc, wildcards: new Map() }];
    for (const c of containers) {
      let at = c.path;
      let value = c.value;
      if (s.unwrapKey && isPlainObject(value) && isPlainObject(value[s.unwrapKey]) && Object.hasOwn(value[s.unwrapKey] as object, name)) {
        at = [...at, s.unwrapKey];
        value = value[s.unwrapKey];
      }
      if (Array.isArray(value)) listShaped = true;
      if (!isPlainObject(value) || !isPlainObject(value[name])) continue;
      if (s.projectKeyIndex !== undefined && projectPath && c.wildcards.get(s.projectKeyIndex) !== projectPath) continue;
      const keyPath = [...at, name];
      found.set(JSON.stringify(keyPath), keyPath);
    }
  }
  const paths = [...found.values()];
  if (paths.length === 1) return { ok: true, keyPath: paths[0]! };
  if (paths.length > 1) return { ok: false, why: 'ambiguous', message: `${paths.length} entries named ${name} in this file (${paths.map((p) => p.join(' > ')).join('; ')})` };
  if (listShaped) return { ok: false, why: 'unsupported', message: `${client} keeps servers in a list here; only keyed entries are quarantined` };
  return { ok: false, why: 'not-found', message: `no entry named ${name} in the file any more` };
}
