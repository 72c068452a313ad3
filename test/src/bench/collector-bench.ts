/**
 * `npm run bench:collector`: events/s the collector accepts for signed, gzipped 100-event batches,
 * one collector process (the real `mcpwatch-collector` binary, plain HTTP on loopback), with
 * SQLite and with PostgreSQL, against a bare-Fastify baseline (POST + gunzip + JSON.parse of the
 * same batches, no verification, no validation, no store) measured in the same run.
 *
 * Method: several test agents enroll, then send concurrently (each its own batches in seq order,
 * one in flight per agent). Batches are built, signed and gzipped BEFORE each timed round, so the
 * round measures the server, not the sender's signing. One warm-up round, then ROUNDS timed
 * rounds; reported: median events/s over rounds, p50/p99 batch latency over all timed requests,
 * collector CPU seconds per 100k events, and the ratio to the baseline. Collector targets also
 * get the event loop's delay during the timed rounds and the drain (p50/p99/p99.9/max, from
 * monitorEventLoopDelay preloaded into the collector: event-loop-delay-preload.ts): how long the
 * loop was held by one piece of work (a transaction, an fsync, a parse).
 *
 * The collector acks on the durable append to its batch log and projects behind it: for collector
 * targets the bench also samples the projection's lag (/readyz) during the timed rounds (p95, max)
 * and how long the projection takes to drain after the last round, and reports the projected
 * events/s (events of all timed rounds / (rounds' time + drain time)).
 *
 * Targets: baseline, sqlite, sqlite-ingest-only (the same collector with its projector paused:
 * the ingest request path alone), sqlite-paced (agents send at BENCH_PACED_RATE events/s, default
 * 25,000, for BENCH_PACED_S seconds, 20, from BENCH_PACED_AGENTS agents, 64: the projection lag under a steady load;
 * budget p95 <= 2 s),
 * postgres (one collector process), postgres-2 (two collector processes on one database, the
 * agents split between them; the issue's budget: >= 1.6x one process). The projection capacity
 * column is what was pending when the rounds ended over the time it took to drain.
 * `--json FILE` also writes the table's figures as JSON.
 *
 * Knobs (env): BENCH_AGENTS (16), BENCH_BATCHES (batches per agent per round, 20), BENCH_ROUNDS (5),
 * BENCH_EVENTS (events per batch, 100), BENCH_PG_URL (postgres://postgres@127.0.0.1:5432/test;
 * "off" skips PostgreSQL), BENCH_TARGETS (comma list of baseline,sqlite,postgres,postgres-2,stages),
 * BENCH_COLLECTOR_NODE_ARGS (extra node flags for the collector, e.g. --cpu-prof).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createPublicKey, randomUUID } from 'node:crypto';
import { boundedGunzip, createStore, validateBatch, warmBatchValidator, type Store } from '@mcpwatch/collector';
import { HEADERS, sha256Hex, verifyBatch, type Batch } from '@mcpwatch/shared';
import { httpTransport, makeHost, pooledKeyPair, TestAgent, type PreparedBatch, type Transport } from '@mcpwatch/testkit';
import { collectorNodeFlags, median, percentile, readCpu } from './bench-stats.js';
import { freshPgDatabase } from './pg-bench-db.js';

const here = dirname(fileURLToPath(import.meta.url));
const COLLECTOR_BIN = resolve(here, '../../../collector/bin/mcpwatch-collector.js');
const BASELINE_SERVER = join(here, 'bare-fastify-server.js');
const INGEST_ONLY_SERVER = join(here, 'collector-ingest-only-server.js');

const AGENTS = Number(process.env.BENCH_AGENTS ?? 16);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 100);
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const TARGETS = (process.env.BENCH_TARGETS ?? 'baseline,sqlite,sqlite-ingest-only,sqlite-paced,postgres,postgres-2').split(',');
/** The paced target's total rate (events/s) and duration (s). */
const PACED_RATE = Number(process.env.BENCH_PACED_RATE ?? 25_000);
const PACED_S = Number(process.env.BENCH_PACED_S ?? 20);
/**
 * The paced target's agents (BENCH_PACED_AGENTS, 64). Each has one batch in flight (its chain is
 * accepted in seq order), so the offered rate needs enough of them: at 25,000 events/s, 16 agents
 * must each get an ack every 64 ms, and on a 2-core machine where the collector's loop also
 * projects, acks took longer: the bench sent 15-18k instead of 25k and measured its own limit.
 * With 64, each agent has 256 ms per batch.
 */
