/**
 * `npm run bench:heartbeat`: the collector's CPU per heartbeat batch (POST /v1/batches with one
 * `agent.heartbeat` event, the fleet's steady load), same-run A/B of two collector builds.
 *
 * Each build is a real collector process (SQLite, --tls off) with its own data directory and its
 * own HB_AGENTS enrolled agents (real CSRs and certificates; the agents share two pooled key pairs,
 * like bench:fleet's). Every batch of the run is built, chained and signed AHEAD (RSA signing here
 * is ~0.3 ms: done during the phase it would compete with the collector for the machine's two
 * cores). Then rounds of HB_ROUND_S seconds alternate between the builds (A B, then B A, ...), each
 * offering HB_RATE batches/s open loop (sent when due, whatever the answers; the agents take turns,
 * so each agent's batches go out in seq order HB_AGENTS / HB_RATE s apart) over keep-alive sockets.
 *
 * Per round and build: the collector's main-thread CPU per accepted batch (the event loop: route,
 * store append and projection; /proc/PID/task/PID/schedstat), the whole process's CPU per batch
 * (utime+stime of every thread: plus the WAL fsyncs, gunzip of big bodies, GC helpers;
 * /proc/PID/stat, clock ticks) and the latency of each request. The CPU window is from the round's
 * first send to HB_SETTLE_MS after its last answer, so the projection of the round's batches is in
 * it (the projection lag at the end of the round is printed; non-zero means the window missed some).
 * The first round of each build is a warm-up (JIT, caches) and not counted.
 *
 * Env: HB_COLLECTOR_BIN (default this tree's collector/bin/mcpwatch-collector.js, label "this"),
 * HB_BASE_COLLECTOR_BIN (another build's bin, e.g. a copy of HEAD built in /tmp, label "base";
 * unset: this build alone), HB_AGENTS (1000), HB_RATE (1000 batches/s), HB_ROUND_S (5),
 * HB_ROUNDS (6, per build, after the warm-up), HB_SETTLE_MS (500), HB_COLLECTOR_NODE_ARGS (extra
 * node flags for "this" collector, after each build's own collector/node-flags.json, which
 * BENCH_COLLECTOR_NODE_FLAGS=0 leaves out; e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`: the profile
 * is written when the bench stops it with SIGTERM. A/B of a flag: the same bin as base and this,
 * BENCH_COLLECTOR_NODE_FLAGS=0 and the flag here), HB_JSON (write the figures there too).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeEvent } from '@mcpwatch/shared';
import { freePort, httpTransport, makeCsr, pooledKeyPair, TestAgent, waitForOutput, type Transport } from '@mcpwatch/testkit';
import { clkTck, collectorNodeFlags, envInt, median, percentile, SIMULATED_FLEET_COLLECTOR_ENV, sleep } from './bench-stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const ENROLL_SECRET = 'heartbeat-bench-enroll-secret-0123456789';
const AGENTS = envInt('HB_AGENTS', 1000);
const RATE = envInt('HB_RATE', 1000);
const ROUND_S = envInt('HB_ROUND_S', 5);
const ROUNDS = envInt('HB_ROUNDS', 6);
const SETTLE_MS = envInt('HB_SETTLE_MS', 500);
/** Batches per round and build. */
const PER_ROUND = RATE * ROUND_S;

interface Build {
  label: string;
  bin: string;
  nodeArgs: string[];
  dataDir: string;
  url: string;
  child: ChildProcess;
  transport: Transport & { close(): void };
  agents: TestAgent[];
  /** Every batch this build is sent (warm-up round first), signed ahead. */
  batches: Array<{ headers: Record<string, string>; body: Buffer }>;
  next: number;
  mainUsPerBatch: number[];
  procUsPerBatch: number[];
  latenciesMs: number[];
  refused: Map<number, number>;
  lagAtRoundEnd: number[];
}

async function startCollector(bin: string, nodeArgs: string[], dataDir: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...collectorNodeFlags(bin), ...nodeArgs, bin, '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--tls', 'off', '--log-level', 'warn'], {
    env: {
      ...process.env,
      MCPWATCH_ENROLL_SECRET: `bench:${ENROLL_SECRET}`,
      // Batches are signed before the rounds start.
      ...SIMULATED_FLEET_COLLECTOR_ENV,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitForOutput(child, 'listening on', 60_000);
  return child;
}

/** The main thread's time on a CPU, ns (/proc/PID/task/PID/schedstat). */
function mainThreadNs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]);
}

