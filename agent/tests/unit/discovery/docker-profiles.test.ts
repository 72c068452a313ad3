/**
 * Docker MCP Toolkit profiles (working sets) in ~/.docker/mcp/mcp-toolkit.db: a real SQLite
 * database with the gateway's working_set table (docker/mcp-gateway pkg/db/migrations/001), read
 * read-only into servers named <profile>/<server>, with their images and remote endpoints; a
 * database without the table, a profile whose servers are not JSON, and a file that is not a
 * database give coded errors, the readable profiles are kept.
 */
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discover, watchTargets } from '../../../src/discovery/index.js';
import { normalizeEntry } from '../../../src/normalize/index.js';
import type { ScanContext } from '../../../src/types.js';

interface Db {
  exec(sql: string): void;
  prepare(sql: string): { run(...args: unknown[]): void };
  close(): void;
}
const Sqlite = createRequire(import.meta.url)('better-sqlite3') as new (file: string) => Db;

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'mcpw-dockerdb-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function database(home: string, profiles: Array<[string, string]>, withTable = true): string {
  const dir = join(home, '.docker', 'mcp');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'mcp-toolkit.db');
  const db = new Sqlite(file);
  if (withTable) {
    db.exec('create table working_set (id text primary key, name text not null, servers text not null, secrets text not null)');
    const insert = db.prepare('insert into working_set (id, name, servers, secrets) values (?, ?, ?, ?)');
    profiles.forEach(([name, servers], i) => insert.run(`id-${i}`, name, servers, '{"default": {"provider": "docker-desktop-store"}}'));
  } else db.exec('create table other (x text)');
  db.close();
  return file;
}

async function scan(home: string) {
  const ctx: ScanContext = { platform: 'linux', homes: [{ user: 'dev', home }], env: {}, projectRoots: [], systemRoot: join(root, 'sys') };
  const r = await discover(ctx);
  const files = r.files.filter((f) => f.path.endsWith('mcp-toolkit.db'));
  const servers = files.flatMap((f) => f.entries).map((e) => {
    const n = normalizeEntry(e);
    if (!n.ok) throw new Error(n.error.reason);
    return n.server;
  });
  return { servers, errors: files.flatMap((f) => f.errors).map((e) => e.code), ctx };
}

describe('Docker MCP Toolkit profiles', () => {
  it('reads every profile\'s servers (image, remote endpoint, secret names) as profile-scoped servers', async () => {
    const home = join(root, 'dev');
    const dev = JSON.stringify([
      { type: 'image', image: 'mcp/github@sha256:' + 'a'.repeat(64), tools: [], snapshot: { server: { name: 'github', type: 'server', image: 'mcp/github:latest', secrets: [{ name: 'github.token', env: 'GITHUB_TOKEN' }] } } },
      { type: 'remote', endpoint: 'https://mcp.linear.app/sse', snapshot: { server: { name: 'linear', type: 'remote', remote: { transport_type: 'sse' } } } },
    ]);
    const ops = JSON.stringify([{ type: 'registry', image: 'mcp/github:1.0.0', snapshot: { server: { name: 'github', type: 'server' } } }]);
    const file = database(home, [['dev', dev], ['ops', ops]]);
    const { servers, errors, ctx } = await scan(home);
    expect(errors).toEqual([]);
    expect(servers.map((s) => `${s.name} ${s.scope} ${s.transport}`).sort()).toEqual(['dev/github profile stdio', 'dev/linear profile sse', 'ops/github profile stdio']);
    const gh = servers.find((s) => s.name === 'dev/github')!;
    expect(gh).toMatchObject({ client: 'docker-mcp-toolkit', configPath: file, command: 'docker', envKeys: ['GITHUB_TOKEN'] });
    expect(gh.package).toMatchObject({ ecosystem: 'oci', name: 'mcp/github', pinned: true });
    expect(servers.find((s) => s.name === 'dev/linear')?.url).toBe('https://mcp.linear.app/sse');
    expect(servers.find((s) => s.name === 'ops/github')?.package).toMatchObject({ version: '1.0.0' });
    expect(watchTargets(ctx)).toContain(file);
  });

  it('keeps the readable profiles when one profile\'s servers are not JSON', async () => {
    const home = join(root, 'dev');
    database(home, [['broken', '[{"type": '], ['fine', JSON.stringify([{ type: 'image', image: 'mcp/time:1', snapshot: { server: { name: 'time' } } }])]]);
    const { servers, errors } = await scan(home);
    expect(servers.map((s) => s.name)).toEqual(['fine/time']);
    expect(errors).toEqual(['parse']);
  });

  it('reports a database without profiles and a file that is not a database as unreadable', async () => {
    const home = join(root, 'dev');
    database(home, [], false);
    expect((await scan(home)).errors).toEqual(['unreadable']);
    writeFileSync(join(home, '.docker', 'mcp', 'mcp-toolkit.db'), 'not a database at all');
    const r = await scan(home);
    expect(r.errors).toEqual(['unreadable']);
    expect(r.servers).toEqual([]);
  });
});