const PACED_AGENTS = Number(process.env.BENCH_PACED_AGENTS ?? 64);
const JSON_OUT = ((): string | undefined => {
  const i = process.argv.indexOf('--json');
  return i >= 0 ? process.argv[i + 1] : undefined;
})();
const ENROLL_SECRET = 'bench-enroll-secret-0123456789';
/** Extra node flags for the collector process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to find the bottleneck. */
const NODE_ARGS = (process.env.BENCH_COLLECTOR_NODE_ARGS ?? '').split(' ').filter(Boolean);

interface Server {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
  /** Collectors: where event-loop-delay-preload.ts writes the loop's delay histogram. */
  eldFile?: string;
}

/** Event-loop delay of a collector during the timed rounds and the drain (event-loop-delay-preload.ts), ms. */
interface LoopDelay {
  samples: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

const ELD_PRELOAD = pathToFileURL(join(here, 'event-loop-delay-preload.js')).href;

/** Asks the collectors' preloads to write their histograms, and reads them (null when one is missing). */
async function loopDelays(servers: Server[]): Promise<LoopDelay[] | null> {
  const files = servers.map((s) => s.eldFile).filter((f): f is string => f !== undefined);
  if (files.length === 0) return null;
  for (const f of files) writeFileSync(`${f}.snap`, '');
  for (let i = 0; i < 50 && !files.every((f) => existsSync(f)); i++) await new Promise((r) => setTimeout(r, 100));
  if (!files.every((f) => existsSync(f))) return null;
  return files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as LoopDelay);
}

/** Starts a child process and waits for `pattern` on stdout or stderr; group 1 is the URL or port. */
function startChild(args: string[], env: Record<string, string>, pattern: RegExp, toUrl: (m: string) => string): Promise<Server> {
  return new Promise((resolveServer, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out.slice(-2000)}`)), 60_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout?.removeAllListeners('data');
        child.stderr?.removeAllListeners('data');
        child.stdout?.resume();
        child.stderr?.resume();
        resolveServer({
          url: toUrl(m[1] as string),
          child,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${out.slice(-2000)}`));
    });
  });
}

async function startCollector(dataDir: string, databaseUrl: string, extraEnv: Record<string, string> = {}, script = COLLECTOR_BIN): Promise<Server> {
  const eldFile = join(dataDir, `event-loop-delay-${randomUUID()}.json`);
  const server = await startChild(
    [...collectorNodeFlags(script), ...NODE_ARGS, '--import', ELD_PRELOAD, script, '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--tls', 'off', '--log-level', 'warn'],
    {
      MCPW_BENCH_ELD_FILE: eldFile,
      MCPWATCH_ENROLL_SECRET: `bench:${ENROLL_SECRET}`,
      MCPWATCH_ADMIN_TOKEN: 'bench-admin-token-0123456789',
      MCPWATCH_RATE_LIMIT_PER_AGENT_PER_S: '1000000',
      MCPWATCH_RATE_LIMIT_BURST: '1000000',
      // The bench's agents share two pooled keys (no keygen per agent): allow any BENCH_AGENTS.
      MCPWATCH_ENROLL_MAX_AGENTS_PER_KEY: '1000000',
      MCPWATCH_TIMESTAMP_WINDOW_S: '3600',
      DATABASE_URL: databaseUrl,
      ...extraEnv,
    },
    /listening on (http:\/\/\S+)/,
    (u) => u,
  );
  return { ...server, eldFile };
}

function startBaseline(): Promise<Server> {
  return startChild([BASELINE_SERVER], {}, /listening (\d+)/, (p) => `http://127.0.0.1:${p}`);
}

interface RoundResult {
  eventsPerS: number;
  latenciesMs: number[];
  cpuS: number | null;
  /** The sender's (this process's) CPU seconds during the round. */
  senderCpuS: number;
  events: number;
}