/** utime + stime of every thread of the process, in clock ticks. */
function processTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

const heartbeatData = { version: '0.1.0', uptimeS: 1, cpuPercent: 0.1, rssBytes: 50_000_000, spoolBytes: 0, spoolDepth: 0, droppedCount: 0, lastError: null, intervalsMs: { process: 5000 }, throttled: false };

async function startBuild(label: string, bin: string, nodeArgs: string[]): Promise<Build> {
  const dataDir = mkdtempSync(join(tmpdir(), `mcpw-hb-${label}-`));
  const port = await freePort();
  const child = await startCollector(bin, nodeArgs, dataDir, port);
  const url = `http://127.0.0.1:${port}`;
  const transport = httpTransport(url, { maxSockets: 64 });
  const csrs = [makeCsr(pooledKeyPair(0)), makeCsr(pooledKeyPair(1))];
  const agents: TestAgent[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < AGENTS) {
        const i = next++;
        agents.push(await TestAgent.enroll(transport, { enrollSecret: ENROLL_SECRET, keys: pooledKeyPair(i % 2), csr: csrs[i % 2]!, host: { hostname: `hb-${i}`, hardwareUuid: `hb-hw-${label}-${i}` } }));
      }
    }),
  );
  // The warm-up round, then ROUNDS measured ones; batch k goes to agent k % AGENTS.
  const total = PER_ROUND * (ROUNDS + 1);
  const batches: Build['batches'] = [];
  for (let k = 0; k < total; k++) {
    const a = agents[k % AGENTS]!;
    const p = a.prepare([makeEvent('agent.heartbeat', a.endpointId, heartbeatData as never)]);
    a.nextSeq = p.seq + 1;
    a.prevHash = p.bodyHash;
    batches.push({ headers: p.headers, body: p.body });
  }
  return { label, bin, nodeArgs, dataDir, url, child, transport, agents, batches, next: 0, mainUsPerBatch: [], procUsPerBatch: [], latenciesMs: [], refused: new Map(), lagAtRoundEnd: [] };
}

/** The projection lag /readyz reports (batches), null when it does not answer. */
async function lagBatches(b: Build): Promise<number | null> {
  const r = await b.transport({ method: 'GET', path: '/readyz', headers: {} }).catch(() => null);
  return (r?.json as { projection?: { lagBatches: number } } | undefined)?.projection?.lagBatches ?? null;
}

/** One round: PER_ROUND batches at RATE/s, open loop; counted unless `warmup`. */
async function round(b: Build, warmup: boolean): Promise<void> {
  const pid = b.child.pid!;
  const first = b.next;
  b.next += PER_ROUND;
  const latencies: number[] = [];
  let accepted = 0;
  const inflight: Array<Promise<void>> = [];
  const main0 = mainThreadNs(pid);
  const ticks0 = processTicks(pid);
  const t0 = performance.now();
  for (let sent = 0; sent < PER_ROUND; ) {
    const due = Math.min(PER_ROUND, Math.floor(((performance.now() - t0) / 1000) * RATE) + 1);
    for (; sent < due; sent++) {
      const batch = b.batches[first + sent]!;
      const s0 = performance.now();
      inflight.push(
        b.transport({ method: 'POST', path: '/v1/batches', headers: batch.headers, body: batch.body }).then(
          (res) => {
            latencies.push(performance.now() - s0);
            if (res.status === 200) accepted++;
            else b.refused.set(res.status, (b.refused.get(res.status) ?? 0) + 1);
          },
          () => void b.refused.set(0, (b.refused.get(0) ?? 0) + 1),
        ),
      );
    }
    await sleep(1);
  }
  await Promise.all(inflight);
  await sleep(SETTLE_MS);
  const mainNs = mainThreadNs(pid) - main0;
  const ticks = processTicks(pid) - ticks0;
  const lag = await lagBatches(b);
  if (warmup || accepted === 0) return;
  b.mainUsPerBatch.push(mainNs / 1000 / accepted);
  b.procUsPerBatch.push(((ticks / clkTck()) * 1e6) / accepted);
  b.latenciesMs.push(...latencies);
  b.lagAtRoundEnd.push(lag ?? -1);
}

