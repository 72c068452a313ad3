/**
 * Docker MCP Toolkit profiles (working sets): the servers of each profile, kept by docker/mcp-gateway
 * in the SQLite database ~/.docker/mcp/mcp-toolkit.db, table working_set (id, name, servers JSON,
 * secrets JSON; pkg/db/workingset.go, migrations/001_initial.up.sql). Each server is
 * {type: registry|image|remote, image, endpoint, config, tools, snapshot: {server: catalog Server}}
 * and is named by snapshot.server.name (workingset.go FindServer).
 *
 * The database is opened read-only (better-sqlite3, loaded on first use; a build without it gets a
 * coded error), with a short busy timeout; the gateway may hold it open. The result is a document
 * {profiles: {<profile>: {servers: {<profile>/<name>: <definition in the docker-mcp dialect>}}}} read by the
 * catalog location like any parsed file. The `secrets` column (provider names) is never read, nor
 * are secret values, which live in Docker's secret store.
 *
 * Contract: never throws; a database that cannot be opened or queried is one ConfigError (code
 * `unreadable`, or `sqlite-unavailable`), a profile whose servers are not JSON is `parse` and the
 * other profiles are kept, size bounded like any config file (`too-large`).
 */
import { statSync } from 'node:fs';
import type { ConfigError } from '@mcpwatch/shared';
import type { FileStat, ReadResult } from './config-reader.js';
import { isPlainObject } from './entry-extractor.js';
import { loadSqlite } from './sqlite.js';

/** Most profiles read, and most servers per profile. */
export const MAX_PROFILES = 500;
export const MAX_PROFILE_SERVERS = 1000;

const obj = (): Record<string, unknown> => Object.create(null) as Record<string, unknown>;

function err(path: string, client: string, code: string, reason: string): ConfigError {
  return { path, client, code, reason: reason.slice(0, 2048), line: null, column: null };
}

/** One profile server as a docker-mcp definition: its catalog snapshot, with the profile's image / endpoint over it. */
function definitionOf(server: Record<string, unknown>): Record<string, unknown> {
  const snapshot = isPlainObject(server.snapshot) && isPlainObject(server.snapshot.server) ? server.snapshot.server : {};
  const def = obj();
  Object.assign(def, snapshot);
  if (typeof server.image === 'string' && server.image !== '') def.image = server.image;
  if (typeof server.endpoint === 'string' && server.endpoint !== '') {
    def.remote = { ...(isPlainObject(snapshot.remote) ? snapshot.remote : {}), url: server.endpoint };
  }
  def.profileServerType = typeof server.type === 'string' ? server.type : null;
  return def;
}

/** The database read as a document (or why not), and the profiles that could not be read beside it. */
export interface ProfilesRead {
  read: ReadResult;
  errors: ConfigError[];
}

/** Reads the profiles of a Docker MCP Toolkit database into a document. */
export function readDockerProfiles(path: string, maxFileBytes: number, client: string): ProfilesRead {
  const read = readProfiles(path, maxFileBytes, client);
  return 'errors' in read ? read : { read, errors: [] };
}

function readProfiles(path: string, maxFileBytes: number, client: string): ReadResult | ProfilesRead {
  let stat: FileStat;
  try {
    const st = statSync(path);
    if (!st.isFile()) return { status: 'error', error: err(path, client, 'not-a-file', 'not a regular file; not read'), stat: null };
    stat = { mode: st.mode, uid: st.uid, size: st.size, mtimeMs: st.mtimeMs };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { status: 'missing' };
    return { status: 'error', error: err(path, client, 'unreadable', `cannot stat the profiles database (${code ?? 'error'})`), stat: null };
  }
  if (stat.size > maxFileBytes) return { status: 'error', error: err(path, client, 'too-large', `profiles database is ${stat.size} bytes, over the ${maxFileBytes} byte limit; not read`), stat };
  const Sqlite = loadSqlite();
  if (!Sqlite) return { status: 'error', error: err(path, client, 'sqlite-unavailable', 'this agent build has no SQLite reader; Docker MCP Toolkit profiles are not read'), stat };
  let rows: unknown[];
  try {
    const db = new Sqlite(path, { readonly: true, fileMustExist: true, timeout: 200 });
    try {
      rows = db.prepare(`SELECT name, servers FROM working_set ORDER BY name LIMIT ${MAX_PROFILES}`).all();
    } finally {
      db.close();
    }
  } catch (e) {
    return { status: 'error', error: err(path, client, 'unreadable', `cannot read the profiles (working_set) of this database: ${(e as Error).message}`), stat };
  }
  const profiles = obj();
  const errors: ConfigError[] = [];
  for (const row of rows) {
    if (!isPlainObject(row) || typeof row.name !== 'string') continue;
    let servers: unknown;
    try {
      servers = JSON.parse(typeof row.servers === 'string' ? row.servers : Buffer.isBuffer(row.servers) ? row.servers.toString('utf8') : '[]');
    } catch {
      errors.push(err(path, client, 'parse', `profile "${row.name.slice(0, 128)}": its servers are not valid JSON; not read`));
      continue;
    }
    const map = obj();
    (Array.isArray(servers) ? servers : []).slice(0, MAX_PROFILE_SERVERS).forEach((s, i) => {
      if (!isPlainObject(s)) return;
      const def = definitionOf(s);
      // Named <profile>/<server>: one server may sit in several profiles, each its own entry.
      const name = typeof def.name === 'string' && def.name !== '' ? def.name : String(i);
      map[`${row.name as string}/${name}`] = def;
    });
    const profile = obj();
    profile.servers = map;
    profiles[row.name] = profile;
  }
  const document = obj();
  document.profiles = profiles;
  return { read: { status: 'ok', document, stat }, errors };
}
