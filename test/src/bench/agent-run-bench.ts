/**
 * Run-mode section of `npm run bench:agent` (invoked from agent-bench.ts): the agent as a service
 * (`mcpwatch-agent run`: watch engine → spool → signed shipper) against a real collector on
 * loopback (SQLite, plain HTTP), at default intervals.
 *
 *  1. CPU % of one core and RSS of the run-mode agent, on a machine padded to 300+ processes,
 *     next to an idle `node` baseline measured over the same window (the collector runs too, but
 *     is not measured), in two windows: start-up (5 s to BENCH_SETTLE_SECONDS, default 60, after
 *     the agent said it runs: first probes of every listener, JIT warm-up, V8's memory-reducer
 *     GCs once the start scan's garbage is idle) and steady state (the budget's): the next
 *     BENCH_SECONDS (default 120) rounded up to whole minutes, since the heartbeat, re-probes,
 *     extension rescan and watch re-plan fire once a minute;
 *  2. config write → event stored at the collector (queryable through GET /v1/events), median and
 *     p95 over BENCH_WRITES (default 30).
 * The resources part runs once per count in BENCH_RUN_MCP (default "1,10"): that many listening MCP
 * servers next to 10 non-MCP listeners, hooks on (RigOptions). BENCH_RUN_PARTS=resources|latency runs one part; BENCH_AGENT_NODE_ARGS starts the agent as
 * `node <those args> agent/bin/mcpwatch-agent.js` (e.g. --cpu-prof to see where its time goes);
 * BENCH_AGENT_NODE runs it with another Node binary (the 22.x of the single executable);
 * BENCH_RUN_NODE_OPTIONS replaces the NODE_OPTIONS the agent runs under (default: the service's,
 * LONG_RUNNING_NODE_OPTIONS.run: --max-semi-space-size=2 --jitless);
 * BENCH_AGENT_DIR runs another build of the agent (a copy of agent/ with its dist) as the measured one. Linux only (reads /proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch as fsWatch, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type BenchRow, envInt, fmtMb, fmtMs, median, percentile, padProcesses, type ResourceWindow, sampleResourceWindow, sleep } from './bench-stats.js';
import { freePort, stopProcess, waitForOutput } from '@mcpwatch/testkit';
import { DEFAULT_DEBOUNCE_MS, LONG_RUNNING_NODE_OPTIONS } from '@mcpwatch/agent';
import { startToolServers } from './probe-bench.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const AGENT_BIN = path.join(REPO_ROOT, 'agent/bin/mcpwatch-agent.js');
/** The launcher npm links for `npx mcpwatch-agent` (its shebang carries the V8 flags). */
const AGENT_EXEC = path.join(REPO_ROOT, 'node_modules/.bin/mcpwatch-agent');
/** BENCH_AGENT_DIR: measure another build of the agent (its bin/mcpwatch-agent.js, e.g. a copy of a base commit's agent/) instead. */
const RUN_EXEC = process.env.BENCH_AGENT_DIR ? path.join(path.resolve(process.env.BENCH_AGENT_DIR), 'bin/mcpwatch-agent.js') : AGENT_EXEC;
const RUN_BIN = process.env.BENCH_AGENT_DIR ? path.join(path.resolve(process.env.BENCH_AGENT_DIR), 'bin/mcpwatch-agent.js') : AGENT_BIN;
const COLLECTOR_BIN = path.join(REPO_ROOT, 'collector/bin/mcpwatch-collector.js');
const FIXTURE_HOME = path.join(REPO_ROOT, 'agent/tests/fixtures/homes/linux/home/alice');
const ENROLL_SECRET = 'bench-enroll-secret-0001';
const ADMIN_TOKEN = 'bench-admin-token-000000001';

function getJson(url: string): Promise<unknown> {
  return new Promise((resolve) => {
    const req = http.get(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch {
          resolve(null);
        }
      });
    });
    req.on('error', () => resolve(null));
  });
}