async function stop(b: Build): Promise<void> {
  b.transport.close();
  if (b.child.exitCode === null) {
    const exited = new Promise((r) => b.child.once('exit', r));
    b.child.kill('SIGTERM');
    await exited;
  }
  rmSync(b.dataDir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const thisBin = process.env.HB_COLLECTOR_BIN ? resolve(process.env.HB_COLLECTOR_BIN) : resolve(here, '../../../collector/bin/mcpwatch-collector.js');
  const nodeArgs = (process.env.HB_COLLECTOR_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const specs: Array<[string, string, string[]]> = [];
  if (process.env.HB_BASE_COLLECTOR_BIN) specs.push(['base', resolve(process.env.HB_BASE_COLLECTOR_BIN), []]);
  specs.push(['this', thisBin, nodeArgs]);
  process.stderr.write(`heartbeat bench: ${specs.map((s) => `${s[0]}=${s[1]}`).join(', ')}; ${AGENTS} agents each, ${RATE} batches/s, ${ROUNDS} rounds of ${ROUND_S} s per build after a warm-up round\n`);
  const builds: Build[] = [];
  try {
    for (const [label, bin, args] of specs) {
      const t = Date.now();
      builds.push(await startBuild(label, bin, args));
      process.stderr.write(`  ${label}: enrolled ${AGENTS} agents and signed ${PER_ROUND * (ROUNDS + 1)} batches in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
    }
    for (const b of builds) await round(b, true);
    for (let r = 0; r < ROUNDS; r++) {
      for (const b of r % 2 === 0 ? builds : [...builds].reverse()) {
        await round(b, false);
        process.stderr.write(`  round ${r + 1} ${b.label}: main ${b.mainUsPerBatch.at(-1)!.toFixed(1)} us/batch, process ${b.procUsPerBatch.at(-1)!.toFixed(1)} us/batch, lag at end ${b.lagAtRoundEnd.at(-1)}\n`);
      }
    }
  } finally {
    for (const b of builds) await stop(b).catch(() => undefined);
  }
  const q = (a: number[], p: number) => percentile(a, p).toFixed(1);
  const figures = builds.map((b) => ({
    label: b.label,
    bin: b.bin,
    mainUsPerBatch: { median: median(b.mainUsPerBatch), p25: percentile(b.mainUsPerBatch, 25), p75: percentile(b.mainUsPerBatch, 75), rounds: b.mainUsPerBatch },
    processUsPerBatch: { median: median(b.procUsPerBatch), rounds: b.procUsPerBatch },
    latencyMs: { p50: percentile(b.latenciesMs, 50), p99: percentile(b.latenciesMs, 99), max: percentile(b.latenciesMs, 100) },
    refused: Object.fromEntries(b.refused),
    lagAtRoundEnd: b.lagAtRoundEnd,
  }));
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`heartbeat batches: ${AGENTS} agents, ${RATE}/s offered, ${ROUNDS} x ${ROUND_S} s rounds per build, load ${load}`);
  for (const b of builds) {
    console.log(
      `${b.label.padEnd(5)} main thread ${q(b.mainUsPerBatch, 50)} us/batch (p25 ${q(b.mainUsPerBatch, 25)}, p75 ${q(b.mainUsPerBatch, 75)}), process ${q(b.procUsPerBatch, 50)} us/batch, latency p50 ${q(b.latenciesMs, 50)} ms p99 ${q(b.latenciesMs, 99)} ms` +
        (b.refused.size > 0 ? `, refused ${JSON.stringify(Object.fromEntries(b.refused))}` : ''),
    );
  }
  if (builds.length === 2) console.log(`this/base main-thread CPU per batch: ${(median(builds[1]!.mainUsPerBatch) / median(builds[0]!.mainUsPerBatch)).toFixed(3)}`);
  if (process.env.HB_JSON) writeFileSync(process.env.HB_JSON, JSON.stringify({ agents: AGENTS, rate: RATE, roundS: ROUND_S, rounds: ROUNDS, load, builds: figures }, null, 2));
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
