/**
 * Projection capacity, in-process (`node test/dist/bench/projection-capacity.js [--json FILE]`,
 * after `npx tsc -b tsconfig.build.json`): what the collector's projector costs per event, measured
 * as CPU time, so a loaded machine distorts it little. bench:collector measures the same projector
 * inside the running collector, beside ingest (its lag and drain columns).
 *
 * Method: AGENTS enrolled agents each append BATCHES batches of EVENTS realistic events (testkit's
 * mix: server.added, process.started, finding.raised, agent.heartbeat) through the store's real
 * ingest (store.ingestBatch: the batch log's group commit), with the projector off; then the
 * projector drains the log (awaitProjection), timed as a whole: wall time, this thread's CPU
 * (/proc/self/task/<pid>/stat) and the whole process's CPU (process.cpuUsage: also SQLite's
 * checkpoint worker and the GC threads); on PostgreSQL also the CPU of the server processes
 * serving the bench's database (when the server runs on this machine). Two ways, in the same run, alternating:
 * - "same process": the process that appended projects (what a running collector does);
 * - "after restart": the store is closed and opened again before the drain, so every batch is
 *   read back from the log (what happens after a crash, or for another collector's batches).
 * After the drain, the outbox rows it wrote (one sink, 'file') are claimed and completed as the
 * outbox drainer does, timed apart (it reads the events back through the index and the log).
 * Reported per engine: median over REPEATS of µs CPU per event, and the events/s one core of that
 * CPU cost allows (the projection's capacity), with wall-clock events/s next to them.
 *
 * Knobs (env): BENCH_PROJ_COLLECTOR (another build's collector/dist/index.js, measured in the same
 * run as a baseline), BENCH_PROJ_AGENTS (16), BENCH_PROJ_BATCHES (batches per agent, 25),
 * BENCH_PROJ_REPEATS (3), BENCH_EVENTS (events per batch, 100), BENCH_PROJ_KIND (heartbeat: heartbeats only), BENCH_PROJ_PROFILE (a directory:
 * each drain is CPU-profiled into it, .cpuprofile files for DevTools), BENCH_PG_URL
 * (postgres://postgres@127.0.0.1:5432/test; a fresh database is made in it and dropped; "off"
 * skips PostgreSQL).
 */
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Session } from 'node:inspector';
import * as builtCollector from '@mcpwatch/collector';
import type { Store } from '@mcpwatch/collector';
import { makeEvent, type Batch } from '@mcpwatch/shared';
import { makeHost, pooledKeyPair, TestAgent, type PreparedBatch } from '@mcpwatch/testkit';
import pg from 'pg';
import { clkTck, envInt, median, readCpu } from './bench-stats.js';
import { freshPgDatabase } from './pg-bench-db.js';

const AGENTS = envInt('BENCH_PROJ_AGENTS', 16);
const BATCHES = envInt('BENCH_PROJ_BATCHES', 25);
const REPEATS = envInt('BENCH_PROJ_REPEATS', 3);
const EVENTS = envInt('BENCH_EVENTS', 100);
/**
 * BENCH_PROJ_KIND=heartbeat: every event is an agent.heartbeat (as the agent sends once a minute;
 * with BENCH_EVENTS=1, the fleet's steady state: one heartbeat per batch, changing nothing but the
 * endpoint's health and last seen). Default "mix": testkit's realistic event mix.
 */
const KIND = process.env.BENCH_PROJ_KIND === 'heartbeat' ? 'heartbeat' : 'mix';
const HEARTBEAT = { version: '0.1.0', uptimeS: 1, cpuPercent: 0.1, rssBytes: 50_000_000, spoolBytes: 0, spoolDepth: 0, droppedCount: 0, lastError: null, intervalsMs: { process: 5000 }, throttled: false };
/**
 * BENCH_PROJ_COLLECTOR: another build of the collector (its dist/index.js) measured in the same run,
 * after this one: a baseline (e.g. the previous commit, built elsewhere) next to the current code.
 */
const BASELINE_COLLECTOR = process.env.BENCH_PROJ_COLLECTOR;

type CreateStore = typeof builtCollector.createStore;
/** PostgreSQL schemas made so far (each run gets its own). */
let schemaSeq = 0;

/** CPU seconds of this process's main thread (the one the projector runs on). */
function mainThreadCpuS(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clkTck();
}

export interface ProjectionRun {
  build: string;
  engine: 'sqlite' | 'postgres';
  mode: 'same process' | 'after restart';
  events: number;
  /** Batches projected from ingest's in-memory hand-off (the rest were read from the log; null: a build without it). */
  handedOff: number | null;
  wallS: number;
  mainCpuS: number;
  processCpuS: number;
  /** PostgreSQL: CPU of the server processes serving the bench's database (null: SQLite, or not readable). */
  dbServerCpuS: number | null;
  /** Main-thread CPU of appending the batches to the log (store.ingestBatch: the ingest's store part, without HTTP and checks; enrollment included). */
  appendCpuS: number;
  /** Main-thread CPU of draining the outbox after the projection, and the log bodies it decompressed. */
  outboxCpuS: number;
  outboxBodiesDecoded: number;
}