/** Enrolls agents; for the baseline (no enroll route) makes unenrolled agents with made-up ids. */
async function makeAgents(transports: Transport[], enroll: boolean, count = AGENTS): Promise<TestAgent[]> {
  const agents: TestAgent[] = [];
  for (let i = 0; i < count; i++) {
    const transport = transports[i % transports.length]!;
    const keys = pooledKeyPair(i % 2);
    if (enroll) {
      agents.push(
        await TestAgent.enroll(transport, {
          enrollSecret: ENROLL_SECRET,
          keys,
          host: { hostname: `bench-${i}`, hardwareUuid: `bench-hw-${i}-${process.pid}` },
        }),
      );
    } else {
      agents.push(new TestAgent(transport, `ag_baseline_${i}`, `ep_baseline_${i}`, keys, '', '', {}, { hostname: `bench-${i}`, platform: 'linux', users: [] }));
    }
  }
  return agents;
}

/** Builds the round's batches for each agent in seq order (advancing the agent's chain locally). */
function prepareRound(agents: TestAgent[], batches = BATCHES): PreparedBatch[][] {
  return agents.map((a) => {
    const out: PreparedBatch[] = [];
    for (let b = 0; b < batches; b++) {
      const p = a.prepare(a.events(EVENTS));
      out.push(p);
      a.nextSeq = p.seq + 1;
      a.prevHash = p.bodyHash;
    }
    return out;
  });
}

/** CPU seconds of several processes (null when one cannot be read). */
function readCpuAll(pids: Array<number | undefined>): { selfS: number } | null {
  let selfS = 0;
  for (const pid of pids) {
    const c = pid ? readCpu(pid) : null;
    if (!c) return null;
    selfS += c.selfS;
  }
  return { selfS };
}

async function runRound(agents: TestAgent[], batches: PreparedBatch[][], pids: Array<number | undefined>): Promise<RoundResult> {
  const latencies: number[] = [];
  const cpu0 = readCpuAll(pids);
  const sender0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let failures = 0;
  let lastFailure = '';
  await Promise.all(
    agents.map(async (a, i) => {
      for (const p of batches[i] as PreparedBatch[]) {
        const s = process.hrtime.bigint();
        const res = await a.transport({ method: 'POST', path: '/v1/batches', headers: p.headers, body: p.body });
        latencies.push(Number(process.hrtime.bigint() - s) / 1e6);
        if (res.status !== 200) {
          failures++;
          lastFailure = `${res.status} ${res.body.slice(0, 200)}`;
        }
      }
    }),
  );
  const elapsedS = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = readCpuAll(pids);
  const sender = process.cpuUsage(sender0);
  if (failures > 0) throw new Error(`${failures} batches were not accepted; last: ${lastFailure}`);
  const events = agents.length * BATCHES * EVENTS;
  return { eventsPerS: events / elapsedS, latenciesMs: latencies, cpuS: cpu0 && cpu1 ? cpu1.selfS - cpu0.selfS : null, senderCpuS: (sender.user + sender.system) / 1e6, events };
}

interface TargetResult {
  name: string;
  medianEventsPerS: number;
  rounds: number[];
  p50Ms: number;
  p99Ms: number;
  cpuSPer100k: number | null;
  senderCpuSPer100k: number;
  /** Collector targets: projection lag sampled from /readyz during the timed rounds, and the drain after them. */
  projection?: { lagP95S: number; lagMaxS: number; drainS: number; projectedEventsPerS: number; drainEventsPerS: number | null };
  /** Collectors: event-loop delay during the timed rounds and the drain after them (ms; the worst process). */
  loopDelay?: LoopDelay;
  /**
   * The whole machine during the timed rounds (Linux /proc/stat): busy share of all its CPUs, and
   * the CPU seconds of PostgreSQL's server processes per 100k events (null when none ran). Tells a
   * target bound by its own code from one bound by a machine whose cores are all in use.
   */
  machine?: { busyPct: number; postgresCpuSPer100k: number | null };
  /** The paced target: lag while agents send at a fixed rate. */
  paced?: { targetEventsPerS: number; achievedEventsPerS: number; lagP50S: number; lagP95S: number; lagMaxS: number; seconds: number };
}

/** Busy and total jiffies of all CPUs (/proc/stat), or null off Linux. */
function machineJiffies(): { busy: number; total: number } | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** CPU seconds used so far by every process named `postgres` (the server and its backends), or null if none is visible. */
function postgresCpuS(): number | null {
  let ticks = 0;
  let seen = false;
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
      const f = stat.slice(close + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
      seen = true;
    } catch {
      // gone meanwhile
    }
  }
  return seen ? ticks / 100 : null;
}