/** A collector and an enrolled, running agent on a copy of the Linux fixture home. */
interface RunRig {
  url: string;
  home: string;
  stateDir: string;
  agent: ChildProcess;
  /** Listeners started for the rig (see RigOptions.listeners). */
  listeners: { mcp: number; other: number };
  stop: () => Promise<void>;
}

interface RigOptions {
  /**
   * Listeners started for the rig, or none (null: the latency part). The budget's condition (issue
   * 12's bench) is `mcp` listening MCP servers (the SDK-built tool-server, 5 tools each: 10 in the
   * issue's bench, 1 for a laptop with one local HTTP MCP server) and 10 non-MCP listeners (5 HTTP
   * answering 404, 5 raw TCP), probed by the agent at its default probe settings, with hooks on
   * (MCPWATCH_HOOKS=audit: run installs and keeps them).
   */
  listeners: { mcp: number } | null;
}

const listenLoopback = (srv: http.Server | TcpServer): Promise<number> => new Promise((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as { port: number }).port)));

async function startListeners(dir: string, mcpServers: number): Promise<{ stop: () => void; mcp: number; other: number }> {
  const mcp = await startToolServers(dir, mcpServers);
  const others: (http.Server | TcpServer)[] = [];
  for (let i = 0; i < 5; i++) {
    const web = http.createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<html>not found</html>'));
    const raw = createTcpServer((s) => s.end('SSH-2.0-OpenSSH_9.6\r\n'));
    others.push(web, raw);
    await listenLoopback(web);
    await listenLoopback(raw);
  }
  return {
    mcp: mcp.ports.length,
    other: others.length,
    stop: () => {
      for (const c of mcp.children) c.kill('SIGKILL');
      for (const s of others) s.close();
    },
  };
}

