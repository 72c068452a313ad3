// Batch-log append A/B (schema): main-thread CPU per ingested batch of two SQLite stores in one
// process, the current schema ("new") and the same store with extra indexes created again after
// migration ("old"; AB_OLD_SQL, default: the two indexes migration 0017 dropped). No projector
// (project: false): the append path alone. Each round ingests one group of GROUP batches of
// EVENTS events (concurrent ingestBatch calls: one transaction, one COMMIT) into each store,
// alternating which goes first. Main-thread CPU from /proc/self/task/<pid>/schedstat (ns).
// Run after a build, from collector/:
//   [ROUNDS=40] [GROUP=64] [EVENTS=100] node tests/bench/batch-log-append-ab.mjs
import { createStore } from '../../dist/store/index.js';
import { makeEvents } from '@mcpwatch/testkit';
import { sha256Hex } from '@mcpwatch/shared';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { sql } from 'kysely';

const ROUNDS = Number(process.env.ROUNDS ?? 40);
const GROUP = Number(process.env.GROUP ?? 64);
const EVENTS = Number(process.env.EVENTS ?? 100);
const OLD_SQL = (process.env.AB_OLD_SQL ?? 'create index batch_log_endpoint on batch_log (endpoint_id, log_id);create index projection_pending_received on projection_pending (received_at)').split(';').filter(Boolean);
const mainNs = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);

async function open(label, extra) {
  const dataDir = mkdtempSync(join(tmpdir(), `mcpw-ab-${label}-`));
  const store = await createStore({ dataDir, project: false });
  for (const s of extra) await sql.raw(s).execute(store.db);
  const agents = [];
  for (let i = 0; i < GROUP; i++) {
    const o = await store.enrollAgent({ agentId: randomUUID(), host: { hostname: 'h' + i, platform: 'linux', users: ['u'], hardwareUuid: randomUUID() }, certFingerprint: 'x', publicKeyPem: 'p', certNotAfter: 'z', enrollSecretName: 'd', agentVersion: '1' });
    agents.push({ row: await store.getAgent(o.agentId), seq: 0, last: '' });
  }
  return { label, store, dataDir, agents, perBatchUs: [] };
}

const variants = [await open('old', OLD_SQL), await open('new', [])];
const events = makeEvents(variants[0].agents[0].row.endpointId, EVENTS);
const body = gzipSync(JSON.stringify({ events }));

async function group(v) {
  const inputs = v.agents.map((a) => {
    const bodyHash = sha256Hex(randomUUID());
    const input = { agent: a.row, seq: ++a.seq, prevHash: a.last, bodyHash, sentAt: '', receivedAt: new Date().toISOString(), events: events.map((e) => ({ ...e, endpointId: a.row.endpointId })), body, inflatedBytes: 40_000, signature: 's', signedAtMs: Date.now(), sinks: [] };
    a.last = bodyHash;
    return input;
  });
  const c0 = mainNs();
  const results = await Promise.all(inputs.map((i) => v.store.ingestBatch(i)));
  const ns = mainNs() - c0;
  if (results.some((r) => r.status !== 'accepted')) throw new Error(JSON.stringify(results[0]));
  return ns / 1000 / GROUP;
}

for (let w = 0; w < 3; w++) for (const v of variants) await group(v);
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? variants : [...variants].reverse();
  for (const v of order) v.perBatchUs.push(await group(v));
}
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`rounds ${ROUNDS}, group ${GROUP} x ${EVENTS} events, load ${load}`);
for (const v of variants) console.log(`${v.label}: main-thread CPU per batch median ${med(v.perBatchUs).toFixed(1)} us (p25 ${[...v.perBatchUs].sort((a, b) => a - b)[Math.floor(ROUNDS / 4)].toFixed(1)}, p75 ${[...v.perBatchUs].sort((a, b) => a - b)[Math.floor((3 * ROUNDS) / 4)].toFixed(1)})`);
for (const v of variants) {
  await v.store.close();
  rmSync(v.dataDir, { recursive: true, force: true });
}