export interface ProjectionSummary {
  /** 'current', or 'baseline' (BENCH_PROJ_COLLECTOR). */
  build: string;
  engine: 'sqlite' | 'postgres';
  mode: ProjectionRun['mode'];
  runs: number;
  /** Batches projected from the hand-off in the last run. */
  handedOff: number | null;
  /** Medians over the runs. */
  mainCpuUsPerEvent: number;
  processCpuUsPerEvent: number;
  dbServerCpuUsPerEvent: number | null;
  outboxCpuUsPerEvent: number;
  /** Main-thread CPU µs per event of appending to the batch log (the store's part of ingest). */
  appendCpuUsPerEvent: number;
  /** Log bodies the outbox drain decompressed in the last run. */
  outboxBodiesDecoded: number;
  /** 1e6 / main-thread µs per event: events/s one core spent on the projector alone would project. */
  capacityEventsPerS: number;
  wallEventsPerS: number;
}

type Prepared = { agentIndex: number; p: PreparedBatch; doc: Batch };

/** Every agent's batches, built once (the same bodies for every run: each run has its own store). */
function prepareBatches(): { agents: TestAgent[]; batches: Prepared[] } {
  const agents: TestAgent[] = [];
  const perAgent: Prepared[][] = [];
  for (let a = 0; a < AGENTS; a++) {
    const agent = new TestAgent(async () => ({ status: 0, headers: {}, body: '', json: undefined }), `ag_proj_${a}`, `ep_proj_${a}`, pooledKeyPair(0), '', '', {}, makeHost({ hostname: `proj-${a}` }));
    agents.push(agent);
    const list: Prepared[] = [];
    for (let b = 0; b < BATCHES; b++) {
      const p = agent.prepare(KIND === 'heartbeat' ? Array.from({ length: EVENTS }, () => makeEvent('agent.heartbeat', agent.endpointId, HEARTBEAT as never)) : agent.events(EVENTS));
      agent.nextSeq = p.seq + 1;
      agent.prevHash = p.bodyHash;
      list.push({ agentIndex: a, p, doc: JSON.parse(p.json.toString('utf8')) as Batch });
    }
    perAgent.push(list);
  }
  // Interleaved by agent, as many agents sending at once would arrive.
  const batches: Prepared[] = [];
  for (let b = 0; b < BATCHES; b++) for (let a = 0; a < AGENTS; a++) batches.push(perAgent[a]![b]!);
  return { agents, batches };
}

/** Enrolls the agents and appends every batch (projector off); returns the number of events. */
async function appendAll(store: Store, agents: TestAgent[], batches: Prepared[]): Promise<number> {
  const rows: Array<NonNullable<Awaited<ReturnType<Store['getAgent']>>>> = [];
  const endpoints: string[] = [];
  for (const agent of agents) {
    const out = await store.enrollAgent({
      agentId: agent.agentId, host: agent.host, certFingerprint: 'f'.repeat(64), publicKeyPem: pooledKeyPair(0).publicKeyPem,
      certNotAfter: '2030-01-01T00:00:00.000Z', enrollSecretName: 'bench', agentVersion: 'bench',
    });
    rows.push((await store.getAgent(out.agentId))!);
    endpoints.push(out.endpointId);
  }
  // The projector takes its partitions (PostgreSQL: advisory locks), as a running collector's has.
  await (store as Store & { awaitProjection(): Promise<void> }).awaitProjection();
  let events = 0;
  // In groups, as concurrent requests reach the batch log's group commit.
  for (let i = 0; i < batches.length; i += AGENTS) {
    await Promise.all(
      batches.slice(i, i + AGENTS).map(({ agentIndex, p, doc }) => {
        // A fresh parse per store, as the route hands the store the events it parsed from the body.
        const parsed = JSON.parse(p.json.toString('utf8')) as Batch;
        for (const e of parsed.events) e.endpointId = endpoints[agentIndex]!;
        events += parsed.events.length;
        return store.ingestBatch({
          agent: rows[agentIndex]!, seq: p.seq, prevHash: doc.prevHash, bodyHash: p.bodyHash, sentAt: doc.sentAt, receivedAt: new Date().toISOString(),
          events: parsed.events, body: p.body, signature: 'bench', signedAtMs: Date.now(), sinks: ['file'],
        });
      }),
    );
  }
  return events;
}

