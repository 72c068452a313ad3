/**
 * `npm run bench:fleet`: a simulated fleet against one real collector process (SQLite), in the
 * manner of osquery-perf for Fleet. N endpoints (default 100,000) are simulated by a few worker
 * processes, with real enrollment (CSR, certificate), real signatures and real gzipped batches:
 *
 *   1. enrollment wave: every endpoint enrolls (bounded concurrency per worker);
 *   2. a snapshot per endpoint (5–40 servers, findings on some, processes), like an agent's start;
 *   3. every batch of the measured phase is built, chained and signed AHEAD (heartbeats every 60 s
 *      of simulated time, time compressed by --compress, printed; config changes as a Poisson
 *      process, --changes-per-hour per endpoint of simulated time), so the phase measures the
 *      collector and not the simulator's RSA signing (0.33 ms a signature here: at 100,000
 *      endpoints, 1,667 heartbeats/s, that alone was half of one of the machine's two cores);
 *   4. the measured phase (--duration s): each agent sends its batches when due (open loop, as
 *      agents' timers fire whatever the collector's state), fleet queries (who runs server X,
 *      findings by severity) run all along, and the collector is killed at --outage-at of the
 *      phase and restarted --outage-s later: the reconnect storm. Each agent with unsent batches
 *      resends the oldest every 1–3 s (jittered, concurrently across agents) until accepted.
 *   Before the phase the snapshot wave's projection is awaited (its lag is reported apart).
 *
 * Shared key material: every simulated agent uses one of two pooled RSA key pairs (testkit
 * pooledKeyPair; no keygen per endpoint), and so one of two CSRs (a CSR names only the public key
 * and the fixed subject); the collector is started with enrollMaxAgentsPerKey high so it allows
 * that. Everything else (agent id, certificate, chain, signatures) is per endpoint.
 *
 * Heartbeat latency is the HTTP round trip of a batch sent when due (not a resend), including the
 * wait for one of the process's 64 keep-alive sockets (a real fleet has a connection per agent);
 * it is reported for the whole phase, before the outage, and after the storm drained. The figure
 * is timed by a probe process at normal priority that simulates a sample of the fleet
 * (--probe-endpoints, default 2 % of it, at most 2,000; they are part of the N, enrolled, snapshotted
 * and sending like the rest): the load workers run at nice 19 with tens of thousands of agents
 * each, so their own timings include the time they waited for a CPU and for their event loop,
 * which grows with the load they generate, not with the collector's answer. Their timings are
 * reported beside it, and so is the collector's own request-duration histogram (every batch).
 *
 * Prints a table and writes the same figures as JSON (--json FILE): accepted batches/s, heartbeat
 * latency p50/p99, projection lag p50/p95/max (sampled from /readyz each second), fleet query p95,
 * reconnect-storm drain time, collector CPU and RSS, database bytes per endpoint.
 *
 * Fleet queries go to the collector's query listener (--query-port own, the default: the read API
 * on a port of its own, served by a worker thread with its own read-only connection, so queries do
 * not wait behind ingest and projection on the main loop) or to the main port (--query-port main,
 * the collector started without a query port); the table says which.
 *
 * The simulated agents' worker processes run at nice 19 (--sim-nice N; 0: not lowered): on this
 * shared machine they would otherwise take CPU from the collector they measure, which a fleet's
 * agents, on their own machines, never do. The orchestrator (queries, /readyz, latencies) keeps
 * normal priority. The table and JSON say which value was used.
 *
 * Options: --endpoints N (100000) --workers W (2) --duration S (120) --compress F (1)
 * --changes-per-hour R (0.5) --outage-at FRACTION (0.4) --outage-s S (10) --query-port own|main (own) --sim-nice N (19)
 * --probe-endpoints N (2 % of --endpoints, at most 2,000; 0: no probe, the load workers time heartbeats) --json FILE. Env
 * FLEET_COLLECTOR_NODE_ARGS: extra node flags for the collector (e.g. --cpu-prof), after those of its build's
 * collector/node-flags.json (BENCH_COLLECTOR_NODE_FLAGS=0: not those); FLEET_COLLECTOR_BIN: the
 * collector bin to run (default this tree's collector/bin/mcpwatch-collector.js).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setPriority, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeEvent, type McpEvent } from '@mcpwatch/shared';
import { httpTransport, makeCsr, makeHost, makeServerEntry, pooledKeyPair, TestAgent, type Transport } from '@mcpwatch/testkit';
import { collectorNodeFlags, percentile, readCpu, SIMULATED_FLEET_COLLECTOR_ENV } from './bench-stats.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The collector's bin (FLEET_COLLECTOR_BIN: another build of it, e.g. a baseline copy for an A/B). */
const COLLECTOR_BIN = process.env.FLEET_COLLECTOR_BIN ? resolve(process.env.FLEET_COLLECTOR_BIN) : resolve(here, '../../../collector/bin/mcpwatch-collector.js');
const ENROLL_SECRET = 'fleet-sim-enroll-secret-0123456789';
const ADMIN_TOKEN = 'fleet-sim-admin-token-0123456789';
/** Keep-alive sockets of the probe process (its heartbeats never wait for one while the collector answers). */
const PROBE_SOCKETS = 64;
/** Extra node flags for the collector process (FLEET_COLLECTOR_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"). */
const COLLECTOR_NODE_ARGS = (process.env.FLEET_COLLECTOR_NODE_ARGS ?? '').split(' ').filter(Boolean);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- worker (simulated agents)

