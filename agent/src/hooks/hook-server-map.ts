/**
 * The server-name -> fingerprint map the hook command reads, so each `tool.called` record names
 * the server's fingerprint (the inventory's, shared/protocol ids) and per-server policy by
 * fingerprint or package applies on the hook's path.
 *
 * On disk: `<stateDir>/hook-servers/`, for each user home the scan covers, `h-<hash of the home
 * folder>.json` and `<user key>.json` (that user's entries plus the entries of no known user:
 * machine-wide and managed configs), and `_.json` for the entries of no known user alone. The hook
 * reads the file of its home folder first (a Windows profile folder need not be named after the
 * account), then of its user name, then `_.json`. Written by the running
 * agent from its inventory (hook-server-map-writer.ts), atomically, only when the content changed;
 * read by the hook with one small file read (no @mcpwatch/shared: the hook's start-up budget).
 *
 * Resolution (resolveServer), for the hook's client and the server name the client gave:
 * - entries of the client's catalog ids with that name (exact; else case-insensitive);
 * - one distinct fingerprint: resolved (`match: 'unique'`);
 * - several (the same name in two configs: a project's `.mcp.json` and the user's settings, two
 *   projects, ...): the entries whose project folder holds the hook's cwd, most specific folder
 *   first (what the client itself runs there: project before user scope); else the entries of no
 *   project; one fingerprint there: resolved (`match: 'project'` / `'user'`);
 * - still several: NOT resolved (`match: 'ambiguous'`), the candidates are recorded, and a policy
 *   that blocks any candidate by fingerprint or package blocks the call (policy errs to the block);
 * - none: `match: 'none'`, the record carries the name only.
 * Never throws: an unreadable or malformed map file is "no map" (the record carries the name only).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { byText } from '../normalize/text-order.js';

export const SERVER_MAP_DIR = 'hook-servers';
export const SERVER_MAP_VERSION = 1;
/** Candidate fingerprints kept in a record of an ambiguous name. */
export const MAX_CANDIDATES = 8;
const MAX_MAP_BYTES = 4 * 1024 * 1024;

/** One server entry as the hook sees it (short keys: the file is read on every tool call). */
export interface MapEntry {
  /** Discovery catalog client id (claude-code, vscode, codex, ...). */
  c: string;
  /** Server name as configured. */
  n: string;
  /** Fingerprint. */
  f: string;
  /** Package name, when known. */
  p?: string;
  /** Scope (user, project, workspace, managed, ...). */
  s: string;
  /** Project folder the entry applies to, when project-scoped. */
  d?: string;
  /** Cursor's label for it (host of the URL, or the package/script the command runs). */
  l?: string;
}

export interface ServerMapFile {
  v: number;
  generatedAt: string;
  entries: MapEntry[];
}

export interface ServerResolution {
  match: 'unique' | 'project' | 'user' | 'ambiguous' | 'none';
  fingerprint: string | null;
  packageName: string | null;
  /** Distinct fingerprints the name matched, sorted, at most MAX_CANDIDATES (ambiguous only). */
  candidates: string[];
  /** Distinct package names of the candidates (policy by package). */
  candidatePackages: string[];
}

/** The file name of a user's map: the user name made safe for a file name (lower-cased on Windows). */
export function userMapKey(user: string | null | undefined, platform: NodeJS.Platform = process.platform): string {
  if (!user) return '_';
  const u = platform === 'win32' ? user.toLowerCase() : user;
  return encodeURIComponent(u).replace(/\./g, '%2E').slice(0, 200) || '_';
}

/** The file name of a home folder's map (case-folded on Windows). */
export function homeMapKey(home: string, platform: NodeJS.Platform = process.platform): string {
  const p = platform === 'win32' ? path.win32.resolve(home).toLowerCase() : path.resolve(home);
  return `h-${createHash('sha256').update(p).digest('hex').slice(0, 32)}`;
}

/**
 * Reads the map of a hook run by `user` in `home` (the home's file, else the user's, else the
 * no-user file). Null when there is none or it is unreadable.
 */
