// Fleet query benchmark: seeds N endpoints x 5 servers (20 popular, 50k long-tail fingerprints)
// and times "who runs server X" and related queries through the store. From collector/:
//   node tests/bench/fleet-query-bench.mjs sqlite|postgres [N=100000]
import { createStore } from '../../dist/store/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
const engine = process.argv[2] ?? 'sqlite';
const N = Number(process.argv[3] ?? 100000);
const opts = engine === 'sqlite' ? { dataDir: mkdtempSync(join(tmpdir(), 'mcpw-fleet-')) } : { databaseUrl: (process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1/test'), pgSchema: 'fleet_' + Date.now() };
const store = await createStore(opts);
const db = store.db;
const now = new Date().toISOString();
const t0 = Date.now();
// 100k endpoints; each has 5 servers: 2 from a popular set of 20, 3 from a long tail of 50k.
for (let start = 0; start < N; start += 1000) {
  await db.transaction().execute(async (trx) => {
    const eps = [], srv = [];
    for (let i = start; i < Math.min(N, start + 1000); i++) {
      const ep = 'ep' + String(i).padStart(7, '0');
      eps.push({ endpoint_id: ep, hostname: 'host-' + i, platform: 'darwin', first_seen: now, last_seen: now });
      const fps = ['pop' + (i % 20), 'pop' + ((i * 7) % 20), 'tail' + ((i * 13) % 50000), 'tail' + ((i * 17 + 3) % 50000), 'tail' + ((i * 31 + 7) % 50000)];
      fps.forEach((fp, k) => srv.push({ endpoint_id: ep, server_key: 'k' + k, fingerprint: fp, name: fp, client: 'cursor', scope: 'user', config_path: '/x', user_name: 'u', transport: 'stdio', command: 'npx', url: null, package_ecosystem: 'npm', package_name: fp, package_version: '1', package_pinned: 1, disabled: 0, first_seen: now, last_seen: now, present: 1, removed_at: null, data: '{}' }));
    }
    await trx.insertInto('endpoints').values(eps).execute();
    for (let j = 0; j < srv.length; j += 1000) await trx.insertInto('servers').values(srv.slice(j, j + 1000)).execute();
  });
}
if (engine === 'postgres') await sql`analyze`.execute(db); else await sql`analyze`.execute(db);
console.log('seeded', N, 'endpoints in', Date.now() - t0, 'ms');
async function time(label, fn) {
  const lat = [];
  for (let i = 0; i < 200; i++) { const s = performance.now(); await fn(i); lat.push(performance.now() - s); }
  lat.sort((a, b) => a - b);
  console.log(engine, label, 'p50', lat[100].toFixed(2), 'ms p95', lat[190].toFixed(2), 'ms');
}
await time('who runs popular server (first page of 100, of ~10k)', (i) => store.serverEndpoints('pop' + (i % 20), { limit: 100 }));
await time('who runs long-tail server', (i) => store.serverEndpoints('tail' + (i * 101 % 50000), { limit: 100 }));
await time('endpoints running server name=pop3', () => store.listEndpoints({ serverName: 'pop3', limit: 100 }));
await time('servers?name=tail42 (grouped)', (i) => store.listServers({ name: 'tail' + (i % 1000) }));
await store.close();
if (engine !== 'sqlite') { const pg = (await import('pg')).default; const c = new pg.Client((process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1/test')); await c.connect(); await c.query(`drop schema ${opts.pgSchema} cascade`); await c.end(); }
else rmSync(opts.dataDir, { recursive: true, force: true });
