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
 * Linux only (reads /proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type BenchRow, envInt, fmtMb, fmtMs, median, percentile, padProcesses, type ResourceWindow, sampleResourceWindow, sleep } from './bench-stats.js';
import { freePort, stopProcess, waitForOutput } from '@mcpwatch/testkit';
import { DEFAULT_DEBOUNCE_MS } from '@mcpwatch/agent';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const AGENT_BIN = path.join(REPO_ROOT, 'agent/bin/mcpwatch-agent.js');
/** The launcher npm links for `npx mcpwatch-agent` (its shebang carries the V8 flags). */
const AGENT_EXEC = path.join(REPO_ROOT, 'node_modules/.bin/mcpwatch-agent');
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
  agent: ChildProcess;
  stop: () => Promise<void>;
}

async function startRunRig(): Promise<RunRig> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'mcpw-run-bench-'));
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
  // NODE_OPTIONS as the service definitions set it: one process (no relaunch), the one measured.
  const agent = spawn(AGENT_EXEC, ['run', '--state-dir', stateDir, '--home', home, '--platform', 'linux', '--sources', 'configs,processes,sockets'], {
    env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-semi-space-size=2`.trim() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitForOutput(agent, 'running (endpoint', 60_000);
  return {
    url,
    home,
    agent,
    stop: async () => {
      await stopProcess(agent);
      await stopProcess(collector);
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
export async function startupAndSteady(pid: number, idlePid: number, seconds: number): Promise<{ startup: ResourceWindow; steady: ResourceWindow }> {
  await sleep(5000); // past the start scan, snapshot and first heartbeat
  const startup = await sampleResourceWindow(pid, idlePid, SETTLE_SECONDS - 5);
  const steady = await sampleResourceWindow(pid, idlePid, steadyWindowSeconds(seconds));
  return { startup, steady };
}

/** CPU and RSS of run mode, start-up and steady state, next to an idle node baseline over the same windows. */
export async function benchRunResources(seconds = envInt('BENCH_SECONDS', 120)): Promise<BenchRow[]> {
  const unpad = padProcesses(320);
  const rig = await startRunRig();
  const idle = spawn(process.execPath, ['-e', 'setInterval(()=>{},1000)'], { stdio: 'ignore' });
  try {
    const { startup, steady: w } = await startupAndSteady(rig.agent.pid as number, idle.pid as number, seconds);
    const note = `${w.elapsedS.toFixed(0)} s window from ${SETTLE_SECONDS} s after start, ${w.processes} processes, default intervals (poll 5 s, heartbeat 60 s)`;
    return [
      { what: 'run CPU, start-up (agent process)', value: startup.subjectCpu.self, note: `5 to ${SETTLE_SECONDS} s after start (first probes, JIT warm-up, post-start GCs); idle node ${startup.idleCpu}` },
      { what: 'run RSS, start-up (max)', value: fmtMb(Math.max(...startup.subjectRss)) },
      { what: 'run CPU, steady state (agent process)', value: w.subjectCpu.self, budget: '≤ 0.25 % of one core', note },
      { what: 'run CPU, steady state (agent + ps/netstat children)', value: w.subjectCpu.withChildren, note: 'same window' },
      { what: 'run RSS, steady state (median / max)', value: `${fmtMb(median(w.subjectRss))} / ${fmtMb(Math.max(...w.subjectRss))}`, budget: '≤ 72 MB' },
      { what: 'idle node baseline CPU (run window)', value: w.idleCpu },
      { what: 'idle node baseline RSS (run window, median)', value: fmtMb(median(w.idleRss)) },
    ];
  } finally {
    idle.kill('SIGKILL');
    await rig.stop();
    unpad();
  }
}

/** Config write → server.added stored at the collector (visible through the query API). */
export async function benchRunLatency(writes = envInt('BENCH_WRITES', 30)): Promise<BenchRow[]> {
  const rig = await startRunRig();
  const file = path.join(rig.home, '.cursor', 'mcp.json');
  const latencies: number[] = [];
  let missed = 0;
  try {
    await sleep(2000);
    for (let i = 0; i < writes; i++) {
      const name = `run-bench-${i}`;
      const t0 = performance.now();
      writeFileSync(file, JSON.stringify({ mcpServers: { [name]: { command: 'npx', args: ['-y', `bench-mcp-server@1.0.${i}`] } } }));
      let seen: number | null = null;
      while (performance.now() - t0 < 10_000 && seen === null) {
        const page = (await getJson(`${rig.url}/v1/events?type=server.added&limit=5`)) as { items?: { data: { name?: string } }[] } | null;
        if (page?.items?.some((e) => e.data.name === name)) seen = performance.now();
        else await sleep(20);
      }
      if (seen === null) missed++;
      else latencies.push(seen - t0);
      await sleep(300);
    }
  } finally {
    await rig.stop();
  }
  const note = `${latencies.length} writes${missed ? `, ${missed} missed (10 s timeout)` : ''}; debounce ${DEFAULT_DEBOUNCE_MS} ms, batch sent at once when idle (else ≤ 100 ms wait), API polled every 20 ms`;
  return [
    { what: 'config write → stored at collector (median)', value: fmtMs(median(latencies)), note },
    { what: 'config write → stored at collector (p95)', value: fmtMs(percentile(latencies, 95)), budget: '≤ 300 ms (p95)' },
  ];
}

/** The run-mode rows (called from agent-bench.ts). */
export async function runAgentRunBench(): Promise<BenchRow[]> {
  return [...(await benchRunResources()), ...(await benchRunLatency())];
}