export function readServerMap(stateDir: string, user: string | null | undefined, home?: string | null): ServerMapFile | null {
  const dir = path.join(stateDir, SERVER_MAP_DIR);
  const keys = [...(home ? [homeMapKey(home)] : []), ...(user ? [userMapKey(user)] : []), '_'];
  for (const key of keys) {
    let text: string;
    try {
      const file = path.join(dir, `${key}.json`);
      if (fs.statSync(file).size > MAX_MAP_BYTES) return null;
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    try {
      const doc = JSON.parse(text) as ServerMapFile;
      if (doc && doc.v === SERVER_MAP_VERSION && Array.isArray(doc.entries)) return doc;
    } catch {
      // a torn or foreign file: no map (writes are atomic, so this is not ours)
    }
    return null;
  }
  return null;
}

/** The catalog client ids whose configured servers a hook client runs. */
export function catalogClientsOf(hookClient: string): readonly string[] {
  switch (hookClient) {
    case 'windsurf':
      return ['windsurf', 'devin-desktop'];
    case 'codex':
      return ['codex', 'codex-desktop'];
    case 'vscode':
      return ['vscode', 'vscode-insiders'];
    default:
      return [hookClient];
  }
}

function isUnder(dir: string, cwd: string): boolean {
  const rel = path.relative(dir, cwd);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

const NONE: ServerResolution = { match: 'none', fingerprint: null, packageName: null, candidates: [], candidatePackages: [] };

function distinct(entries: readonly MapEntry[]): MapEntry[] {
  const byFp = new Map<string, MapEntry>();
  for (const e of entries) if (!byFp.has(e.f)) byFp.set(e.f, e);
  return [...byFp.values()];
}

/** See the module comment. `name` is the server as the client named it (or Cursor's label). */
export function resolveServer(map: ServerMapFile | null, req: { client: string; name: string; cwd?: string | null }): ServerResolution {
  if (!map || !req.name) return NONE;
  const clients = new Set(catalogClientsOf(req.client));
  const mine = map.entries.filter((e) => e && clients.has(e.c) && typeof e.f === 'string');
  let hits = mine.filter((e) => e.n === req.name || e.l === req.name);
  if (hits.length === 0) {
    const lower = req.name.toLowerCase();
    hits = mine.filter((e) => e.n?.toLowerCase() === lower || e.l?.toLowerCase() === lower);
  }
  const all = distinct(hits);
  if (all.length === 0) return NONE;
  const one = (e: MapEntry, match: ServerResolution['match']): ServerResolution => ({ match, fingerprint: e.f, packageName: e.p ?? null, candidates: [], candidatePackages: [] });
  if (all.length === 1) return one(all[0] as MapEntry, 'unique');
  const cwd = req.cwd ? path.resolve(req.cwd) : null;
  const inProject = cwd ? hits.filter((e) => e.d && isUnder(path.resolve(e.d), cwd)) : [];
  if (inProject.length > 0) {
    const deepest = Math.max(...inProject.map((e) => path.resolve(e.d as string).length));
    const best = distinct(inProject.filter((e) => path.resolve(e.d as string).length === deepest));
    if (best.length === 1) return one(best[0] as MapEntry, 'project');
  } else {
    const global = distinct(hits.filter((e) => !e.d));
    if (global.length === 1) return one(global[0] as MapEntry, 'user');
  }
  const sorted = all.sort((a, b) => byText(a.f, b.f));
  return {
    match: 'ambiguous',
    fingerprint: null,
    packageName: null,
    candidates: sorted.slice(0, MAX_CANDIDATES).map((e) => e.f),
    candidatePackages: [...new Set(sorted.map((e) => e.p).filter((p): p is string => !!p))].slice(0, MAX_CANDIDATES),
  };
}

/**
 * Clients that join server and tool with a separator both may contain: Gemini CLI and VS Code
 * (`mcp_<server>_<tool>`), GitHub Copilot CLI (`<server>-<tool>`). The configured server names of
 * the map decide where the server ends (the longest configured name that fits). Null when no
 * configured name fits (the protocol's own split stands).
 */
export function splitByKnownServer(map: ServerMapFile | null, hookClient: string, toolName: string): { server: string; tool: string } | null {
  if (!map) return null;
  const prefixOf = hookClient === 'copilot-cli' ? (n: string) => `${n}-` : toolName.startsWith('mcp_') ? (n: string) => `mcp_${n}_` : null;
  if (!prefixOf) return null;
  const clients = new Set(catalogClientsOf(hookClient));
  let best: string | null = null;
  for (const e of map.entries) {
    if (!e || !clients.has(e.c) || typeof e.n !== 'string') continue;
    const prefix = prefixOf(e.n);
    if (toolName.length > prefix.length && toolName.startsWith(prefix) && (best === null || e.n.length > best.length)) best = e.n;
  }
  return best === null ? null : { server: best, tool: toolName.slice(prefixOf(best).length) };
}