interface WorkerInit {
  url: string;
  first: number;
  count: number;
  compress: number;
  changesPerHour: number;
  durationS: number;
  /** Keep-alive sockets to the collector (a load worker's pool; the probe's). */
  maxSockets: number;
}

function snapshotEvent(a: TestAgent, i: number): McpEvent {
  const n = 5 + (i % 36);
  const servers = Array.from({ length: n }, (_, k) => makeServerEntry(`srv-${(i * 7 + k) % 200}`));
  const findings = i % 3 === 0 ? servers.slice(0, 2).map((s, k) => ({ id: `f-${k}-${s.serverKey}`.slice(0, 64), ruleId: 'secret-in-env', severity: k === 0 ? ('high' as const) : ('medium' as const), title: 'Secret in server environment', description: 'A token is configured in the environment of an MCP server.', subject: { serverKey: s.serverKey, serverName: s.name, client: s.client }, evidence: { field: 'env.GITHUB_TOKEN', kind: 'github-token' } })) : [];
  const processes = servers.slice(0, 3).map((s, k) => ({ pid: 1000 + k, ppid: 1, name: 'node', cmd: `node /opt/${s.name}/index.js`, user: 'alice', kind: 'server' as const, client: s.client, serverKey: s.serverKey, match: 'config' as const, startedAt: null }));
  return makeEvent('inventory.snapshot', a.endpointId, {
    host: makeHost({ hostname: `sim-${i}` }),
    clients: [{ client: 'cursor', displayName: 'Cursor', user: 'alice', configPaths: ['/Users/alice/.cursor/mcp.json'], serverCount: n }],
    servers,
    processes,
    sockets: [],
    findings,
    errors: [],
  } as never);
}

/** One batch of an agent's measured phase, signed before the phase starts. */
interface ScheduledBatch {
  /** Milliseconds after the phase start when it is due. */
  dueMs: number;
  heartbeat: boolean;
  headers: Record<string, string>;
  body: Buffer;
}

const heartbeatData = { version: '0.1.0', uptimeS: 1, cpuPercent: 0.1, rssBytes: 50_000_000, spoolBytes: 0, spoolDepth: 0, droppedCount: 0, lastError: null, intervalsMs: { process: 5000 }, throttled: false };

/**
 * The agent's measured phase, built and signed now (so the phase measures the collector, not the
 * simulator's RSA signing): heartbeats every `periodMs` from `offsetMs`, and config changes as a
 * Poisson process, merged in time order and chained (seq, prevHash) in that order.
 */
function scheduleFor(a: TestAgent, k: number, init: WorkerInit, offsetMs: number): ScheduledBatch[] {
  const periodMs = 60_000 / init.compress;
  const horizonMs = init.durationS * 1000;
  const changeRatePerMs = (init.changesPerHour / 3_600_000) * init.compress;
  const due: Array<{ dueMs: number; heartbeat: boolean }> = [];
  for (let t = offsetMs; t < horizonMs; t += periodMs) due.push({ dueMs: t, heartbeat: true });
  for (let t = -Math.log(1 - Math.random()) / Math.max(1e-12, changeRatePerMs); t < horizonMs; t += -Math.log(1 - Math.random()) / Math.max(1e-12, changeRatePerMs)) {
    due.push({ dueMs: t, heartbeat: false });
  }
  due.sort((x, y) => x.dueMs - y.dueMs);
  return due.map((d) => {
    const event = d.heartbeat
      ? makeEvent('agent.heartbeat', a.endpointId, heartbeatData as never)
      : makeEvent('server.added', a.endpointId, makeServerEntry(`changed-${init.first + k}-${Math.round(d.dueMs)}`));
    const p = a.prepare([event]);
    a.nextSeq = p.seq + 1;
    a.prevHash = p.bodyHash;
    return { dueMs: d.dueMs, heartbeat: d.heartbeat, headers: p.headers, body: p.body };
  });
}

