/**
 * Tools that MCP clients keep on disk about their servers, read without starting anything.
 *
 * VS Code (and Insiders) keep the tools of each MCP server definition under the storage key
 * `mcpToolCache` (McpServerMetadataCache in vscode's workbench/contrib/mcp), in the SQLite
 * `state.vscdb` of the user (`User/globalStorage/`) and of each workspace
 * (`User/workspaceStorage/<id>/`), table `ItemTable(key, value)`. The value is JSON, either
 * `{ extensionServers, serverTools: [[definitionId, { tools, serverName?, serverInstructions? }]] }`
 * (current) or `[[definitionId, { tools }]]` (older releases); both are read.
 *
 * Contract:
 * - Opens databases read-only (`fileMustExist`); never writes; at most MAX_CACHE_FILES files and
 *   MAX_CACHED_SERVERS servers per file; a file unchanged since the last read (size + mtime) is
 *   not opened again.
 * - A file that cannot be opened or parsed (locked, corrupt, SQLite unavailable in this build) is
 *   an error record `{ path, code, reason }`, never an empty result that looks like "no tools".
 * - Per OS user-data folders come from `userDataDirs(platform, home)`; tests pass a fake home.
 */
import { readdirSync, statSync } from 'node:fs';
import { loadSqlite as sqlite } from '../discovery/sqlite.js';
import path from 'node:path';
import type { ProbedTool } from '../probe/mcp-probe.js';
import { osSpec } from '../platform/os.js';
import type { Platform } from '../types.js';

export const MAX_CACHE_FILES = 200;
export const MAX_CACHED_SERVERS = 256;

export interface CachedServerTools {
  client: 'vscode' | 'vscode-insiders';
  sourcePath: string;
  /** VS Code's server definition id (e.g. `mcp.config.usrlocal.github`). */
  definitionId: string;
  serverName: string | null;
  instructions: string | null;
  tools: ProbedTool[];
}

export interface CacheReadError {
  path: string;
  code: 'cache-unreadable' | 'cache-parse' | 'sqlite-unavailable';
  reason: string;
}

/** The VS Code user-data folders of one home on one OS. */
export function userDataDirs(platform: Platform, home: string): { client: CachedServerTools['client']; dir: string }[] {
  // The OS's per-user application data folder, without the session's overrides (any home).
  const base = osSpec(platform).appData(home, () => undefined);
  return [
    { client: 'vscode', dir: path.join(base, 'Code', 'User') },
    { client: 'vscode-insiders', dir: path.join(base, 'Code - Insiders', 'User') },
  ];
}

function stateFiles(userDir: string): string[] {
  const out: string[] = [];
  const global = path.join(userDir, 'globalStorage', 'state.vscdb');
  if (isFile(global)) out.push(global);
  let entries: string[] = [];
  try {
    entries = readdirSync(path.join(userDir, 'workspaceStorage'));
  } catch {
    return out;
  }
  for (const e of entries.sort()) {
    if (out.length >= MAX_CACHE_FILES) break;
    const f = path.join(userDir, 'workspaceStorage', e, 'state.vscdb');
    if (isFile(f)) out.push(f);
  }
  return out;
}

function isFile(p: string): boolean {
  try {
    return statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false;
  }
}

function toolsOf(v: unknown): ProbedTool[] {
  if (!Array.isArray(v)) return [];
  return v
    .filter((t): t is Record<string, unknown> => typeof t === 'object' && t !== null && typeof (t as { name?: unknown }).name === 'string')
    .slice(0, 500)
    .map((t) => ({
      name: String(t.name).slice(0, 256),
      title: typeof t.title === 'string' ? t.title.slice(0, 512) : null,
      description: typeof t.description === 'string' ? t.description.slice(0, 65_536) : null,
      inputSchema: t.inputSchema ?? null,
      annotations: typeof t.annotations === 'object' && t.annotations !== null ? { ...(t.annotations as Record<string, unknown>) } : null,
    }));
}

/** Parses the `mcpToolCache` value (either layout). Throws on JSON that is neither. */
export function parseVsCodeToolCache(json: string): Array<{ definitionId: string; serverName: string | null; instructions: string | null; tools: ProbedTool[] }> {
  const v = JSON.parse(json) as unknown;
  const pairs = Array.isArray(v) ? v : (v as { serverTools?: unknown } | null)?.serverTools;
  if (!Array.isArray(pairs)) throw new Error('mcpToolCache is neither a list nor { serverTools }');
  const out = [];
  for (const p of pairs.slice(0, MAX_CACHED_SERVERS)) {
    if (!Array.isArray(p) || typeof p[0] !== 'string' || typeof p[1] !== 'object' || p[1] === null) continue;
    const e = p[1] as { tools?: unknown; serverName?: unknown; serverInstructions?: unknown };
    out.push({
      definitionId: p[0].slice(0, 512),
      serverName: typeof e.serverName === 'string' ? e.serverName.slice(0, 512) : null,
      instructions: typeof e.serverInstructions === 'string' ? e.serverInstructions.slice(0, 65_536) : null,
      tools: toolsOf(e.tools),
    });
  }
  return out;
}

/** Reads VS Code tool caches of the given homes; remembers file stamps to skip unchanged files. */
export class ClientToolCacheReader {
  private readonly stamps = new Map<string, { stamp: string; servers: CachedServerTools[] }>();

  read(platform: Platform, homes: readonly string[]): { servers: CachedServerTools[]; errors: CacheReadError[] } {
    const servers: CachedServerTools[] = [];
    const errors: CacheReadError[] = [];
    const seen = new Set<string>();
    for (const home of homes) {
      for (const { client, dir } of userDataDirs(platform, home)) {
        for (const file of stateFiles(dir)) {
          seen.add(file);
          let stamp: string;
          try {
            const st = statSync(file);
            stamp = `${st.size}:${st.mtimeMs}`;
          } catch (e) {
            errors.push({ path: file, code: 'cache-unreadable', reason: (e as Error).message.slice(0, 512) });
            continue;
          }
          const known = this.stamps.get(file);
          if (known?.stamp === stamp) {
            servers.push(...known.servers);
            continue;
          }
          const Sqlite = sqlite();
          if (!Sqlite) {
            errors.push({ path: file, code: 'sqlite-unavailable', reason: 'this agent build has no SQLite reader; VS Code tool caches are not read' });
            continue;
          }
          let value: string | null = null;
          try {
            const db = new Sqlite(file, { readonly: true, fileMustExist: true, timeout: 200 });
            try {
              const row = db.prepare("SELECT value FROM ItemTable WHERE key = 'mcpToolCache'").get() as { value?: unknown } | undefined;
              value = row?.value === undefined || row.value === null ? null : Buffer.isBuffer(row.value) ? row.value.toString('utf8') : String(row.value);
            } finally {
              db.close();
            }
          } catch (e) {
            errors.push({ path: file, code: 'cache-unreadable', reason: (e as Error).message.slice(0, 512) });
            continue;
          }
          let found: CachedServerTools[] = [];
          if (value !== null) {
            try {
              found = parseVsCodeToolCache(value).map((s) => ({ ...s, client, sourcePath: file }));
            } catch (e) {
              errors.push({ path: file, code: 'cache-parse', reason: (e as Error).message.slice(0, 512) });
              continue;
            }
          }
          this.stamps.set(file, { stamp, servers: found });
          servers.push(...found);
        }
      }
    }
    for (const f of [...this.stamps.keys()]) if (!seen.has(f)) this.stamps.delete(f);
    return { servers, errors };
  }
}
