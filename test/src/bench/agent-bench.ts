/**
 * `npm run bench:agent`: the agent's scan and watch figures against the budgets in DESIGN.md.
 *
 *  1. scan time: in-process runScan() over a fixture home holding every client's configs, per
 *     OS layout (median of BENCH_SCAN_RUNS, default 20), plus the CLI's wall time (node start
 *     included, median of 5);
 *  2. watch steady state: `mcpwatch-agent watch` through the npm-linked launcher, with the V8
 *     flag in NODE_OPTIONS as the services set it (one process, the one measured), configs +
 *     processes + sockets, default intervals, on a machine padded to 300+ processes: CPU % of one
 *     core (itself, and with any children it reaps) and RSS sampled from /proc, next to an idle
 *     `node -e "setInterval(()=>{},1000)"` measured over the same window; a start-up window (5 s
 *     to BENCH_SETTLE_SECONDS, default 60) and the steady state after it for BENCH_SECONDS
 *     (default 60) rounded up to whole minutes (agent-run-bench.ts startupAndSteady);
 *  3. config write → printed event latency (median and p95 over BENCH_WRITES, default 30);
 *  4. new MCP server process → printed process.started (BENCH_PROCESS_STARTS, default 6);
 *  5. tool probing: CPU per probe poll, 10 MCP + 10 non-MCP listeners (probe-bench.ts);
 *  6. the Windows source logic: CPU per poll over injected helper output, next to the fastlist +
 *     netstat fallback (windows-sources-bench.ts).
 *
 * Each section is an exported function returning table rows, so other sections (run mode) can be
 * added next to them. Linux only (reads /proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { buildScanContext, DEFAULT_DEBOUNCE_MS, defaultScanDeps, runScan, type Platform } from '@mcpwatch/agent';
import type { McpEvent } from '@mcpwatch/shared';
import { runAgentRunBench, SETTLE_SECONDS, startupAndSteady } from './agent-run-bench.js';
import { runProbeBench, runRugPullBench } from './probe-bench.js';
import { runWindowsSourcesBench } from './windows-sources-bench.js';
import { type BenchRow, fmtMb, fmtMs, formatRows, median, percentile, processCount, padProcesses, sleep } from './bench-stats.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const AGENT_BIN = path.join(REPO_ROOT, 'agent/bin/mcpwatch-agent.js');
/** The launcher npm links for `npx mcpwatch-agent` (run through its shebang, flags included). */
const AGENT_EXEC = path.join(REPO_ROOT, 'node_modules/.bin/mcpwatch-agent');
const FIXTURES = path.join(REPO_ROOT, 'agent/tests/fixtures/homes');
const FIXTURE_HOME: Record<Platform, { home: string; system: string }> = {
  linux: { home: path.join(FIXTURES, 'linux/home/alice'), system: path.join(FIXTURES, 'linux/system') },
  darwin: { home: path.join(FIXTURES, 'darwin/Users/alice'), system: path.join(FIXTURES, 'darwin/system') },
  win32: { home: path.join(FIXTURES, 'win32/Users/alice'), system: path.join(FIXTURES, 'win32/system') },
};

const envInt = (name: string, fallback: number): number => {
  const n = Number(process.env[name]);
  return Number.isFinite(n) && n > 0 ? n : fallback;
};

/** Scan time per OS layout, in-process and through the CLI. */
export async function benchScan(runs = envInt('BENCH_SCAN_RUNS', 20)): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const deps = defaultScanDeps();
  for (const platform of ['linux', 'darwin', 'win32'] as const) {
    const fx = FIXTURE_HOME[platform];
    const ctx = await buildScanContext({ platform, home: fx.home, projectRoots: [], systemRoot: fx.system });
    const sources = { configs: true, processes: false, sockets: false };
    const first = await runScan({ ctx, sources }, deps);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await runScan({ ctx, sources }, deps);
      times.push(performance.now() - t0);
    }
    const d = first.document;
    rows.push({
      what: `scan, ${platform} fixture home (in-process)`,
      value: fmtMs(median(times)),
      note: `${d.clients.length} clients, ${d.servers.length} servers, ${d.findings.length} findings, ${d.errors.length} errors; median of ${runs}`,
    });
  }
  const cli: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await runChild(process.execPath, [AGENT_BIN, 'scan', '--json', '--home', FIXTURE_HOME.linux.home, '--system-root', FIXTURE_HOME.linux.system, '--platform', 'linux']);
    cli.push(performance.now() - t0);
  }
  rows.push({ what: 'scan, linux fixture home (CLI, node start included)', value: fmtMs(median(cli)), note: 'median of 5' });
  const t0 = performance.now();
  const self = await buildScanContext({ platform: os.platform() as Platform, home: null, projectRoots: [], systemRoot: null });
  const live = await runScan({ ctx: self }, deps);
  rows.push({
    what: 'scan, this machine (configs + processes + sockets)',
    value: fmtMs(performance.now() - t0),
    note: `${live.document.processes.length} MCP processes among ${processCount()}`,
  });
  return rows;
}

function runChild(cmd: string, args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'ignore' });
    child.once('exit', (code) => resolve(code));
  });
}

