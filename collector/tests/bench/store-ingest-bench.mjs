// Store ingest benchmark (no HTTP, no verification): events/s through ingestBatch for 100-event
// batches of the test agent's mix, two sinks. Run after a build, from collector/:
//   [CONCURRENCY=8] node tests/bench/store-ingest-bench.mjs sqlite|postgres [BATCHES]
// Prints wall and CPU-time throughput and p50/p99 batch latency.
import { createStore } from '../../dist/store/index.js';
import { makeEvents } from '../../../test/dist/harness/test-agent.js';
import { sha256Hex } from '@mcpwatch/shared';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
const engine = process.argv[2] ?? 'sqlite';
const opts = engine === 'sqlite' ? { dataDir: mkdtempSync(join(tmpdir(), 'mcpw-bench-')) } : { databaseUrl: (process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1/test'), pgSchema: 'bench_' + Date.now() };
const store = await createStore(opts);
const agents = [];
for (let i = 0; i < 50; i++) {
  const o = await store.enrollAgent({ agentId: randomUUID(), host: { hostname: 'h' + i, platform: 'linux', users: ['u'], hardwareUuid: randomUUID() }, certFingerprint: 'x', publicKeyPem: 'p', certNotAfter: 'z', enrollSecretName: 'd', agentVersion: '1' });
  agents.push({ row: await store.getAgent(o.agentId), seq: 0, last: '' });
}
const N = Number(process.argv[3] ?? 300);
const batches = Array.from({ length: N }, (_, b) => makeEvents(agents[b % agents.length].row.endpointId, 100));
const lat = [];
// Concurrent ingest (CONCURRENCY env, default 1): each worker sends its own agents' batches in order.
const C = Number(process.env.CONCURRENCY ?? 1);
const c0 = process.cpuUsage();
const t0 = performance.now();
await Promise.all(Array.from({ length: C }, async (_, w) => {
  for (let b = w; b < N; b += C) {
    const a = agents[b % agents.length];
    const bodyHash = sha256Hex(String(b));
    const s = performance.now();
    const seq = ++a.seq;
    const prevHash = a.last;
    a.last = bodyHash;
    const r = await store.ingestBatch({ agent: a.row, seq, prevHash, bodyHash, sentAt: '', receivedAt: new Date().toISOString(), events: batches[b], sinks: ['kinesis', 'securityhub'] });
    lat.push(performance.now() - s);
    if (r.status !== 'accepted') throw new Error(JSON.stringify(r));
  }
}));
const dt = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(c0);
lat.sort((x, y) => x - y);
console.log(engine, 'concurrency', C, 'events/s(wall)', Math.round(N * 100 / dt), 'events/s(cpu)', Math.round(N * 100 / ((cpu.user + cpu.system) / 1e6)), 'p50 ms', lat[lat.length >> 1].toFixed(2), 'p99', lat[Math.floor(lat.length * 0.99)].toFixed(2));
await store.close();
if (engine !== 'sqlite') { const pg = (await import('pg')).default; const c = new pg.Client((process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1/test')); await c.connect(); await c.query(`drop schema ${opts.pgSchema} cascade`); await c.end(); }
else rmSync(opts.dataDir, { recursive: true, force: true });