async function startRunRig(opts: RigOptions = { listeners: null }): Promise<RunRig> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'mcpw-run-bench-'));
  const listeners = opts.listeners ? await startListeners(tmp, opts.listeners.mcp) : { stop: () => undefined, mcp: 0, other: 0 };
  try {
    return await startRigAround(tmp, listeners, opts.listeners !== null);
  } catch (e) {
    // A rig that did not start leaves no tool servers behind (they would be probed by later runs).
    listeners.stop();
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

async function startRigAround(tmp: string, listeners: { stop: () => void; mcp: number; other: number }, hooks: boolean): Promise<RunRig> {
  const home = path.join(tmp, 'alice');
  cpSync(FIXTURE_HOME, home, { recursive: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const collector = spawn(process.execPath, [COLLECTOR_BIN, '--data-dir', path.join(tmp, 'collector'), '--listen', `127.0.0.1:${port}`, '--tls', 'off'], {
    env: { ...process.env, MCPWATCH_ENROLL_SECRET: ENROLL_SECRET, MCPWATCH_ADMIN_TOKEN: ADMIN_TOKEN, MCPWATCH_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitForOutput(collector, 'listening on', 60_000);
  const stateDir = path.join(tmp, 'agent');
  const enroll = spawn(process.execPath, [AGENT_BIN, 'enroll', '--server', url, '--state-dir', stateDir], {
    env: { ...process.env, MCPWATCH_ENROLL_SECRET: ENROLL_SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitForOutput(enroll, 'enrolled with', 60_000);
  // NODE_OPTIONS as the service definitions set them (installers/: a small young generation, no JIT):
  // one process (no relaunch), the one measured. BENCH_RUN_NODE_OPTIONS replaces them (an A/B of V8 flags).
  const runNodeOptions = process.env.BENCH_RUN_NODE_OPTIONS ?? LONG_RUNNING_NODE_OPTIONS.run;
  const nodeArgs = process.env.BENCH_AGENT_NODE_ARGS?.split(/\s+/).filter(Boolean);
  // BENCH_AGENT_NODE: another Node binary for the measured agent (e.g. the 22.x its single executable is made from).
  const agentNode = process.env.BENCH_AGENT_NODE;
  const direct = nodeArgs !== undefined || agentNode !== undefined;
  const agent = spawn(direct ? (agentNode ?? process.execPath) : RUN_EXEC, [...(direct ? [...(nodeArgs ?? ['--max-semi-space-size=2']), RUN_BIN] : []), 'run', '--state-dir', stateDir, '--home', home, '--platform', 'linux', '--sources', 'configs,processes,sockets'], {
    env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${runNodeOptions}`.trim(), ...(hooks ? { MCPWATCH_HOOKS: 'audit' } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitForOutput(agent, 'running (endpoint', 60_000);
  return {
    url,
    home,
    stateDir,
    agent,
    listeners: { mcp: listeners.mcp, other: listeners.other },
    stop: async () => {
      await stopProcess(agent);
      await stopProcess(collector);
      listeners.stop();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** Seconds after an agent said it runs before its steady-state window starts (see the module comment). */
export const SETTLE_SECONDS = Math.max(10, envInt('BENCH_SETTLE_SECONDS', 60));

/** A steady-state window of at least `seconds`, in whole minutes (the agent's minute timers fire once in each). */
export function steadyWindowSeconds(seconds: number): number {
  return Math.max(60, Math.ceil(seconds / 60) * 60);
}

/** The start-up window (5 s to SETTLE_SECONDS after start) and then the steady-state window of `pid`, each next to `idlePid`. */
export async function startupAndSteady(pid: number, idlePid: number, seconds: number, onSteady?: () => void, settleSeconds = SETTLE_SECONDS): Promise<{ startup: ResourceWindow; steady: ResourceWindow }> {
  await sleep(5000); // past the start scan, snapshot and first heartbeat
  const startup = await sampleResourceWindow(pid, idlePid, settleSeconds - 5);
  onSteady?.();
  const steady = await sampleResourceWindow(pid, idlePid, steadyWindowSeconds(seconds));
  return { startup, steady };
}

/** CPU and RSS of run mode, start-up and steady state, next to an idle node baseline over the same windows. */
export async function benchRunResources(seconds = envInt('BENCH_SECONDS', 120), opts: RigOptions = { listeners: { mcp: 10 } }): Promise<BenchRow[]> {
  const unpad = padProcesses(320);
  const rig = await startRunRig(opts);
  const idle = spawn(process.execPath, ['-e', 'setInterval(()=>{},1000)'], { stdio: 'ignore' });
  try {
    const steadyFrom = { at: '' };
    // First contact with every listener of the machine takes ceil(listeners / 4) probe polls of
    // 15 s (the agent's defaults: 4 probes per poll); the steady state starts after that.
    const listening = listeningSockets();
    const settle = opts.listeners ? Math.max(SETTLE_SECONDS, Math.ceil(listening / 4) * 15 + 20) : SETTLE_SECONDS;
    const { startup, steady: w } = await startupAndSteady(rig.agent.pid as number, idle.pid as number, seconds, () => (steadyFrom.at = new Date().toISOString()), settle);
    const mem = memoryBreakdown(rig.agent.pid as number);
    const shipped = await eventTypesSince(rig.url, steadyFrom.at);
    const cond = opts.listeners ? `${rig.listeners.mcp} MCP + ${rig.listeners.other} non-MCP listeners, hooks audit` : 'no listeners started, hooks off';
    const note = `${process.env.BENCH_AGENT_DIR ? `agent from ${process.env.BENCH_AGENT_DIR}; ` : ''}${process.env.BENCH_AGENT_NODE ? `node ${process.env.BENCH_AGENT_NODE}; ` : ''}${w.elapsedS.toFixed(0)} s window from ${settle} s after start, ${w.processes} processes, default intervals (poll 5 s, heartbeat 60 s), ${cond}; load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`;
    const tag = opts.listeners ? ` [${rig.listeners.mcp} MCP]` : '';
    return [
      { what: `run CPU, start-up (agent process)${tag}`, value: startup.subjectCpu.self, note: `5 to ${settle} s after start (first probes of ${listening} listening sockets, JIT warm-up, post-start GCs); idle node ${startup.idleCpu}` },
      { what: `run RSS, start-up (max)${tag}`, value: fmtMb(Math.max(...startup.subjectRss)) },
      { what: `run CPU, steady state (agent process)${tag}`, value: w.subjectCpu.self, budget: '≤ 0.25 % of one core', note },
      { what: `run CPU, steady state (agent + ps/netstat children)${tag}`, value: w.subjectCpu.withChildren, note: 'same window' },
      { what: `run RSS, steady state (median / max)${tag}`, value: `${fmtMb(median(w.subjectRss))} / ${fmtMb(Math.max(...w.subjectRss))}`, budget: '≤ 72 MB' },
      { what: `run RSS at the end: anonymous / file-backed${tag}`, value: mem, note: '/proc/<pid>/smaps_rollup' },
      { what: `events stored during the steady window${tag}`, value: String(Object.values(shipped).reduce((a, b) => a + b, 0)), note: Object.entries(shipped).map(([t, n]) => `${t} ${n}`).join(', ') },
      { what: `idle node baseline CPU (run window${tag})`, value: w.idleCpu },
      { what: `idle node baseline RSS (run window${tag}, median)`, value: fmtMb(median(w.idleRss)) },
    ];
  } finally {
    idle.kill('SIGKILL');
    await rig.stop();
    unpad();
  }
}

/** Listening TCP sockets on this machine (/proc/net/tcp and tcp6, state 0A). */
function listeningSockets(): number {
  let n = 0;
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const line of readFileSync(f, 'utf8').split('\n').slice(1)) if (line.trim().split(/\s+/)[3] === '0A') n++;
    } catch {
      // no IPv6
    }
  }
  return n;
}

/** Events the collector stored since `since` (ISO time), counted by type. */
async function eventTypesSince(url: string, since: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let cursor: string | null = null;
  for (let page = 0; page < 50; page++) {
    const q = `${url}/v1/events?limit=1000&since=${encodeURIComponent(since)}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const body = (await getJson(q)) as { items?: { type: string }[]; nextCursor?: string | null } | null;
    for (const e of body?.items ?? []) counts[e.type] = (counts[e.type] ?? 0) + 1;
    cursor = body?.nextCursor ?? null;
    if (!cursor) break;
  }
  return counts;
}

/** Anonymous and file-backed resident memory of `pid` (smaps_rollup), formatted. */
function memoryBreakdown(pid: number): string {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    return `${fmtMb(kb('Anonymous') * 1024)} / ${fmtMb((kb('Rss') - kb('Anonymous')) * 1024)}`;
  } catch {
    return 'n/a';
  }
}

/**
 * Resolves with the time the agent's spool first holds `needle` (fs.watch on the spool directory,
 * then a read of the newest segment's tail), or null after `timeoutMs`.
 */
function whenSpooled(spoolDir: string, needle: string, timeoutMs: number): { seen: Promise<number | null>; cancel: () => void } {
  let done: (t: number | null) => void = () => undefined;
  const seen = new Promise<number | null>((r) => (done = r));
  const look = (): boolean => {
    const segs = readdirSync(spoolDir).filter((f) => f.endsWith('.spool')).sort();
    const last = segs[segs.length - 1];
    if (!last) return false;
    const buf = readFileSync(path.join(spoolDir, last));
    return buf.subarray(Math.max(0, buf.length - 65_536)).includes(needle);
  };
  const watcher = fsWatch(spoolDir, () => {
    if (look()) finish(performance.now());
  });
  const timer = setTimeout(() => finish(null), timeoutMs);
  let finished = false;
  function finish(t: number | null): void {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    watcher.close();
    done(t);
  }
  return { seen, cancel: () => finish(null) };
}

/**
 * Config write → server.added stored at the collector (visible through the query API), split at
 * the moment the event is in the agent's spool (write → spooled: watcher, debounce, re-read, diff,
 * append; spooled → stored: batch, sign, send, ingest, the API's poll).
 */
export async function benchRunLatency(writes = envInt('BENCH_WRITES', 30), opts: RigOptions = { listeners: null }): Promise<BenchRow[]> {
  const rig = await startRunRig(opts);
  const file = path.join(rig.home, '.cursor', 'mcp.json');
  const spoolDir = path.join(rig.stateDir, 'spool');
  const latencies: number[] = [];
  const toSpool: number[] = [];
  const toStore: number[] = [];
  let missed = 0;
  const load0 = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  try {
    await sleep(2000);
    for (let i = 0; i < writes; i++) {
      const name = `run-bench-${i}`;
      const spooled = existsSync(spoolDir) ? whenSpooled(spoolDir, `"${name}"`, 10_000) : null;
      const t0 = performance.now();
      writeFileSync(file, JSON.stringify({ mcpServers: { [name]: { command: 'npx', args: ['-y', `bench-mcp-server@1.0.${i}`] } } }));
      let seen: number | null = null;
      while (performance.now() - t0 < 10_000 && seen === null) {
        const page = (await getJson(`${rig.url}/v1/events?type=server.added&limit=5`)) as { items?: { data: { name?: string } }[] } | null;
        if (page?.items?.some((e) => e.data.name === name)) seen = performance.now();
        else await sleep(20);
      }
      spooled?.cancel();
      const ts = spooled ? await spooled.seen : null;
      if (seen === null) missed++;
      else {
        latencies.push(seen - t0);
        if (ts !== null) {
          toSpool.push(ts - t0);
          toStore.push(seen - ts);
        }
      }
      await sleep(300);
    }
  } finally {
    await rig.stop();
  }
  const load1 = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  const note = `${latencies.length} writes${missed ? `, ${missed} missed (10 s timeout)` : ''}; debounce ${DEFAULT_DEBOUNCE_MS} ms, batch sent at once when idle (else ≤ 100 ms wait), API polled every 20 ms; load ${load0} → ${load1}`;
  return [
    { what: 'config write → stored at collector (median)', value: fmtMs(median(latencies)), note },
    { what: 'config write → stored at collector (p95)', value: fmtMs(percentile(latencies, 95)), budget: '≤ 300 ms (p95)' },
    { what: '  of which write → in the spool (median / p95)', value: `${fmtMs(median(toSpool))} / ${fmtMs(percentile(toSpool, 95))}`, note: `${toSpool.length} writes seen in the spool (fs.watch on the spool directory)` },
    { what: '  of which spooled → stored (median / p95)', value: `${fmtMs(median(toStore))} / ${fmtMs(percentile(toStore, 95))}` },
  ];
}

/** The run-mode rows (called from agent-bench.ts). BENCH_RUN_PARTS=resources|latency runs one part. */
export async function runAgentRunBench(): Promise<BenchRow[]> {
  const parts = process.env.BENCH_RUN_PARTS ?? 'resources,latency';
  const rows: BenchRow[] = [];
  // BENCH_RUN_MCP: the numbers of listening MCP servers to measure the resources part with, one
  // window each (default 1 and 10: a laptop with one local HTTP MCP server, and issue 12's bench).
  const mcpCounts = (process.env.BENCH_RUN_MCP ?? '1,10').split(',').map(Number).filter((n) => Number.isInteger(n) && n >= 0);
  if (parts.includes('resources')) for (const mcp of mcpCounts) rows.push(...(await benchRunResources(undefined, { listeners: { mcp } })));
  if (parts.includes('latency')) rows.push(...(await benchRunLatency()));
  return rows;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { formatRows } = await import('./bench-stats.js');
  console.log(formatRows(`mcpwatch run-mode benchmark (${os.cpus().length} CPUs, node ${process.version})`, await runAgentRunBench()));
}