/** A watch child with its events. */
interface WatchChild {
  child: ChildProcess;
  ready: Promise<void>;
  /** Processes and sockets in the printed inventory.snapshot. */
  snapshot: Promise<{ processes: number; sockets: number }>;
  next: (pred: (e: McpEvent) => boolean, timeoutMs: number) => Promise<number | null>;
  stop: () => Promise<void>;
}

function startWatchChild(args: string[]): WatchChild {
  // NODE_OPTIONS as the service definitions set it: `watch` then runs in this one process (without
  // it the launcher relaunches itself with the flag, and the pid measured would be the idle launcher).
  const child = spawn(AGENT_EXEC, ['watch', ...args], {
    env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-semi-space-size=2`.trim() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let pending = '';
  let waiter: { pred: (e: McpEvent) => boolean; resolve: (t: number | null) => void } | null = null;
  let gotSnapshot: (v: { processes: number; sockets: number }) => void = () => undefined;
  const snapshot = new Promise<{ processes: number; sockets: number }>((r) => (gotSnapshot = r));
  child.stdout?.on('data', (d: Buffer) => {
    pending += d.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!line) continue;
      const e = JSON.parse(line) as McpEvent;
      if (e.type === 'inventory.snapshot') gotSnapshot({ processes: e.data.processes.length, sockets: e.data.sockets.length });
      if (!waiter) continue;
      if (waiter.pred(e)) {
        const w = waiter;
        waiter = null;
        w.resolve(performance.now());
      }
    }
  });
  const ready = new Promise<void>((resolve) => {
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('watching')) resolve();
    });
  });
  return {
    child,
    ready,
    snapshot,
    next: (pred, timeoutMs) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiter = null;
          resolve(null);
        }, timeoutMs);
        waiter = { pred, resolve: (t) => { clearTimeout(timer); resolve(t); } };
      }),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const EVERYTHING_BIN = path.join(REPO_ROOT, 'node_modules/.bin/mcp-server-everything');

/** A stand-in client: launches every server of a Claude Desktop config that runs EVERYTHING_BIN. */
const STAND_IN_CLIENT = `
const { spawn } = require('node:child_process');
const cfg = JSON.parse(require('node:fs').readFileSync(process.argv[1], 'utf8'));
const kids = Object.values(cfg.mcpServers).filter((e) => e.command === ${JSON.stringify(EVERYTHING_BIN)})
  .map((e) => spawn(e.command, e.args, { env: { ...process.env, ...(e.env || {}) }, stdio: ['pipe', 'ignore', 'ignore'] }));
process.on('SIGTERM', () => { for (const k of kids) k.kill('SIGKILL'); process.exit(0); });
setInterval(() => {}, 1 << 30);
`;

/**
 * Adds real MCP servers to the home's Claude Desktop config (3 over stdio, 1 over HTTP) and
 * starts them under a stand-in client process named claude-desktop; returns a stopper.
 */
async function startMcpServers(home: string, tmp: string): Promise<() => void> {
  const file = path.join(home, '.config', 'Claude', 'claude_desktop_config.json');
  const cfg = JSON.parse(readFileSync(file, 'utf8')) as { mcpServers: Record<string, unknown> };
  for (let i = 0; i < 3; i++) cfg.mcpServers[`bench-stdio-${i}`] = { command: EVERYTHING_BIN, args: ['stdio', `--n=${i}`] };
  cfg.mcpServers['bench-http'] = { command: EVERYTHING_BIN, args: ['streamableHttp'], env: { PORT: '0' } };
  writeFileSync(file, JSON.stringify(cfg));
  const launcher = path.join(tmp, 'claude-desktop');
  symlinkSync(process.execPath, launcher);
  const client = spawn(launcher, ['-e', STAND_IN_CLIENT, file], { stdio: 'ignore' });
  await sleep(2000);
  return () => client.kill('SIGTERM');
}

/** Steady-state CPU and RSS of watch mode (with real MCP servers running) next to an idle node. */
export async function benchWatchResources(seconds = envInt('BENCH_SECONDS', 60)): Promise<BenchRow[]> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'mcpw-bench-'));
  const home = path.join(tmp, 'alice');
  cpSync(FIXTURE_HOME.linux.home, home, { recursive: true });
  const unpad = padProcesses(320);
  const stopServers = await startMcpServers(home, tmp);
  const watch = startWatchChild(['--home', home, '--platform', 'linux', '--sources', 'configs,processes,sockets']);
  const idle = spawn(process.execPath, ['-e', 'setInterval(()=>{},1000)'], { stdio: 'ignore' });
  try {
    await watch.ready;
    const { startup, steady: w } = await startupAndSteady(watch.child.pid as number, idle.pid as number, seconds);
    const seen = await watch.snapshot;
    const note = `${w.elapsedS.toFixed(0)} s window from ${SETTLE_SECONDS} s after start, ${w.processes} processes; ${seen.processes} MCP processes and ${seen.sockets} sockets in the inventory`;
    return [
      { what: 'watch CPU, start-up (agent process)', value: startup.subjectCpu.self, note: `5 to ${SETTLE_SECONDS} s after start; idle node ${startup.idleCpu}` },
      { what: 'watch CPU (agent process)', value: w.subjectCpu.self, budget: '≤ 0.25 % of one core', note },
      { what: 'watch CPU (agent + reaped children)', value: w.subjectCpu.withChildren, note: 'poll every 5 s' },
      { what: 'watch RSS (median / max)', value: `${fmtMb(median(w.subjectRss))} / ${fmtMb(Math.max(...w.subjectRss))}`, budget: '≤ 72 MB' },
      { what: 'idle node baseline CPU', value: w.idleCpu, note: 'same window' },
      { what: 'idle node baseline RSS (median)', value: fmtMb(median(w.idleRss)) },
    ];
  } finally {
    idle.kill('SIGKILL');
    await watch.stop();
    stopServers();
    unpad();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Latency from writing a config file to the printed server event. */
export async function benchWatchLatency(writes = envInt('BENCH_WRITES', 30)): Promise<BenchRow[]> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'mcpw-bench-'));
  const home = path.join(tmp, 'alice');
  cpSync(FIXTURE_HOME.linux.home, home, { recursive: true });
  const file = path.join(home, '.cursor', 'mcp.json');
  const watch = startWatchChild(['--home', home, '--platform', 'linux', '--sources', 'configs,processes,sockets']);
  const latencies: number[] = [];
  let missed = 0;
  try {
    await watch.ready;
    for (let i = 0; i < writes; i++) {
      const name = `bench-${i}`;
      const waiting = watch.next((e) => e.type === 'server.added' && (e.data as { name?: string }).name === name, 5000);
      const t0 = performance.now();
      writeFileSync(file, JSON.stringify({ mcpServers: { [name]: { command: 'npx', args: ['-y', `bench-mcp-server@1.0.${i}`] } } }));
      const t1 = await waiting;
      if (t1 === null) missed++;
      else latencies.push(t1 - t0);
      await sleep(250);
    }
  } finally {
    await watch.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  const note = `${latencies.length} writes${missed ? `, ${missed} missed (5 s timeout)` : ''}; debounce ${DEFAULT_DEBOUNCE_MS} ms`;
  return [
    { what: 'config write → event printed (median)', value: fmtMs(median(latencies)), note },
    { what: 'config write → event printed (p95)', value: fmtMs(percentile(latencies, 95)), budget: '≤ 300 ms to the collector (p95)' },
  ];
}

/** Time from a new MCP server process starting to its printed process.started event. */
export async function benchProcessLatency(starts = envInt('BENCH_PROCESS_STARTS', 6)): Promise<BenchRow[]> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'mcpw-bench-'));
  const home = path.join(tmp, 'alice');
  cpSync(FIXTURE_HOME.linux.home, home, { recursive: true });
  const watch = startWatchChild(['--home', home, '--platform', 'linux', '--sources', 'configs,processes,sockets']);
  const latencies: number[] = [];
  try {
    await watch.ready;
    for (let i = 0; i < starts; i++) {
      // A process recognised by name (mcp-server-*), started at a random phase of the poll.
      await sleep(Math.floor(Math.random() * 5000));
      let pid = -1;
      const waiting = watch.next((e) => e.type === 'process.started' && e.data.pid === pid, 15_000);
      const t0 = performance.now();
      const child = spawn(process.execPath, ['-e', 'setInterval(()=>{},1000)', `mcp-server-bench-${i}`], { stdio: 'ignore' });
      pid = child.pid as number;
      const t1 = await waiting;
      child.kill('SIGKILL');
      if (t1 !== null) latencies.push(t1 - t0);
    }
  } finally {
    await watch.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  return [
    { what: 'new server process → event printed (median)', value: fmtMs(median(latencies)), note: `${latencies.length} of ${starts} starts seen` },
    { what: 'new server process → event printed (max)', value: fmtMs(Math.max(...latencies)), budget: '≤ one poll interval (5 s)' },
  ];
}

/** Every agent section, printed as one table. */
export async function runAgentBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  rows.push(...(await benchScan()));
  rows.push(...(await benchWatchResources()));
  rows.push(...(await benchWatchLatency()));
  rows.push(...(await benchProcessLatency()));
  rows.push(...(await runAgentRunBench()));
  rows.push(...(await runProbeBench()));
  rows.push(...(await runRugPullBench()));
  rows.push(...(await runWindowsSourcesBench()));
  return rows;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (os.platform() !== 'linux') {
    console.error('bench:agent reads /proc and runs on Linux only');
    process.exitCode = 2;
  } else {
    const s = envInt('BENCH_SECONDS', 60);
    console.error(`bench:agent: BENCH_SECONDS=${s} (each steady-state window, whole minutes, after ${SETTLE_SECONDS} s of start-up); this takes about ${Math.round((2 * (SETTLE_SECONDS + Math.max(60, Math.ceil(s / 60) * 60)) + s + 120) / 60)} min`);
    const rows = await runAgentBench();
    console.log(formatRows(`mcpwatch agent benchmark (${os.cpus().length} CPUs, node ${process.version})`, rows));
  }
}
