/**
 * The projector survives kill -9: every acked batch is projected exactly once after a restart.
 * Real processes: a child `node` running the built store (dist/index.js; build first) is killed
 * with SIGKILL (1) after acking batches it never projected, (2) in the middle of projecting, and
 * (3) on PostgreSQL, while it owns half of the projection partitions next to a second collector
 * (this test process), which takes its partitions over. "Exactly once" is checked on what a
 * repeated projection would duplicate: the collector's seq-gap events get fresh random ids each
 * time a batch is projected, and the outbox holds one row per sink per batch.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import { createStore } from '../../src/store/index.js';
import { dropSchema, engineCases, TEST_PG_URL, uniqueSchemaName } from '../support/pg.js';

const DIST_INDEX = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

/**
 * The child: opens the store named by argv[3] (JSON CreateStoreOptions), enrolls AGENTS agents and
 * sends each BATCHES batches of EVENTS events (every 5th batch skips a seq: a gap), printing
 * `acked N` as it goes; then, per MODE: 'idle' waits (never projects), 'project' starts the
 * projector (small transactions) and prints `projected N`; 'member' only projects what it owns
 * and prints `owned [..]` (it sends nothing).
 */
const CHILD = `
import { gzipSync } from 'node:zlib';
import { createHash, randomUUID } from 'node:crypto';
const { createStore } = await import(process.argv[2]);
const opts = JSON.parse(process.argv[3]);
const mode = process.argv[4];
const [AGENTS, BATCHES, EVENTS] = JSON.parse(process.argv[5]);
const store = await createStore({ ...opts, project: mode === 'member', maxProjectionBatch: 4 });
if (mode === 'member') {
  setInterval(() => console.log('owned ' + JSON.stringify(store.ownedPartitions) + ' projected ' + store.projectorCounters.batches), 100);
} else {
  let acked = 0;
  for (let a = 0; a < AGENTS; a++) {
    const host = { hostname: 'h' + a, platform: 'linux', hardwareUuid: randomUUID(), users: ['u'] };
    const agentId = randomUUID();
    const out = await store.enrollAgent({ agentId, host, certFingerprint: 'fp' + a, publicKeyPem: 'none', certNotAfter: '2030-01-01T00:00:00.000Z', enrollSecretName: 'default', agentVersion: '0.1.0' });
    const agent = await store.getAgent(agentId);
    let seq = 0, prev = '';
    for (let b = 0; b < BATCHES; b++) {
      seq += b % 5 === 4 ? 2 : 1;
      const at = new Date();
      const events = [];
      for (let e = 0; e < EVENTS; e++) {
        const t = Date.now();
        events.push({ v: 1, id: t.toString(36).padStart(10, '0').toUpperCase() + randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase(), type: 'agent.heartbeat', time: at.toISOString(), endpointId: out.endpointId, data: { version: '0.1.0', uptimeS: e, spoolBytes: 0, spoolDropped: 0, lastError: null, queueDepth: 0 } });
      }
      const text = JSON.stringify({ agentId, seq, prevHash: prev, sentAt: at.toISOString(), events });
      const hash = createHash('sha256').update(text).digest('hex');
      const r = await store.ingestBatch({ agent, seq, prevHash: prev, bodyHash: hash, sentAt: at.toISOString(), receivedAt: at.toISOString(), events, body: gzipSync(text), signature: 'x', signedAtMs: Date.now(), sinks: ['file'] });
      if (r.status !== 'accepted') throw new Error('not accepted: ' + JSON.stringify(r));
      prev = hash;
      console.log('acked ' + ++acked);
    }
  }
  if (mode === 'project') {
    store.startProjector();
    setInterval(() => console.log('projected ' + store.projectorCounters.batches), 5).unref();
  }
  setInterval(() => undefined, 1000);
}
`;