/** The projection status a collector reports on /readyz. */
async function projectionLag(transport: Transport): Promise<{ lagBatches: number; lagSeconds: number } | null> {
  const r = await transport({ method: 'GET', path: '/readyz', headers: {} }).catch(() => null);
  const p = (r?.json as { projection?: { lagBatches: number; lagSeconds: number } } | undefined)?.projection;
  return p ?? null;
}

/**
 * `projecting`: the collector projects in the background (the lag is sampled and the drain timed);
 * false for the baseline and for the ingest-only server (projector paused).
 */
async function benchTarget(name: string, servers: Server | Server[], enroll: boolean, projecting = enroll): Promise<TargetResult> {
  const list = Array.isArray(servers) ? servers : [servers];
  const transports = list.map((s) => httpTransport(s.url, { maxSockets: AGENTS }));
  const pids = list.map((s) => s.child.pid);
  const probe = httpTransport(list[0]!.url, { maxSockets: 1 });
  try {
    const agents = await makeAgents(transports, enroll);
    await runRound(agents, prepareRound(agents), pids); // warm-up
    const waitDrained = async (deadlineMs: number): Promise<void> => {
      for (const end = Date.now() + deadlineMs; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
        const p = await projectionLag(probe);
        if (!p || p.lagBatches === 0) return;
      }
    };
    if (projecting) await waitDrained(600_000);
    for (const s of list) if (s.eldFile) writeFileSync(`${s.eldFile}.reset`, '');
    const rounds: RoundResult[] = [];
    const lags: number[] = [];
    let sampling = projecting;
    const sampler = (async () => {
      while (sampling) {
        const p = await projectionLag(probe);
        if (p) lags.push(p.lagSeconds);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const t0 = Date.now();
    const machine0 = machineJiffies();
    const pg0 = postgresCpuS();
    for (let r = 0; r < ROUNDS; r++) {
      const batches = prepareRound(agents);
      rounds.push(await runRound(agents, batches, pids));
      process.stderr.write(`  ${name} round ${r + 1}: ${Math.round(rounds[r]!.eventsPerS)} events/s\n`);
    }
    const roundsEnd = Date.now();
    const machine1 = machineJiffies();
    const pg1 = postgresCpuS();
    sampling = false;
    await sampler;
    // Projection capacity: what was still pending when the rounds ended, over the time to drain it
    // (the collector then has nothing else to do).
    const pendingAtEnd = projecting ? (await projectionLag(probe))?.lagBatches ?? 0 : 0;
    let projection: TargetResult['projection'];
    if (projecting) {
      await waitDrained(600_000);
      const drainS = (Date.now() - roundsEnd) / 1000;
      const total = rounds.reduce((s, r) => s + r.events, 0);
      projection = {
        lagP95S: lags.length ? percentile(lags, 95) : 0,
        lagMaxS: lags.length ? Math.max(...lags) : 0,
        drainS,
        projectedEventsPerS: total / ((Date.now() - t0) / 1000),
        drainEventsPerS: pendingAtEnd > 10 && drainS > 0 ? (pendingAtEnd * EVENTS) / drainS : null,
      };
    }
    const delays = await loopDelays(list);
    const all = rounds.flatMap((r) => r.latenciesMs);
    const cpu = rounds.every((r) => r.cpuS !== null) ? rounds.reduce((s, r) => s + (r.cpuS as number), 0) : null;
    const events = rounds.reduce((s, r) => s + r.events, 0);
    return {
      name,
      rounds: rounds.map((r) => r.eventsPerS),
      medianEventsPerS: median(rounds.map((r) => r.eventsPerS)),
      p50Ms: percentile(all, 50),
      p99Ms: percentile(all, 99),
      cpuSPer100k: cpu === null ? null : (cpu / events) * 100_000,
      senderCpuSPer100k: (rounds.reduce((sum, r) => sum + r.senderCpuS, 0) / events) * 100_000,
      ...(projection ? { projection } : {}),
      ...(machine0 && machine1 && machine1.total > machine0.total
        ? { machine: { busyPct: ((machine1.busy - machine0.busy) / (machine1.total - machine0.total)) * 100, postgresCpuSPer100k: pg0 !== null && pg1 !== null && name.includes('PostgreSQL') ? ((pg1 - pg0) / events) * 100_000 : null } }
        : {}),
      ...(delays ? { loopDelay: delays.reduce((worst, d) => (d.max > worst.max ? d : worst)) } : {}),
    };
  } finally {
    for (const t of transports) t.close();
    probe.close();
  }
}

/**
 * The paced target: the agents send at PACED_RATE events/s in total (each agent its share, batches
 * spaced evenly) for PACED_S seconds, and the projection lag is sampled from /readyz every 250 ms:
 * whether projection keeps up with a steady load (the issue's budget: lag p95 <= 2 s at 25,000
 * events/s). Batches are prepared (signed) ahead, as in the rounds.
 */
async function pacedTarget(name: string, server: Server): Promise<TargetResult> {
  const transport = httpTransport(server.url, { maxSockets: PACED_AGENTS });
  const probe = httpTransport(server.url, { maxSockets: 1 });
  try {
    const agents = await makeAgents([transport], true, PACED_AGENTS);
    const perAgentIntervalMs = (PACED_AGENTS * EVENTS * 1000) / PACED_RATE;
    const perAgent = Math.max(1, Math.ceil((PACED_S * 1000) / perAgentIntervalMs));
    const batches = prepareRound(agents, perAgent);
    const lags: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const p = await projectionLag(probe);
        if (p) lags.push(p.lagSeconds);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const latencies: number[] = [];
    const t0 = Date.now();
    await Promise.all(
      agents.map(async (a, i) => {
        const offset = (perAgentIntervalMs * i) / PACED_AGENTS;
        for (const [b, p] of (batches[i] as PreparedBatch[]).entries()) {
          const due = t0 + offset + b * perAgentIntervalMs;
          const wait = due - Date.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          const s = process.hrtime.bigint();
          const res = await a.transport({ method: 'POST', path: '/v1/batches', headers: p.headers, body: p.body });
          latencies.push(Number(process.hrtime.bigint() - s) / 1e6);
          if (res.status !== 200) throw new Error(`paced batch not accepted: ${res.status} ${res.body.slice(0, 200)}`);
        }
      }),
    );
    const seconds = (Date.now() - t0) / 1000;
    sampling = false;
    await sampler;
    const sent = PACED_AGENTS * perAgent * EVENTS;
    return {
      name,
      rounds: [sent / seconds],
      medianEventsPerS: sent / seconds,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      cpuSPer100k: null,
      senderCpuSPer100k: 0,
      paced: { targetEventsPerS: PACED_RATE, achievedEventsPerS: sent / seconds, lagP50S: percentile(lags, 50), lagP95S: percentile(lags, 95), lagMaxS: Math.max(0, ...lags), seconds },
    };
  } finally {
    transport.close();
    probe.close();
  }
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/**
 * Where the time goes: each ingest stage run in this process on the same 100-event batches, one
 * at a time (one core, no HTTP): verify, gunzip, JSON.parse, schema validation, and the store's
 * ingest transaction on SQLite and PostgreSQL. Median ms per batch over STAGE_BATCHES batches.
 */
const stageRows: Array<{ stage: string; msPerBatch: number | null; cpuUsPerBatch: number | null; note: string | undefined }> = [];

async function stageCosts(pgUrl: string | null): Promise<string[]> {
  const STAGE_BATCHES = 30;
  const agent = new TestAgent(async () => ({ status: 0, headers: {}, body: '', json: undefined }), 'ag_stage', 'ep_stage', pooledKeyPair(0), '', '', {}, makeHost());
  const prepared: PreparedBatch[] = [];
  for (let i = 0; i < STAGE_BATCHES + 1; i++) {
    const p = agent.prepare(agent.events(EVENTS));
    prepared.push(p);
    agent.nextSeq = p.seq + 1;
    agent.prevHash = p.bodyHash;
  }
  const key = createPublicKey(pooledKeyPair(0).publicKeyPem);
  warmBatchValidator();
  const rows: Array<[string, number | string]> = [];
  /**
   * CPU µs per batch of each pure stage: the main thread's CPU time (/proc/thread-self/schedstat,
   * ns; process.cpuUsage counts every thread and moves in scheduler ticks) over CPU_PASSES passes
   * over the batches. Not for the store stages (a batch appends once).
   */
  const CPU_PASSES = 20;
  const cpuUs = new Map<string, number>();
  const threadCpuNs = (): number => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  const time = async (name: string, fn: (p: PreparedBatch, i: number) => unknown, opts: { cpu?: boolean } = {}): Promise<void> => {
    await fn(prepared[0] as PreparedBatch, 0); // warm
    const ms: number[] = [];
    for (let i = 1; i <= STAGE_BATCHES; i++) {
      const t = process.hrtime.bigint();
      await fn(prepared[i] as PreparedBatch, i);
      ms.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    if (opts.cpu !== false) {
      const cpu0 = threadCpuNs();
      for (let pass = 0; pass < CPU_PASSES; pass++) for (let i = 1; i <= STAGE_BATCHES; i++) await fn(prepared[i] as PreparedBatch, i);
      cpuUs.set(name, (threadCpuNs() - cpu0) / 1000 / (CPU_PASSES * STAGE_BATCHES));
    }
    rows.push([name, median(ms)]);
  };
  await time('verify signature', (p) => verifyBatch(key, 'ag_stage', p.seq, Number(p.headers[HEADERS.timestamp]), p.body, p.headers[HEADERS.signature] as string));
  await time('gunzip (bounded)', (p) => boundedGunzip(p.body, 32 * 1024 * 1024));
  await time('JSON.parse', (p) => JSON.parse(p.json.toString('utf8')));
  await time('sha256 of the inflated body (chain hash)', (p) => sha256Hex(p.json));
  const parsed = prepared.map((p) => JSON.parse(p.json.toString('utf8')) as unknown);
  await time('schema validation (ajv)', (_p, i) => validateBatch(parsed[i]));
  const storeStage = async (name: string, store: Store): Promise<void> => {
    try {
      await storeStageRun(name, store);
    } catch (e) {
      rows.push([name, `failed: ${(e as Error).message.slice(0, 200)}`]);
    }
  };
  const storeStageRun = async (name: string, store: Store): Promise<void> => {
    const out = await store.enrollAgent({
      agentId: 'ag_stage', host: makeHost({ hostname: 'stage' }), certFingerprint: 'f'.repeat(64), publicKeyPem: pooledKeyPair(0).publicKeyPem,
      certNotAfter: '2030-01-01T00:00:00.000Z', enrollSecretName: 'bench', agentVersion: 'bench',
    });
    const row = await store.getAgent(out.agentId);
    const docs = prepared.map((p) => {
      const b = JSON.parse(p.json.toString('utf8')) as Batch;
      return { ...b, events: b.events.map((e) => ({ ...e, endpointId: out.endpointId })) };
    });
    await time(
      name,
      (p, i) =>
        store.ingestBatch({
          agent: row!, seq: p.seq, prevHash: docs[i]!.prevHash, bodyHash: p.bodyHash, sentAt: docs[i]!.sentAt, receivedAt: new Date().toISOString(), events: docs[i]!.events,
          body: p.body, signature: p.headers[HEADERS.signature] as string, signedAtMs: Number(p.headers[HEADERS.timestamp]), sinks: ['file'],
        }),
      { cpu: false },
    );
    // The projection of what was just appended, timed as a whole (many batches per transaction).
    const t0 = process.hrtime.bigint();
    await (store as Store & { awaitProjection(): Promise<void> }).awaitProjection();
    rows.push([name.replace('store.ingestBatch (append to the batch log)', 'projection of those batches (awaitProjection)'), Number(process.hrtime.bigint() - t0) / 1e6 / prepared.length]);
  };
  const dataDir = mkdtempSync(join(tmpdir(), 'mcpw-bench-stage-'));
  const sqlite = await createStore({ dataDir, project: false });
  try {
    await storeStage('store.ingestBatch (append to the batch log), SQLite', sqlite);
  } finally {
    await sqlite.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (pgUrl) {
    const pgStore = await createStore({ databaseUrl: pgUrl, pgSchema: `stage_${process.pid}`, project: false }).catch((e: Error) => e);
    if (pgStore instanceof Error) rows.push(['store.ingestBatch, PostgreSQL', `failed: ${pgStore.message.slice(0, 200)}`]);
    else {
      try {
        await storeStage('store.ingestBatch (append to the batch log), PostgreSQL', pgStore);
      } finally {
        await pgStore.close();
      }
    }
  }
  stageRows.push(...rows.map(([n, ms]) => ({ stage: n, msPerBatch: typeof ms === 'string' ? null : ms, cpuUsPerBatch: cpuUs.get(n) ?? null, note: typeof ms === 'string' ? ms : undefined })));
  return [
    '',
    `Stage costs, in-process, one batch at a time (median of ${STAGE_BATCHES} batches of ${EVENTS} events):`,
    '| stage | ms / batch (median wall) | main-thread CPU µs / batch | µs / event | events/s one core could do at this stage alone |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(([n, ms]) =>
      typeof ms === 'string' ? `| ${n} | ${ms} | | | |` : `| ${n} | ${ms.toFixed(2)} | ${cpuUs.has(n) ? Math.round(cpuUs.get(n)!) : '-'} | ${((ms * 1000) / EVENTS).toFixed(1)} | ${fmt((EVENTS * 1000) / ms)} |`,
    ),
  ];
}

async function main(): Promise<void> {
  process.stderr.write(`collector bench: ${AGENTS} agents x ${BATCHES} batches x ${EVENTS} events per round, ${ROUNDS} rounds (+1 warm-up)\n`);
  const results: TargetResult[] = [];
  const stageDb = TARGETS.includes('stages') || TARGETS.includes('postgres') ? await freshPgDatabase(PG_URL) : null;
  const stages = await stageCosts(stageDb?.url ?? null).finally(() => stageDb?.drop());
  if (TARGETS.includes('baseline')) {
    const server = await startBaseline();
    try {
      results.push(await benchTarget('bare Fastify (gunzip + JSON.parse)', server, false));
    } finally {
      await server.stop();
    }
  }
  if (TARGETS.includes('sqlite')) {
    const dataDir = mkdtempSync(join(tmpdir(), 'mcpw-bench-sqlite-'));
    const server = await startCollector(dataDir, '');
    try {
      results.push(await benchTarget('collector, SQLite', server, true));
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  if (TARGETS.includes('sqlite-ingest-only')) {
    // The same collector with its projector paused: the ingest request path alone, to split the
    // cost of the SQLite target above into ingest and the projection that runs beside it.
    const dataDir = mkdtempSync(join(tmpdir(), 'mcpw-bench-ingest-'));
    const server = await startCollector(dataDir, '', {}, INGEST_ONLY_SERVER);
    try {
      results.push(await benchTarget('collector, SQLite, projection paused', server, true, false));
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  if (TARGETS.includes('sqlite-paced')) {
    const dataDir = mkdtempSync(join(tmpdir(), 'mcpw-bench-paced-'));
    const server = await startCollector(dataDir, '');
    try {
      results.push(await pacedTarget(`collector, SQLite, paced at ${fmt(PACED_RATE)} events/s`, server));
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  if (TARGETS.includes('postgres')) {
    const db = await freshPgDatabase(PG_URL);
    if (db) {
      const dataDir = mkdtempSync(join(tmpdir(), 'mcpw-bench-pg-'));
      const server = await startCollector(dataDir, db.url);
      try {
        results.push(await benchTarget('collector, PostgreSQL', server, true));
      } finally {
        await server.stop();
        await db.drop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
  }
  if (TARGETS.includes('postgres-2')) {
    const db = await freshPgDatabase(PG_URL);
    if (db) {
      const dirs = [mkdtempSync(join(tmpdir(), 'mcpw-bench-pg2a-')), mkdtempSync(join(tmpdir(), 'mcpw-bench-pg2b-'))];
      const servers: Server[] = [];
      try {
        servers.push(await startCollector(dirs[0]!, db.url));
        servers.push(await startCollector(dirs[1]!, db.url));
        results.push(await benchTarget('collector x2 processes, one PostgreSQL', servers, true));
      } finally {
        for (const s of servers) await s.stop();
        await db.drop();
        for (const d of dirs) rmSync(d, { recursive: true, force: true });
      }
    }
  }
  const baseline = results.find((r) => r.name.startsWith('bare'));
  const lines = [
    '',
    `| target | acked events/s (median of ${ROUNDS}) | rounds | ratio to baseline | p50 batch | p99 batch | server CPU s / 100k events | sender CPU s / 100k events | projection lag p95 / max during rounds | projection drain after rounds | projected events/s (rounds + drain) | projection capacity (drain events/s) |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...results.filter((r) => !r.paced).map(
      (r) =>
        `| ${r.name} | ${fmt(r.medianEventsPerS)} | ${r.rounds.map(fmt).join(' / ')} | ${baseline ? (r.medianEventsPerS / baseline.medianEventsPerS).toFixed(2) : '-'} | ${r.p50Ms.toFixed(1)} ms | ${r.p99Ms.toFixed(1)} ms | ${r.cpuSPer100k === null ? '-' : r.cpuSPer100k.toFixed(2)} | ${r.senderCpuSPer100k.toFixed(2)} | ${r.projection ? `${r.projection.lagP95S.toFixed(1)} s / ${r.projection.lagMaxS.toFixed(1)} s` : '-'} | ${r.projection ? `${r.projection.drainS.toFixed(1)} s` : '-'} | ${r.projection ? fmt(r.projection.projectedEventsPerS) : '-'} | ${r.projection?.drainEventsPerS ? fmt(r.projection.drainEventsPerS) : '-'} |`,
    ),
    ...results.filter((r) => r.paced).flatMap((r) => [
      '',
      '| paced target | sent events/s (target) | p50 / p99 batch | projection lag p50 / p95 / max | seconds |',
      '| --- | --- | --- | --- | --- |',
      `| ${r.name} | ${fmt(r.paced!.achievedEventsPerS)} (${fmt(r.paced!.targetEventsPerS)}) | ${r.p50Ms.toFixed(1)} / ${r.p99Ms.toFixed(1)} ms | ${r.paced!.lagP50S.toFixed(2)} / ${r.paced!.lagP95S.toFixed(2)} / ${r.paced!.lagMaxS.toFixed(2)} s | ${r.paced!.seconds.toFixed(1)} |`,
    ]),
    '',
    // Where the collector's CPU goes per batch: HTTP alone (baseline), the ingest path alone
    // (projection paused), and ingest with projection beside it; the difference is the projection.
    `server CPU per ${EVENTS}-event batch: ${results
      .filter((r) => r.cpuSPer100k !== null && !r.paced)
      .map((r) => `${r.name} ${Math.round(((r.cpuSPer100k as number) * 1e6 * EVENTS) / 100_000)} µs`)
      .join('; ')}`,
    `machine during the timed rounds (all ${(await import('node:os')).cpus().length} CPUs; collectors, senders, database and anything else running): ${results
      .filter((r) => r.machine)
      .map((r) => `${r.name} ${r.machine!.busyPct.toFixed(0)} % busy${r.machine!.postgresCpuSPer100k !== null ? `, PostgreSQL server ${r.machine!.postgresCpuSPer100k.toFixed(2)} CPU s / 100k events` : ''}`)
      .join('; ')}`,
    ...results
      .filter((r) => r.loopDelay)
      .map((r) => `event-loop delay of ${r.name} during the rounds and the drain (1 ms resolution): p50 ${r.loopDelay!.p50} / p99 ${r.loopDelay!.p99} / p99.9 ${r.loopDelay!.p999} / max ${r.loopDelay!.max} ms (${r.loopDelay!.samples} samples)`),
    `budget (DESIGN.md): >= 100,000 events/s with SQLite; concurrency ${AGENTS} agents over loopback HTTP; senders share the machine (${(await import('node:os')).cpus().length} CPUs, load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)} at the end).`,
    ...stages,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  if (JSON_OUT) {
    const os = await import('node:os');
    const one = results.find((r) => r.name === 'collector, PostgreSQL');
    const two = results.find((r) => r.name.startsWith('collector x2'));
    writeFileSync(
      JSON_OUT,
      JSON.stringify(
        {
          config: { agents: AGENTS, pacedAgents: PACED_AGENTS, batchesPerAgentPerRound: BATCHES, rounds: ROUNDS, eventsPerBatch: EVENTS, cpus: os.cpus().length, loadAverage1m: os.loadavg()[0] },
          targets: results.map((r) => ({ ...r, ratioToBaseline: baseline ? r.medianEventsPerS / baseline.medianEventsPerS : null })),
          postgresTwoProcessesOverOne: one && two ? two.medianEventsPerS / one.medianEventsPerS : null,
          stages: stageRows,
        },
        null,
        2,
      ) + '\n',
    );
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`collector bench failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