/** Inspector session of BENCH_PROJ_PROFILE (a directory): each drain is CPU-profiled into it. */
let profiler: Session | null = null;
let profiles = 0;
const post = (method: string, params?: object): Promise<unknown> =>
  new Promise((resolveP, reject) => profiler!.post(method, params ?? {}, (e, r) => (e ? reject(e) : resolveP(r))));

/** Times draining the projector. */
/**
 * CPU seconds of the PostgreSQL server processes serving the database at `url` (the bench's own
 * database: every other backend on it is the store's), when the server runs on this machine; null
 * otherwise (its processes cannot be read).
 */
async function pgServerCpuS(url: string): Promise<number | null> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client
    .query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()')
    .finally(() => client.end());
  let total = 0;
  for (const r of rows) {
    const cpu = readCpu(Number(r.pid));
    if (!cpu) return null;
    total += cpu.selfS;
  }
  return total;
}

async function timeDrain(store: Store, label: string, pgUrl: string | null): Promise<{ wallS: number; mainCpuS: number; processCpuS: number; dbServerCpuS: number | null }> {
  const dir = process.env.BENCH_PROJ_PROFILE;
  if (dir && !profiler) {
    profiler = new Session();
    profiler.connect();
    await post('Profiler.enable');
  }
  if (profiler) await post('Profiler.start');
  const server0 = pgUrl ? await pgServerCpuS(pgUrl) : null;
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuS();
  const t0 = process.hrtime.bigint();
  await (store as Store & { awaitProjection(timeoutMs?: number): Promise<void> }).awaitProjection(600_000);
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const mainCpuS = mainThreadCpuS() - main0;
  const cpu = process.cpuUsage(cpu0);
  const server1 = server0 === null || !pgUrl ? null : await pgServerCpuS(pgUrl);
  if (profiler && dir) {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    writeFileSync(join(dir, `projection-${profiles++}-${label.replace(/\W+/g, '-')}.cpuprofile`), JSON.stringify(profile));
  }
  return { wallS, mainCpuS, processCpuS: (cpu.user + cpu.system) / 1e6, dbServerCpuS: server0 === null || server1 === null ? null : server1 - server0 };
}

/**
 * Times what the outbox drainer does behind the projector for the one sink ('file'): claims every
 * row (reading its events back through the event index and the log) and completes it.
 */
async function timeOutbox(store: Store): Promise<{ outboxCpuS: number; outboxBodiesDecoded: number }> {
  const reads = (): number => (store as Store & { eventReads: { decompressed: number } }).eventReads.decompressed;
  const decoded0 = reads();
  const main0 = mainThreadCpuS();
  for (;;) {
    const rows = await store.claimOutbox('file', 1000, 60_000, 'bench');
    if (rows.length === 0) break;
    await store.completeOutbox('file', rows.map((r) => r.id));
  }
  return { outboxCpuS: mainThreadCpuS() - main0, outboxBodiesDecoded: reads() - decoded0 };
}

type Opener = (fresh: boolean) => Promise<Store>;

async function oneRun(build: string, engine: ProjectionRun['engine'], mode: ProjectionRun['mode'], open: Opener, prepared: ReturnType<typeof prepareBatches>, pgUrl: string | null): Promise<ProjectionRun> {
  let store = await open(true);
  try {
    const append0 = mainThreadCpuS();
    const events = await appendAll(store, prepared.agents, prepared.batches);
    const appendCpuS = mainThreadCpuS() - append0;
    if (mode === 'after restart') {
      await store.close();
      store = await open(false);
    }
    const drained = await timeDrain(store, `${engine}-${mode}`, pgUrl);
    const handedOff = (store as Store & { projectorCounters: { handedOff?: number } }).projectorCounters.handedOff ?? null;
    return { build, engine, mode, events, handedOff, appendCpuS, ...drained, ...(await timeOutbox(store)) };
  } finally {
    await store.close();
  }
}

function summarize(runs: ProjectionRun[]): ProjectionSummary {
  const us = (s: number, r: ProjectionRun): number => (s * 1e6) / r.events;
  const main = median(runs.map((r) => us(r.mainCpuS, r)));
  return {
    build: runs[0]!.build,
    engine: runs[0]!.engine,
    mode: runs[0]!.mode,
    runs: runs.length,
    handedOff: runs.at(-1)!.handedOff,
    mainCpuUsPerEvent: main,
    processCpuUsPerEvent: median(runs.map((r) => us(r.processCpuS, r))),
    outboxCpuUsPerEvent: median(runs.map((r) => us(r.outboxCpuS, r))),
    appendCpuUsPerEvent: median(runs.map((r) => us(r.appendCpuS, r))),
    outboxBodiesDecoded: runs.at(-1)!.outboxBodiesDecoded,
    dbServerCpuUsPerEvent: runs.every((r) => r.dbServerCpuS !== null) ? median(runs.map((r) => us(r.dbServerCpuS!, r))) : null,
    capacityEventsPerS: 1e6 / main,
    wallEventsPerS: median(runs.map((r) => r.events / r.wallS)),
  };
}

