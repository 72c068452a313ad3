/**
 * The running agent's side of the hook's server map (hook-server-map.ts describes the files and
 * how the hook resolves a name): from the inventory's server entries, one file per OS user plus
 * `_.json`, each replaced atomically (temporary file + rename: a hook never reads a torn map) and
 * only when its content changed; a user who no longer has entries loses the file.
 *
 * The files hold names, fingerprints, package names, scopes and project folders: no secret (env
 * and header values, URL credentials and arguments never enter them). Each user's file holds only
 * that user's entries and the machine-wide ones, so a user cannot read another's server names
 * from it. Mode 0644: the hook runs as the client's user, not as the agent.
 *
 * Never throws: failures go to onError and the previous files stay.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ServerEntry } from '@mcpwatch/shared';
import { writeFileDurable } from '../spool/durable-file.js';
import { serverLabelFromEndpoint } from './hook-protocol.js';
import { homeMapKey, SERVER_MAP_DIR, SERVER_MAP_VERSION, userMapKey, type MapEntry, type ServerMapFile } from './hook-server-map.js';
import { byText } from '../normalize/text-order.js';

/** Most entries one map file holds (a laptop has tens; bounded like every on-disk structure). */
export const MAX_MAP_ENTRIES = 20_000;

function entryOf(s: ServerEntry): MapEntry {
  const e: MapEntry = { c: s.client, n: s.name, f: s.fingerprint, s: s.scope };
  if (s.package?.name) e.p = s.package.name;
  if (s.projectPath) e.d = s.projectPath;
  if (s.client === 'cursor') {
    const label = serverLabelFromEndpoint(s.url, s.command ? [s.command, ...s.args].join(' ') : null);
    if (label !== 'unknown' && label !== s.name) e.l = label;
  }
  return e;
}

function sortKey(e: MapEntry): string {
  return JSON.stringify([e.c, e.n, e.f, e.s, e.d ?? '', e.p ?? '', e.l ?? '']);
}

export class HookServerMapWriter {
  private readonly written = new Map<string, string>();

  constructor(private readonly o: { stateDir: string; onError: (e: Error) => void; platform?: NodeJS.Platform }) {}

  /**
   * Writes the maps for `servers` (the in-effect servers of the inventory) and `homes` (the user
   * homes the scan covered: each gets its home-keyed file). Returns the files changed.
   */
  update(servers: readonly ServerEntry[], homes: readonly { user: string; home: string }[] = [], now: Date = new Date()): number {
    try {
      const dir = path.join(this.o.stateDir, SERVER_MAP_DIR);
      const shared: MapEntry[] = [];
      const byUser = new Map<string, MapEntry[]>();
      for (const s of servers) {
        const e = entryOf(s);
        if (!s.user) shared.push(e);
        else {
          const key = userMapKey(s.user, this.o.platform);
          byUser.set(key, [...(byUser.get(key) ?? []), e]);
        }
      }
      const files = new Map<string, MapEntry[]>([['_', shared]]);
      for (const [key, list] of byUser) files.set(key, [...list, ...shared]);
      for (const h of homes) files.set(homeMapKey(h.home, this.o.platform), [...(byUser.get(userMapKey(h.user, this.o.platform)) ?? []), ...shared]);
      fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
      let changed = 0;
      for (const [key, list] of files) {
        const entries = [...new Map(list.map((e) => [sortKey(e), e])).values()].sort((a, b) => byText(sortKey(a), sortKey(b))).slice(0, MAX_MAP_ENTRIES);
        const body = JSON.stringify(entries);
        if (this.written.get(key) === body && fs.existsSync(path.join(dir, `${key}.json`))) continue;
        const doc: ServerMapFile = { v: SERVER_MAP_VERSION, generatedAt: now.toISOString(), entries };
        writeFileDurable(path.join(dir, `${key}.json`), JSON.stringify(doc), 0o644);
        this.written.set(key, body);
        changed++;
      }
      for (const name of fs.readdirSync(dir)) {
        const key = name.endsWith('.json') ? name.slice(0, -5) : null;
        if (key === null || files.has(key)) continue;
        fs.rmSync(path.join(dir, name), { force: true });
        this.written.delete(key);
        changed++;
      }
      return changed;
    } catch (e) {
      this.o.onError(e as Error);
      return 0;
    }
  }
}
