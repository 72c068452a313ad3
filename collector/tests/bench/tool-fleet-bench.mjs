// Tool fleet benchmark (issue 12): N endpoints x 10 tools of 5 popular servers, all at one version,
// seeded straight into endpoint_tools and the fleet counters (tool-fleet-divergence.ts). Times,
// through the real projection code in a transaction each:
//   - one tool.changed batch on an endpoint of a group of N endpoints (the incremental path: the
//     group's counts, its majority, this endpoint's finding), alternately diverging and converging;
//   - baseline, same run: the same batch for a tool with no fleet identity (only the upsert);
//   - what a full-fleet scan per batch would cost: the old divergence query (group by over every
//     present tool row) once;
//   - GET /v1/tools (toolsPage, from the tool summary) and "which endpoints expose tool X" (first page).
// From collector/ after `npx tsc -b`:  node tests/bench/tool-fleet-bench.mjs sqlite|postgres [N=100000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { makeEvent } from '@mcpwatch/shared';
import { createStore } from '../../dist/store/index.js';
import { projectToolEvents } from '../../dist/tools/tool-projection.js';
import { exposingPage, toolsPage } from '../../dist/tools/tool-queries.js';
import { fleetGroupOf, variantOf } from '../../dist/tools/tool-fleet-divergence.js';

const engine = process.argv[2] ?? 'sqlite';
const N = Number(process.argv[3] ?? 100000);
const pgUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1/test';
const opts = engine === 'sqlite' ? { dataDir: mkdtempSync(join(tmpdir(), 'mcpw-toolfleet-')) } : { databaseUrl: pgUrl, pgSchema: 'toolfleet_' + Date.now() };
const store = await createStore(opts);
const db = store.db;
const now = new Date().toISOString();
const H = (c) => c.repeat(64);
const tool = (server, name, d = 'a') => ({
  serverId: 'fp-' + server, serverKey: null, serverName: server, serverVersion: '1.0.0', source: 'probe', name, title: null,
  descriptionSha256: H(d), inputSchemaSha256: H('b'), annotationsSha256: null, annotations: {}, instructionsSha256: null, capabilities: name === 'run' ? ['shell-exec'] : [],
});
const TOOLS = [];
for (let s = 0; s < 5; s++) for (const name of ['run', 'read']) TOOLS.push(tool('srv' + s, name));

const t0 = Date.now();
for (let start = 0; start < N; start += 500) {
  await db.transaction().execute(async (trx) => {
    const eps = [], rows = [];
    for (let i = start; i < Math.min(N, start + 500); i++) {
      const ep = 'ep' + String(i).padStart(7, '0');
      eps.push({ endpoint_id: ep, hostname: 'host-' + i, platform: 'linux', first_seen: now, last_seen: now });
      for (const t of TOOLS) {
        rows.push({
          endpoint_id: ep, server_id: t.serverId, name: t.name, server_key: null, server_name: t.serverName, server_version: t.serverVersion, source: 'probe', title: null,
          description_sha256: t.descriptionSha256, input_schema_sha256: t.inputSchemaSha256, annotations_sha256: null, instructions_sha256: null, annotations: '{}',
          capabilities: `,${t.capabilities.join(',')},`, description: null, present: 1, listener_gone: 0, fleet_group: fleetGroupOf(t), variant: variantOf(t), first_seen: now, last_seen: now,
        });
      }
    }
    await trx.insertInto('endpoints').values(eps).execute();
    for (let j = 0; j < rows.length; j += 500) await trx.insertInto('endpoint_tools').values(rows.slice(j, j + 500)).execute();
  });
}
for (const t of TOOLS) {
  await db.insertInto('tool_fleet_groups').values({ fleet_group: fleetGroupOf(t), server_id: t.serverId, server_version: t.serverVersion, name: t.name, majority: variantOf(t), endpoints: N, updated_at: now }).execute();
  await db.insertInto('tool_fleet_variants').values({ fleet_group: fleetGroupOf(t), variant: variantOf(t), endpoints: N }).execute();
  await db.insertInto('tool_fleet_summary').values({ server_id: t.serverId, name: t.name, description_sha256: t.descriptionSha256, server_name: t.serverName, capabilities: `,${t.capabilities.join(',')},`, endpoints: N }).execute();
}
await sql`analyze`.execute(db);
console.log(`seeded ${N} endpoints x ${TOOLS.length} tools (${engine}) in ${Date.now() - t0} ms`);

