/**
 * `npm run bench:containment`: command issued → config changed on the endpoint (issue 16 budget:
 * p95 ≤ 2 s with default intervals), against the real collector (SQLite, loopback, plain HTTP)
 * and the real agent (`mcpwatch-agent run`, built bins) on a fixture home whose Cursor config
 * holds one server per sample.
 *
 * Each sample: POST /v1/admin/containment (quarantine) → the time until the agent has rewritten
 * the config file (polled every 5 ms), and the part of it until the collector handed the command
 * out (the audit record's deliveredAt: through the agent's held POST /v1/commands/wait, or a batch
 * ack). Samples are issued at a random point of the agent's heartbeat period, since commands also
 * ride in batch acks and an idle agent sends a batch only on a heartbeat or a change.
 *
 * Two phases in the same run: the agent at its default intervals (heartbeat 60 s;
 * BENCH_CONTAINMENT_SAMPLES, default 8, so this phase takes minutes) and, for comparison, the same
 * agent restarted with a 1 s heartbeat (BENCH_CONTAINMENT_FAST_SAMPLES, default 20), for
 * comparison with a batch going out every second. Linux and macOS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type BenchRow, envInt, fmtMs, formatRows, median, percentile, sleep } from './bench-stats.js';
import { freePort, stopProcess, waitForOutput } from '@mcpwatch/testkit';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const AGENT_BIN = path.join(REPO_ROOT, 'agent/bin/mcpwatch-agent.js');
const COLLECTOR_BIN = path.join(REPO_ROOT, 'collector/bin/mcpwatch-collector.js');
const ENROLL_SECRET = 'bench-enroll-secret-0002';
const ADMIN_TOKEN = 'bench-admin-token-000000002';
const DEFAULT_HEARTBEAT_MS = 60_000;

async function api<T>(base: string, method: 'GET' | 'POST', url: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function until<T>(what: string, f: () => T | Promise<T>, timeoutMs: number, everyMs = 5): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(everyMs);
  }
}

interface Sample {
  changedMs: number;
  deliveredMs: number;
}

interface Rig {
  base: string;
  endpointId: string;
  configFile: string;
  serverKeys: Map<string, string>;
  startAgent: (env: Record<string, string>) => Promise<ChildProcess>;
  close: () => Promise<void>;
}

async function rig(servers: number): Promise<Rig> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'mcpw-bench-contain-'));
  const home = path.join(tmp, 'home');
  const configFile = path.join(home, '.cursor', 'mcp.json');
  mkdirSync(path.dirname(configFile), { recursive: true });
  const entries = Array.from({ length: servers }, (_, i) => `    // server ${i}\n    "s${i}": { "command": "npx", "args": ["-y", "bench-server-${i}"] }`);
  writeFileSync(configFile, `{\n  "mcpServers": {\n${entries.join(',\n')}\n  }\n}\n`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { ...process.env, MCPWATCH_ENROLL_SECRET: ENROLL_SECRET, MCPWATCH_ADMIN_TOKEN: ADMIN_TOKEN, MCPWATCH_LOG_LEVEL: 'warn' };
  const collector = spawn(process.execPath, [COLLECTOR_BIN, '--data-dir', path.join(tmp, 'collector'), '--listen', `127.0.0.1:${port}`, '--tls', 'off'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForOutput(collector, 'listening on', 60_000);
  const stateDir = path.join(tmp, 'agent-state');
  const enroll = spawn(process.execPath, [AGENT_BIN, 'enroll', '--server', base, '--state-dir', stateDir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForOutput(enroll, 'enrolled with', 60_000);
  const { endpointId } = JSON.parse(readFileSync(path.join(stateDir, 'enrollment.json'), 'utf8')) as { endpointId: string };
  let agent: ChildProcess | null = null;
  const startAgent = async (extra: Record<string, string>): Promise<ChildProcess> => {
    if (agent) await stopProcess(agent);
    agent = spawn(process.execPath, [AGENT_BIN, 'run', '--state-dir', stateDir, '--home', home, '--platform', 'linux', '--sources', 'configs'], { env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    agent.stdout?.resume();
    agent.stderr?.resume();
    return agent;
  };
  await startAgent({});
  const serverKeys = new Map<string, string>();
  await until(
    'the servers in the collector inventory',
    async () => {
      const ep = await api<{ servers?: Array<{ name: string; serverKey: string }> }>(base, 'GET', `/v1/endpoints/${endpointId}`).catch(() => ({ servers: [] }));
      for (const s of ep.servers ?? []) serverKeys.set(s.name, s.serverKey);
      return serverKeys.size >= servers;
    },
    120_000,
    200,
  );
  return {
    base,
    endpointId,
    configFile,
    serverKeys,
    startAgent,
    close: async () => {
      if (agent) await stopProcess(agent);
      await stopProcess(collector);
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

async function quarantineOnce(r: Rig, name: string): Promise<Sample> {
  const serverKey = r.serverKeys.get(name)!;
  const marker = `"${name}":`;
  const t0 = performance.now();
  const wall0 = Date.now();
  const rec = await api<{ commandId: string }>(r.base, 'POST', '/v1/admin/containment', { endpointId: r.endpointId, serverKey, action: 'quarantine', reason: 'bench' });
  await until(`${name} out of the config`, () => !readFileSync(r.configFile, 'utf8').includes(marker), 10 * DEFAULT_HEARTBEAT_MS);
  const changedMs = performance.now() - t0;
  const audit = await api<{ items: Array<{ commandId: string; deliveredAt: string | null }> }>(r.base, 'GET', `/v1/admin/containment?endpoint=${r.endpointId}`);
  const delivered = audit.items.find((i) => i.commandId === rec.commandId)?.deliveredAt;
  return { changedMs, deliveredMs: delivered ? Date.parse(delivered) - wall0 : NaN };
}

function rows(label: string, samples: Sample[], budget: boolean): BenchRow[] {
  const changed = samples.map((s) => s.changedMs);
  const delivered = samples.map((s) => s.deliveredMs).filter(Number.isFinite);
  return [
    { what: `${label}: issued → config changed, p95`, value: fmtMs(percentile(changed, 95)), ...(budget ? { budget: '≤ 2000 ms' } : {}), note: `median ${fmtMs(median(changed))}, n=${changed.length}` },
    { what: `${label}: issued → handed out, p95`, value: fmtMs(percentile(delivered, 95)), note: `median ${fmtMs(median(delivered))} (collector clock, ms resolution)` },
  ];
}

export async function runContainmentBench(): Promise<BenchRow[]> {
  const slow = envInt('BENCH_CONTAINMENT_SAMPLES', 8);
  const fast = envInt('BENCH_CONTAINMENT_FAST_SAMPLES', 20);
  const r = await rig(slow + fast);
  try {
    const out: BenchRow[] = [];
    const defaults: Sample[] = [];
    for (let i = 0; i < slow; i++) {
      await sleep(Math.random() * DEFAULT_HEARTBEAT_MS);
      defaults.push(await quarantineOnce(r, `s${i}`));
    }
    out.push(...rows('default intervals (heartbeat 60 s)', defaults, true));
    await r.startAgent({ MCPWATCH_HEARTBEAT_MS: '1000' });
    await sleep(3000);
    const quick: Sample[] = [];
    for (let i = slow; i < slow + fast; i++) {
      await sleep(Math.random() * 1000);
      quick.push(await quarantineOnce(r, `s${i}`));
    }
    out.push(...rows('same agent, heartbeat 1 s (comparison)', quick, false));
    return out;
  } finally {
    await r.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  runContainmentBench().then(
    (r) => console.log(formatRows('bench:containment', r)),
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