async function runWorker(init: WorkerInit): Promise<void> {
  const send = (m: unknown): void => void process.send!(m);
  const transport = httpTransport(init.url, { maxSockets: init.maxSockets });
  const agents: TestAgent[] = [];
  // 1. enrollment wave. The simulated agents share two key pairs, so they share the two CSRs too
  // (a CSR names only the public key); the collector issues each its own certificate and agent id.
  const csrs = [makeCsr(pooledKeyPair(0)), makeCsr(pooledKeyPair(1))];
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < init.count) {
        const i = init.first + next++;
        for (;;) {
          try {
            agents.push(await TestAgent.enroll(transport, { enrollSecret: ENROLL_SECRET, keys: pooledKeyPair(i % 2), csr: csrs[i % 2]!, host: { hostname: `sim-${i}`, hardwareUuid: `sim-hw-${i}-${process.pid}` } }));
            break;
          } catch {
            await sleep(200);
          }
        }
      }
    }),
  );
  send({ kind: 'enrolled' });
  // 2. snapshots
  next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < agents.length) {
        const k = next++;
        const a = agents[k]!;
        for (let tries = 0; (await a.sendEvents([snapshotEvent(a, init.first + k)]).catch(() => ({ status: 0 }))).status !== 200 && tries < 20; tries++) await sleep(200);
      }
    }),
  );
  send({ kind: 'snapshotted' });
  // 3. every batch of the measured phase, signed ahead (each worker spreads its agents' offsets over
  // one period, so each sends at a steady rate and the fleet's heartbeats are spread evenly).
  const periodMs = 60_000 / init.compress;
  const schedules = agents.map((a, k) => scheduleFor(a, k, init, (k / agents.length) * periodMs));
  send({ kind: 'prepared', batches: schedules.reduce((n, s) => n + s.length, 0) });
  await new Promise<void>((r) => process.once('message', () => r()));

  // 4. the measured phase: each agent sends its batches when due (open loop, as a fleet's timers
  // fire whatever the collector's state). A batch that fails (the outage) starts the agent's
  // reconnect: it resends its oldest unsent batch every 1–3 s (jittered) until one is accepted, then
  // sends what came due meanwhile, in order. Heartbeat latency counts only batches sent when due.
  const phase0 = Date.now();
  const latencies: number[] = [];
  /** When each latency was measured (ms since the epoch, the orchestrator splits by phase). */
  const sentAt: number[] = [];
  let accepted = 0;
  let failed = 0;
  let rejected = 0;
  let backlogged = 0;
  let outageSeen = false;
  const post = (b: ScheduledBatch) => transport({ method: 'POST', path: '/v1/batches', headers: b.headers, body: b.body }).catch(() => ({ status: 0 }));
  await Promise.all(
    schedules.map(async (items) => {
      let inBacklog = false;
      for (let i = 0; i < items.length; i++) {
        const b = items[i]!;
        const wait = phase0 + b.dueMs - Date.now();
        if (wait > 0) await sleep(wait);
        for (;;) {
          const t0 = performance.now();
          const res = await post(b);
          if (res.status === 200) {
            accepted++;
            if (b.heartbeat && !inBacklog) {
              latencies.push(performance.now() - t0);
              sentAt.push(Date.now());
            }
            break;
          }
          if (res.status !== 0 && res.status !== 429 && res.status !== 503) {
            rejected++;
            break;
          }
          failed++;
          outageSeen = true;
          if (!inBacklog) backlogged++;
          inBacklog = true;
          await sleep(1000 + Math.random() * 2000);
        }
        // Caught up with its schedule (nothing more is overdue): this agent's backlog is sent.
        const following = items[i + 1];
        if (inBacklog && (!following || phase0 + following.dueMs > Date.now())) {
          inBacklog = false;
          if (--backlogged === 0 && outageSeen) send({ kind: 'drained', at: Date.now() });
        }
      }
    }),
  );
  transport.close();
  // Exit only once the message is out (process.exit right after send can drop it).
  process.send!({ kind: 'stats', latencies, sentAt, accepted, failed, rejected, outageSeen }, () => process.exit(0));
}

// ---------------------------------------------------------------- orchestrator

function freePort(): Promise<number> {
  return new Promise((r) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => r(port));
    });
  });
}