function stats(label, lat) {
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))].toFixed(2);
  console.log(`${engine} ${label}: median ${q(0.5)} ms, p95 ${q(0.95)} ms (${lat.length} runs)`);
}
const ctx = (i) => ({ agentId: 'ag-bench', endpointId: 'ep' + String(i).padStart(7, '0'), seq: i + 1, receivedAt: now, certFingerprint: 'ab'.repeat(32), sinks: ['file'] });
async function batch(i, record) {
  const e = makeEvent('tool.changed', ctx(i).endpointId, { ...record, changedFields: ['description'], previousDescriptionSha256: H('a'), previousInputSchemaSha256: H('b'), previousServerVersion: '1.0.0' });
  const s = performance.now();
  await db.transaction().execute((trx) => projectToolEvents(trx, ctx(i), [e]));
  return performance.now() - s;
}
const RUNS = 200;
const fleetLat = [], baseLat = [];
for (let k = 0; k < RUNS; k++) {
  const i = (k * 7919) % N;
  // Diverge on even runs, converge back on odd ones (same endpoint): a raise, then a resolve.
  const ep = k % 2 === 0 ? i : ((k - 1) * 7919) % N;
  fleetLat.push(await batch(ep, tool('srv0', 'run', k % 2 === 0 ? 'f' : 'a')));
  baseLat.push(await batch(ep, { ...tool('srv0', 'run', k % 2 === 0 ? 'f' : 'a'), serverId: 'listener:127.0.0.1:9', serverName: null }));
}
stats('tool.changed batch, fleet group of N endpoints (incremental divergence)', fleetLat);
stats('baseline: same batch, no fleet identity (upsert only)', baseLat);
const open = await db.selectFrom('tool_fleet_findings').select(sql`count(*)`.as('n')).executeTakeFirst();
const raised = await db.selectFrom('findings').select(sql`count(*)`.as('n')).where('rule_id', '=', 'tool-fleet-divergence').executeTakeFirst();
console.log(`divergence findings written: ${raised.n}, open now: ${open.n} (expected 0: every divergence converged back)`);

let s = performance.now();
await db.selectFrom('endpoint_tools').select(['server_id', 'server_version', 'name', 'description_sha256', 'input_schema_sha256', sql`count(*)`.as('n')]).where('present', '=', 1)
  .groupBy(['server_id', 'server_version', 'name', 'description_sha256', 'input_schema_sha256']).execute();
console.log(`${engine} full-fleet scan (old divergence query, once): ${(performance.now() - s).toFixed(0)} ms`);

const listLat = [], whoLat = [];
for (let k = 0; k < 10; k++) {
  s = performance.now();
  await toolsPage(db, { limit: 100 });
  listLat.push(performance.now() - s);
  s = performance.now();
  await exposingPage(db, 'run', { server: 'fp-srv3', limit: 100 });
  whoLat.push(performance.now() - s);
}
stats('GET /v1/tools (toolsPage: first page, from the summary)', listLat);
stats('which endpoints expose tool X (first page of 100)', whoLat);
await store.close();
if (engine !== 'sqlite') {
  const pg = (await import('pg')).default;
  const c = new pg.Client(pgUrl);
  await c.connect();
  await c.query(`drop schema ${opts.pgSchema} cascade`);
  await c.end();
} else rmSync(opts.dataDir, { recursive: true, force: true });