interface Child {
  proc: ChildProcess;
  lines: string[];
  waitFor(pred: (line: string) => boolean, timeoutMs?: number): Promise<string>;
}

function startChild(script: string, options: object, mode: 'idle' | 'project' | 'member', sizes: [number, number, number]): Child {
  const proc = spawn(process.execPath, [script, pathToFileURL(DIST_INDEX).href, JSON.stringify(options), mode, JSON.stringify(sizes)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let buf = '';
  let err = '';
  proc.stdout!.on('data', (c: Buffer) => {
    buf += c.toString('utf8');
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
    waiters.splice(0).forEach((w) => w());
  });
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
  return {
    proc,
    lines,
    waitFor: (pred, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`child did not print the line awaited; stderr: ${err.slice(0, 2000)}; last: ${lines.slice(-3).join(' | ')}`)), timeoutMs);
        const check = (): void => {
          const hit = lines.find(pred);
          if (hit !== undefined) {
            clearTimeout(deadline);
            resolve(hit);
          } else if (proc.exitCode !== null) {
            clearTimeout(deadline);
            reject(new Error(`child exited ${proc.exitCode}: ${err.slice(0, 2000)}`));
          } else waiters.push(check);
        };
        check();
      }),
  };
}

function kill9(c: Child): Promise<void> {
  return new Promise((resolve) => {
    if (c.proc.exitCode !== null || c.proc.signalCode !== null) return resolve();
    c.proc.once('exit', () => resolve());
    c.proc.kill('SIGKILL');
  });
}

/** What exactly-once projection must leave: events indexed, seq-gap events, outbox events per sink. */
async function projectedCounts(store: Awaited<ReturnType<typeof createStore>>): Promise<{ heartbeats: number; gaps: number; outboxEvents: number; outboxRows: number; pending: number }> {
  const one = async (q: ReturnType<typeof sql<{ n: string | number }>>): Promise<number> => Number((await q.execute(store.db)).rows[0]?.n ?? 0);
  return {
    heartbeats: await one(sql<{ n: string | number }>`select count(*) as n from events where type = 'agent.heartbeat'`),
    gaps: await one(sql<{ n: string | number }>`select count(*) as n from events where type = 'collector.seq_gap'`),
    outboxEvents: await one(sql<{ n: string | number }>`select coalesce(sum(event_count), 0) as n from outbox`),
    outboxRows: await one(sql<{ n: string | number }>`select count(*) as n from outbox`),
    pending: await one(sql<{ n: string | number }>`select count(*) as n from projection_pending`),
  };
}