/** `queryPort`: the collector's query listener port (MCPWATCH_QUERY_PORT); null: none. */
function startCollector(dataDir: string, port: number, queryPort: number | null): Promise<ChildProcess> {
  return new Promise((resolveStart, reject) => {
    const child = spawn(process.execPath, [...collectorNodeFlags(COLLECTOR_BIN), ...COLLECTOR_NODE_ARGS, COLLECTOR_BIN, '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--tls', 'off', '--log-level', 'warn'], {
      env: {
        ...process.env,
        MCPWATCH_ENROLL_SECRET: `fleet:${ENROLL_SECRET}`,
        MCPWATCH_ADMIN_TOKEN: ADMIN_TOKEN,
        ...SIMULATED_FLEET_COLLECTOR_ENV,
        ...(queryPort !== null ? { MCPWATCH_QUERY_PORT: String(queryPort) } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (/listening on/.test(out)) {
        child.stdout!.removeAllListeners('data');
        child.stderr!.removeAllListeners('data');
        child.stdout!.resume();
        child.stderr!.resume();
        resolveStart(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`collector exited ${code}: ${out.slice(-1000)}`)));
  });
}

/**
 * The main thread's scheduler figures (/proc/PID/schedstat, ns): time on a CPU and time runnable
 * but waiting for one. On a shared machine the wait is the part of the collector's latency that
 * other processes cause.
 */
function schedstat(pid: number): { onCpuNs: number; waitNs: number } | null {
  try {
    const [on, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return on === undefined || wait === undefined ? null : { onCpuNs: on, waitNs: wait };
  } catch {
    return null;
  }
}

function rssBytes(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Cumulative bucket counts of the collector's mcpwatch_batch_duration_seconds (le in seconds -> count), or null. */
async function batchHistogram(api: Transport): Promise<Map<string, number> | null> {
  const r = await api({ method: 'GET', path: '/metrics', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).catch(() => null);
  const text = r?.status === 200 ? r.body : '';
  const buckets = new Map<string, number>();
  for (const m of text.matchAll(/^mcpwatch_batch_duration_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)) buckets.set(m[1]!, Number(m[2]));
  return buckets.size ? buckets : null;
}

/** Between two scrapes: the share of batches answered within 250 ms, and the smallest bucket bound holding the 99th percentile. */
function histogramSummary(a: Map<string, number>, b: Map<string, number>): { count: number; shareWithin250ms: number; p99BucketS: string } {
  const delta = [...b].map(([le, n]) => [le, n - (a.get(le) ?? 0)] as const);
  const count = delta.find(([le]) => le === '+Inf')?.[1] ?? 0;
  const within = delta.find(([le]) => le === '0.25')?.[1] ?? 0;
  const p99 = delta.find(([, n]) => count > 0 && n >= count * 0.99)?.[0] ?? '+Inf';
  return { count, shareWithin250ms: count > 0 ? within / count : 0, p99BucketS: p99 };
}

async function orchestrate(): Promise<void> {
  const endpoints = Number(arg('endpoints', '100000'));
  const workers = Number(arg('workers', '2'));
  const durationS = Number(arg('duration', '120'));
  const compress = Number(arg('compress', '1'));
  const changesPerHour = Number(arg('changes-per-hour', '0.5'));
  const outageAt = Number(arg('outage-at', '0.4'));
  const outageS = Number(arg('outage-s', '10'));
  const jsonOut = process.argv.includes('--json') ? arg('json', '') : '';
  const queryPortMode = arg('query-port', 'own');
  // The simulated agents' processes run at this nice value (default 19): a fleet's agents run on
  // their own machines, so on this shared box they take only the CPU the collector leaves; 0 lets
  // them compete with the collector as equals (the figures then include that contention).
  const simNice = Number(arg('sim-nice', '19'));
  if (!Number.isInteger(simNice) || simNice < 0 || simNice > 19) throw new Error(`--sim-nice must be an integer from 0 to 19, not ${arg('sim-nice', '')}`);
  if (queryPortMode !== 'own' && queryPortMode !== 'main') throw new Error(`--query-port must be own or main, not ${queryPortMode}`);
  // Endpoints simulated by the probe process (default 2 % of the fleet, at most 2,000).
  const probeEndpoints = Number(arg('probe-endpoints', String(Math.min(2000, Math.ceil(endpoints * 0.02)))));
  if (!Number.isInteger(probeEndpoints) || probeEndpoints < 0 || probeEndpoints >= endpoints) throw new Error(`--probe-endpoints must be an integer from 0 to endpoints - 1, not ${arg('probe-endpoints', '')}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'mcpw-fleet-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const queryPort = queryPortMode === 'own' ? await freePort() : null;
  const queryUrl = `http://127.0.0.1:${queryPort ?? port}`;
  process.stderr.write(`fleet: ${endpoints} endpoints in ${workers} worker processes; heartbeat every 60 s of simulated time, time compressed x${compress} (a heartbeat every ${(60 / compress).toFixed(1)} s real); ${durationS} s measured; outage at ${Math.round(outageAt * 100)}% for ${outageS} s; fleet queries to ${queryPortMode === 'own' ? `the query listener (${queryUrl})` : 'the main port'}; ${workers} load processes at nice ${simNice}, ${probeEndpoints} endpoints in a probe process at normal priority (heartbeat latency)\n`);
  let collector = await startCollector(dataDir, port, queryPort);
  const api: Transport & { close(): void } = httpTransport(url, { maxSockets: 4 });
  /** Where the fleet queries go: the query listener, or the main port (`api`). */
  const queryApi: Transport & { close(): void } = queryPort !== null ? httpTransport(queryUrl, { maxSockets: 4 }) : api;
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
  // Load workers simulate endpoints [0, loadEndpoints) at --sim-nice; the probe process the rest at
  // normal priority (see the header: heartbeat latency).
  const loadEndpoints = endpoints - probeEndpoints;
  const forkWorker = (first: number, count: number, maxSockets: number, nice: number): ChildProcess => {
    const kid = fork(fileURLToPath(import.meta.url), ['--worker', JSON.stringify({ url, first, count, compress, changesPerHour, durationS, maxSockets } satisfies WorkerInit)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    if (nice > 0 && kid.pid !== undefined) setPriority(kid.pid, nice);
    return kid;
  };
  const kids = Array.from({ length: workers }, (_, w) => {
    const first = Math.floor((loadEndpoints * w) / workers);
    return forkWorker(first, Math.floor((loadEndpoints * (w + 1)) / workers) - first, 64, simNice);
  });
  if (probeEndpoints > 0) kids.push(forkWorker(loadEndpoints, probeEndpoints, PROBE_SOCKETS, 0));
  /** Index of the probe process in `kids` (-1: none). */
  const probeKid = probeEndpoints > 0 ? kids.length - 1 : -1;
  // Every message is recorded from the fork on: a fast worker's next message (e.g. 'prepared') can
  // arrive while the orchestrator still awaits a slower worker's previous one ('snapshotted'); a
  // listener attached only then would miss it and the run would hang.
  const inbox = kids.map((k) => {
    const byKind = new Map<string, { promise: Promise<Record<string, unknown>>; resolve: (m: Record<string, unknown>) => void }>();
    const slot = (kind: string) => {
      let s = byKind.get(kind);
      if (!s) {
        let resolve!: (m: Record<string, unknown>) => void;
        const promise = new Promise<Record<string, unknown>>((r) => (resolve = r));
        s = { promise, resolve };
        byKind.set(kind, s);
      }
      return s;
    };
    k.on('message', (m: Record<string, unknown>) => slot(m.kind as string).resolve(m));
    return slot;
  });
  const waitAll = (kind: string) => Promise.all(inbox.map((slot) => slot(kind).promise));
  const t0 = Date.now();
  await waitAll('enrolled');
  const enrollS = (Date.now() - t0) / 1000;
  process.stderr.write(`  enrolled in ${enrollS.toFixed(1)} s\n`);
  await waitAll('snapshotted');
  const snapS = (Date.now() - t0) / 1000 - enrollS;
  process.stderr.write(`  snapshots sent in ${snapS.toFixed(1)} s\n`);
  const prepared = await waitAll('prepared');
  const prepareS = (Date.now() - t0) / 1000 - enrollS - snapS;
  const batchesSigned = prepared.reduce((n, m) => n + (m.batches as number), 0);
  process.stderr.write(`  ${batchesSigned} batches of the measured phase signed in ${prepareS.toFixed(1)} s\n`);
  // The snapshot wave's projection finishes before the measured phase (its lag is not the phase's).
  const lagBatchesNow = async (): Promise<number | null> => {
    const r = await api({ method: 'GET', path: '/readyz', headers: {} }).catch(() => null);
    return (r?.json as { projection?: { lagBatches: number } } | undefined)?.projection?.lagBatches ?? null;
  };
  for (const end = Date.now() + 1_800_000; Date.now() < end && (await lagBatchesNow()) !== 0; ) await sleep(500);
  const snapshotsProjectedS = (Date.now() - t0) / 1000 - enrollS - snapS;
  process.stderr.write(`  snapshot wave projected ${snapshotsProjectedS.toFixed(1)} s after the last was sent\n`);
  // A worker none of whose batches came due during the outage never backlogs, so never drains: its
  // figures (outageSeen false) end its wait instead of the 300 s limit.
  const drained = inbox.map((slot) =>
    Promise.race([slot('drained').promise.then((m) => m.at as number), slot('stats').promise.then((m) => (m.outageSeen ? new Promise<never>(() => {}) : null))]),
  );
  const stats = waitAll('stats');

  // The measured phase.
  const hist0 = await batchHistogram(api);
  const cpu0 = readCpu(collector.pid!);
  const sched0 = schedstat(collector.pid!);
  const phase0 = Date.now();
  for (const k of kids) k.send('go');
  const lags: number[] = [];
  const queries: number[] = [];
  /** The same latencies by query (the fleet's three questions), to tell which one misses a budget. */
  const queriesByKind: Record<'serversByName' | 'findingsBySeverity' | 'endpointsOfServer', number[]> = { serversByName: [], findingsBySeverity: [], endpointsOfServer: [] };
  let restartAt = 0;
  let up = true;
  let cpuBeforeOutage = 0;
  let rssMax = 0;
  const phaseEnd = phase0 + durationS * 1000;
  const sampler = (async () => {
    while (Date.now() < phaseEnd) {
      if (up) {
        const r = await api({ method: 'GET', path: '/readyz', headers: {} }).catch(() => null);
        const p = (r?.json as { projection?: { lagSeconds: number } } | undefined)?.projection;
        if (p) lags.push(p.lagSeconds);
        const rss = rssBytes(collector.pid!) ?? 0;
        rssMax = Math.max(rssMax, rss);
        // Progress now and then (a 100,000-endpoint run is long): lag and RSS as sampled.
        if (lags.length % 15 === 0 && p) process.stderr.write(`  phase +${((Date.now() - phase0) / 1000).toFixed(0)} s: projection lag ${p.lagSeconds.toFixed(2)} s, collector RSS ${(rss / 1048576).toFixed(0)} MiB\n`);
      }
      await sleep(1000);
    }
  })();
  const querier = (async () => {
    for (let i = 0; Date.now() < phaseEnd; i++) {
      if (up) {
        const s = performance.now();
        const r = await queryApi({ method: 'GET', path: i % 2 === 0 ? `/v1/servers?name=srv-${i % 200}&limit=10` : '/v1/findings?severity=high&limit=50', headers: auth }).catch(() => null);
        if (r?.status === 200) {
          const ms = performance.now() - s;
          queries.push(ms);
          queriesByKind[i % 2 === 0 ? 'serversByName' : 'findingsBySeverity'].push(ms);
        }
        if (i % 2 === 0 && r?.status === 200) {
          const fp = (r.json as { items: Array<{ fingerprint: string }> }).items[0]?.fingerprint;
          if (fp) {
            const s2 = performance.now();
            const r2 = await queryApi({ method: 'GET', path: `/v1/servers/${fp}/endpoints?limit=50`, headers: auth }).catch(() => null);
            if (r2?.status === 200) {
              const ms = performance.now() - s2;
              queries.push(ms);
              queriesByKind.endpointsOfServer.push(ms);
            }
          }
        }
      }
      await sleep(200);
    }
  })();
  await sleep(outageAt * durationS * 1000);
  const hist1 = await batchHistogram(api);
  cpuBeforeOutage = (readCpu(collector.pid!)?.selfS ?? 0) - (cpu0?.selfS ?? 0);
  const schedBefore = schedstat(collector.pid!);
  up = false;
  const outageStart = Date.now();
  collector.kill('SIGKILL');
  await new Promise((r) => collector.once('exit', r));
  await sleep(outageS * 1000);
  collector = await startCollector(dataDir, port, queryPort);
  const cpu1 = readCpu(collector.pid!);
  const sched1 = schedstat(collector.pid!);
  restartAt = Date.now();
  up = true;
  await Promise.all([sampler, querier]);
  process.stderr.write(`  measured phase over (${durationS} s); collector back ${((restartAt - outageStart) / 1000).toFixed(1)} s after the kill (${outageS} s down, then its startup)\n`);
  const drainedAll = await Promise.race([Promise.all(drained), sleep(300_000).then(() => null)]);
  const drainedAts = drainedAll && drainedAll.some((at) => at !== null) ? drainedAll.filter((at): at is number => at !== null) : null;
  // Workers finish their last sends first; on a loaded machine they run well behind the phase's end.
  const all = await Promise.race([stats, sleep(600_000).then(() => Promise.reject(new Error('workers did not report their figures within 600 s')))]);
  const workersDoneAfterPhaseS = (Date.now() - phaseEnd) / 1000;
  process.stderr.write(`  workers sent their last batches ${workersDoneAfterPhaseS.toFixed(1)} s after the phase's end\n`);
  // Projection catches up after the run (its lag is measured above; this is the tail).
  for (const end = Date.now() + 300_000; Date.now() < end; await sleep(500)) {
    const r = await api({ method: 'GET', path: '/readyz', headers: {} }).catch(() => null);
    if ((r?.json as { projection?: { lagBatches: number } } | undefined)?.projection?.lagBatches === 0) break;
  }
  const projectionTailS = (Date.now() - phaseEnd) / 1000 - workersDoneAfterPhaseS;
  process.stderr.write(`  projection caught up ${projectionTailS.toFixed(1)} s after that\n`);
  const cpuAfter = (readCpu(collector.pid!)?.selfS ?? 0) - (cpu1?.selfS ?? 0);
  const schedAfter = schedstat(collector.pid!);
  // The collector's main thread: of the time it was runnable, how much it waited for a CPU.
  const sched = [sched0 && schedBefore ? [schedBefore.onCpuNs - sched0.onCpuNs, schedBefore.waitNs - sched0.waitNs] : [0, 0], sched1 && schedAfter ? [schedAfter.onCpuNs - sched1.onCpuNs, schedAfter.waitNs - sched1.waitNs] : [0, 0]];
  const onCpuNs = sched[0]![0]! + sched[1]![0]!;
  const waitNs = sched[0]![1]! + sched[1]![1]!;
  const wallS = (Date.now() - phase0) / 1000;
  // Heartbeats before the outage, and in the steady state after the storm drained (restart + drain):
  // as the probe timed them (the headline; all of them without a probe) and as the load workers did.
  const stormEnd = drainedAts ? Math.max(...drainedAts) : restartAt;
  const split = (from: Array<Record<string, unknown>>) => {
    const latencies = from.flatMap((s) => s.latencies as number[]);
    const sentAts = from.flatMap((s) => s.sentAt as number[]);
    return { latencies, before: latencies.filter((_, i) => sentAts[i]! < outageStart), afterStorm: latencies.filter((_, i) => sentAts[i]! > stormEnd) };
  };
  const { latencies, before, afterStorm } = split(probeKid >= 0 ? [all[probeKid]!] : all);
  const collectorSide = hist0 && hist1 ? histogramSummary(hist0, hist1) : null;
  const byLoad = split(probeKid >= 0 ? all.filter((_, i) => i !== probeKid) : []);
  const accepted = all.reduce((n, s) => n + (s.accepted as number), 0);
  let dbBytes = 0;
  for (const f of ['mcpwatch.sqlite', 'mcpwatch.sqlite-wal']) dbBytes += (() => { try { return statSync(join(dataDir, f)).size; } catch { return 0; } })();
  const figures = {
    endpoints,
    workers,
    compress,
    measuredS: durationS,
    enrollWaveS: enrollS,
    snapshotWaveS: snapS,
    measuredPhaseBatchesSignedAhead: batchesSigned,
    signAheadS: prepareS,
    snapshotWaveProjectedAfterS: snapshotsProjectedS,
    workersDoneAfterPhaseS,
    projectionTailAfterWorkersS: projectionTailS,
    rejectedBatches: all.reduce((n, s) => n + (s.rejected as number), 0),
    acceptedBatchesPerS: accepted / wallS,
    heartbeatLatencyMs: {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      beforeOutage: { p50: percentile(before, 50), p99: percentile(before, 99), count: before.length },
      afterStormDrained: { p50: percentile(afterStorm, 50), p99: percentile(afterStorm, 99), count: afterStorm.length },
      /** Who timed these: the probe process at normal priority (`probeEndpoints` endpoints), or every worker when there is none. */
      timedBy: probeKid >= 0 ? 'probe' : 'load workers',
      probeEndpoints,
      /** The same, timed by the load workers at --sim-nice (their own scheduling delay included). */
      byLoadWorkers: {
        beforeOutage: { p50: percentile(byLoad.before, 50), p99: percentile(byLoad.before, 99), count: byLoad.before.length },
        afterStormDrained: { p50: percentile(byLoad.afterStorm, 50), p99: percentile(byLoad.afterStorm, 99), count: byLoad.afterStorm.length },
      },
      /** The collector's own histogram (mcpwatch_batch_duration_seconds, every batch) before the outage: share answered within 250 ms, and the bucket holding p99. */
      collectorSideBeforeOutage: collectorSide,
    },
    projectionLagS: { p50: percentile(lags, 50), p95: percentile(lags, 95), max: lags.length ? Math.max(...lags) : 0 },
    fleetQueryMs: {
      /** own: the query listener's port (worker thread); main: the main port. */
      port: queryPortMode,
      /** Nice value of the simulated agents' processes (see --sim-nice). */
      simNice,
      p95: percentile(queries, 95),
      count: queries.length,
      byQuery: Object.fromEntries(Object.entries(queriesByKind).map(([k, v]) => [k, { p50: percentile(v, 50), p95: percentile(v, 95), count: v.length }])),
    },
    stormDrainS: drainedAts ? (Math.max(...drainedAts) - restartAt) / 1000 : null,
    collectorCpuS: cpuBeforeOutage + cpuAfter,
    collectorCpuPercentOfOneCore: ((cpuBeforeOutage + cpuAfter) / Math.max(1, wallS - outageS)) * 100,
    collectorMainThread: { onCpuS: onCpuNs / 1e9, runQueueWaitS: waitNs / 1e9, waitShareOfRunnable: onCpuNs + waitNs > 0 ? waitNs / (onCpuNs + waitNs) : null },
    collectorRssMaxBytes: rssMax,
    databaseBytesPerEndpoint: dbBytes / endpoints,
    sharedKeyMaterial: 'two pooled RSA-2048 key pairs for all simulated agents (certificates, agent ids, chains and signatures per endpoint)',
  };
  const row = (k: string, v: string) => `| ${k} | ${v} |`;
  process.stdout.write(
    [
      '',
      `fleet simulation: ${endpoints} endpoints, ${workers} worker processes, time compressed x${compress}, ${durationS} s measured (machine shared; see load average)`,
      '| figure | value |',
      '| --- | --- |',
      row('enrollment wave', `${enrollS.toFixed(1)} s`),
      row('snapshot wave', `${snapS.toFixed(1)} s`),
      row('snapshot wave projected (after the last snapshot was sent)', `${snapshotsProjectedS.toFixed(1)} s`),
      row('measured-phase batches signed ahead', `${batchesSigned} in ${prepareS.toFixed(1)} s`),
      row('batches refused (4xx other than 429)', String(figures.rejectedBatches)),
      row('accepted batches/s (measured phase)', figures.acceptedBatchesPerS.toFixed(0)),
      row('heartbeat latency p50 / p99 (whole phase)', `${figures.heartbeatLatencyMs.p50.toFixed(1)} / ${figures.heartbeatLatencyMs.p99.toFixed(1)} ms`),
      row('  before the outage', `${figures.heartbeatLatencyMs.beforeOutage.p50.toFixed(1)} / ${figures.heartbeatLatencyMs.beforeOutage.p99.toFixed(1)} ms (${before.length})`),
      row('  after the storm drained', `${figures.heartbeatLatencyMs.afterStormDrained.p50.toFixed(1)} / ${figures.heartbeatLatencyMs.afterStormDrained.p99.toFixed(1)} ms (${afterStorm.length})`),
      row(`  timed by`, probeKid >= 0 ? `the probe process (${probeEndpoints} endpoints, normal priority)` : 'the load workers'),
      ...(probeKid >= 0
        ? [
            row('  as the load workers timed them: before the outage', `${percentile(byLoad.before, 50).toFixed(1)} / ${percentile(byLoad.before, 99).toFixed(1)} ms (${byLoad.before.length}; nice ${simNice}, their own delays included)`),
            row('  as the load workers timed them: after the storm drained', `${percentile(byLoad.afterStorm, 50).toFixed(1)} / ${percentile(byLoad.afterStorm, 99).toFixed(1)} ms (${byLoad.afterStorm.length})`),
          ]
        : []),
      row('  collector side, every batch before the outage', collectorSide ? `${(collectorSide.shareWithin250ms * 100).toFixed(2)} % within 250 ms; p99 in the bucket <= ${collectorSide.p99BucketS} s (${collectorSide.count})` : '-'),
      row('projection lag p50 / p95 / max', `${figures.projectionLagS.p50.toFixed(2)} / ${figures.projectionLagS.p95.toFixed(2)} / ${figures.projectionLagS.max.toFixed(2)} s`),
      row('fleet query p95', `${figures.fleetQueryMs.p95.toFixed(1)} ms (${queries.length} queries, ${queryPortMode === 'own' ? 'on the query listener: own port and thread' : 'on the main port'})`),
      ...Object.entries(queriesByKind).map(([k, v]) => row(`  ${k} p50 / p95`, `${percentile(v, 50).toFixed(1)} / ${percentile(v, 95).toFixed(1)} ms (${v.length})`)),
      row('reconnect storm drained in', figures.stormDrainS === null ? 'not within 300 s' : `${figures.stormDrainS.toFixed(1)} s`),
      row('collector CPU', `${figures.collectorCpuS.toFixed(1)} s (${figures.collectorCpuPercentOfOneCore.toFixed(0)}% of one core)`),
      row('collector main thread: on CPU / waiting for a CPU', `${(onCpuNs / 1e9).toFixed(1)} s / ${(waitNs / 1e9).toFixed(1)} s (${onCpuNs + waitNs > 0 ? ((100 * waitNs) / (onCpuNs + waitNs)).toFixed(0) : '-'}% of its runnable time spent waiting: other processes)`),
      row('collector RSS max', `${(rssMax / 1048576).toFixed(0)} MiB`),
      row('database bytes / endpoint', figures.databaseBytesPerEndpoint.toFixed(0)),
      `load average 1 min at the end: ${(await import('node:os')).loadavg()[0]!.toFixed(1)}; simulated agents at nice ${simNice} (--sim-nice)`,
      '',
    ].join('\n'),
  );
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify(figures, null, 2) + '\n');
  api.close();
  if (queryApi !== api) queryApi.close();
  collector.kill('SIGTERM');
  await new Promise((r) => collector.once('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
}

if (process.argv[2] === '--worker') {
  runWorker(JSON.parse(process.argv[3]!) as WorkerInit).catch((e: unknown) => {
    process.stderr.write(`fleet worker failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
} else {
  orchestrate().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`fleet simulation failed: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