/** Runs the projection capacity target on SQLite and (when `pgUrl` is given) PostgreSQL. */
export async function projectionCapacity(pgUrl: string | null): Promise<{ lines: string[]; summaries: ProjectionSummary[] }> {
  const prepared = prepareBatches();
  const summaries: ProjectionSummary[] = [];
  const builds: Array<[string, CreateStore]> = [['current', builtCollector.createStore]];
  if (BASELINE_COLLECTOR) builds.push(['baseline', ((await import(pathToFileURL(resolve(BASELINE_COLLECTOR)).href)) as typeof builtCollector).createStore]);
  const engines: Array<[ProjectionRun['engine'], (createStore: CreateStore) => { open: Opener; cleanup(): void }]> = [
    [
      'sqlite',
      (createStore) => {
        let dir = '';
        const dirs: string[] = [];
        return {
          open: async (fresh) => {
            if (fresh) dirs.push((dir = mkdtempSync(join(tmpdir(), 'mcpw-bench-proj-'))));
            return createStore({ dataDir: dir, project: false });
          },
          cleanup: () => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })),
        };
      },
    ],
  ];
  if (pgUrl) {
    engines.push([
      'postgres',
      (createStore) => {
        let schema = '';
        return {
          open: async (fresh) => {
            if (fresh) schema = `proj_${process.pid}_${schemaSeq++}`;
            return createStore({ databaseUrl: pgUrl, pgSchema: schema, project: false });
          },
          cleanup: () => undefined,
        };
      },
    ]);
  }
  const MODES = ['same process', 'after restart'] as const;
  for (const [engine, make] of engines) {
    // Builds and modes alternate within each repeat, so load changes hit them alike.
    const openers = builds.map(([name, create]) => ({ name, ...make(create) }));
    const runs = new Map<string, ProjectionRun[]>();
    try {
      for (let r = 0; r < REPEATS; r++) {
        for (const b of openers) {
          for (const mode of MODES) {
            const run = await oneRun(b.name, engine, mode, b.open, prepared, engine === 'postgres' ? pgUrl : null);
            runs.set(`${b.name}|${mode}`, [...(runs.get(`${b.name}|${mode}`) ?? []), run]);
          }
        }
      }
    } finally {
      for (const b of openers) b.cleanup();
    }
    for (const b of openers) for (const mode of MODES) summaries.push(summarize(runs.get(`${b.name}|${mode}`)!));
  }
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  const lines = [
    '',
    `Projection capacity, in-process: ${AGENTS} agents x ${BATCHES} batches x ${EVENTS} events (${KIND}) appended through the store's ingest, then the projector drains them (median of ${REPEATS}; load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)}):`,
    '| build | engine | projected by | batches from the hand-off | main-thread CPU µs / event | process CPU µs / event | database server CPU µs / event | capacity (events/s at that main-thread CPU cost) | wall events/s | outbox drain behind it: main-thread CPU µs / event, log bodies decompressed | append to the log (store.ingestBatch): main-thread CPU µs / event |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...summaries.map((s) => `| ${s.build} | ${s.engine} | ${s.mode} | ${s.handedOff === null ? '-' : `${s.handedOff} / ${AGENTS * BATCHES}`} | ${s.mainCpuUsPerEvent.toFixed(1)} | ${s.processCpuUsPerEvent.toFixed(1)} | ${s.dbServerCpuUsPerEvent === null ? '-' : s.dbServerCpuUsPerEvent.toFixed(1)} | ${fmt(s.capacityEventsPerS)} | ${fmt(s.wallEventsPerS)} | ${s.outboxCpuUsPerEvent.toFixed(1)}, ${s.outboxBodiesDecoded} | ${s.appendCpuUsPerEvent.toFixed(1)} |`),
  ];
  return { lines, summaries };
}

async function main(): Promise<void> {
  const pgUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const db = await freshPgDatabase(pgUrl, 'mcpw_proj');
  const { lines, summaries } = await projectionCapacity(db?.url ?? null).finally(() => db?.drop());
  process.stdout.write(lines.join('\n') + '\n');
  const i = process.argv.indexOf('--json');
  if (i >= 0 && process.argv[i + 1]) {
    const os = await import('node:os');
    const config = { agents: AGENTS, batchesPerAgent: BATCHES, eventsPerBatch: EVENTS, repeats: REPEATS, cpus: os.cpus().length, loadAverage1m: os.loadavg()[0] };
    writeFileSync(process.argv[i + 1]!, JSON.stringify({ config, summaries }, null, 2) + '\n');
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`projection bench failed: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