describe('projection after kill -9', () => {
  let dir: string;
  let script: string;
  beforeAll(() => {
    if (!existsSync(DIST_INDEX)) throw new Error(`${DIST_INDEX} is missing: build the collector first (npm run build)`);
    dir = mkdtempSync(join(tmpdir(), 'mcpw-projection-crash-'));
    script = join(dir, 'child.mjs');
    writeFileSync(script, CHILD);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // 3 agents x 10 batches x 20 events; every 5th batch skips a seq: 2 gaps per agent.
  const SIZES: [number, number, number] = [3, 10, 20];
  const expected = { heartbeats: 3 * 10 * 20, gaps: 3 * 2, outboxEvents: 3 * 10 * 20 + 3 * 2, outboxRows: 3 * 10, pending: 0 };

  test('killed between ack and projection (sqlite): after a restart every acked batch is projected exactly once', async () => {
    const dataDir = join(dir, 'acked');
    const child = startChild(script, { dataDir }, 'idle', SIZES);
    await child.waitFor((l) => l === `acked ${3 * 10}`);
    await kill9(child);

    const store = await createStore({ dataDir, project: false });
    try {
      expect((await projectedCounts(store)).pending).toBe(30);
      expect(await store.outboxDepth()).toEqual({});
      await store.awaitProjection();
      expect(await projectedCounts(store)).toEqual(expected);
    } finally {
      await store.close();
    }
  });

  test('killed in the middle of projecting (sqlite): after a restart the rest is projected, nothing twice', async () => {
    const dataDir = join(dir, 'mid');
    const child = startChild(script, { dataDir }, 'project', SIZES);
    // Killed once some projection transactions committed (4 batches each) and others had not.
    await child.waitFor((l) => /^projected ([1-9]|1\d|2[0-5])$/.test(l));
    await kill9(child);

    const store = await createStore({ dataDir, project: false });
    try {
      const before = await projectedCounts(store);
      expect(before.pending).toBeGreaterThan(0);
      expect(before.pending).toBeLessThan(30);
      await store.awaitProjection();
      expect(await projectedCounts(store)).toEqual(expected);
    } finally {
      await store.close();
    }
  });
});

const pgOnly = (await engineCases()).includes('postgres') ? describe : describe.skip;

pgOnly('two collectors on one PostgreSQL, one killed', () => {
  test('partitions are shared through advisory locks; the dead collector\'s are taken over; nothing is projected twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpw-projection-pg-'));
    const script = join(dir, 'child.mjs');
    writeFileSync(script, CHILD);
    const pgSchema = uniqueSchemaName();
    const options = { databaseUrl: TEST_PG_URL, pgSchema, poolMax: 4 };
    const store = await createStore({ ...options });
    let child: Child | undefined;
    try {
      child = startChild(script, options, 'member', [0, 0, 0]);
      // The child joins; within a rebalance or two this collector lets go of half the partitions and the child takes them.
      await child.waitFor((l) => /^owned \[(\d+,){7}\d+\]/.test(l), 30_000);
      const deadline = Date.now() + 10_000;
      while (store.ownedPartitions.length !== 8 && Date.now() < deadline) {
        await store.awaitProjection();
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(store.ownedPartitions).toHaveLength(8);
      const childOwned = JSON.parse(/^owned (\[[^\]]*\])/.exec(child.lines.filter((l) => l.startsWith('owned')).pop()!)![1]!) as number[];
      expect(new Set([...store.ownedPartitions, ...childOwned]).size).toBe(16);

      // Batches for 24 endpoints (both collectors' partitions) arrive here; the child projects its share.
      const { enrolled, event, serverEntry } = await import('../support/store-fixtures.js');
      const senders = await Promise.all(Array.from({ length: 24 }, () => enrolled(store)));
      // The second batch of each endpoint skips a seq: one seq-gap event each, with a fresh id per projection.
      for (let b = 0; b < 3; b++) for (const s of senders) await s.sender.send([event('server.added', s.agent.endpointId, serverEntry(`s${b}`))], b === 1 ? { seq: s.sender.seq + 2 } : {}, { project: false });
      await child.waitFor((l) => /projected [1-9]/.test(l), 30_000);
      await kill9(child);

      // The dead collector's locks go with its session; this collector takes its partitions at its
      // next rebalance (every 2 s). The child may have projected its whole share before the kill,
      // so "nothing pending" can come before the takeover: wait for both.
      const takeover = Date.now() + 30_000;
      do {
        await store.awaitProjection();
        if (store.ownedPartitions.length === 16) break;
        await new Promise((r) => setTimeout(r, 100));
      } while (Date.now() < takeover);
      expect(store.ownedPartitions).toHaveLength(16);
      const counts = await projectedCounts(store);
      expect(counts).toMatchObject({ pending: 0, gaps: 24, outboxEvents: 96, outboxRows: 72 });
      expect(Number((await sql<{ n: string }>`select count(*) as n from events where type = 'server.added'`.execute(store.db)).rows[0]!.n)).toBe(72);
      expect(Number((await sql<{ n: string }>`select count(*) as n from servers`.execute(store.db)).rows[0]!.n)).toBe(72);
    } finally {
      if (child) await kill9(child);
      await store.close();
      await dropSchema(pgSchema);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
