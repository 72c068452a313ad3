/**
 * Tool probing section of `npm run bench:agent`: CPU per probe poll with 10 listening MCP servers
 * (the SDK-built tool-server of the agent's tests, 5 tools each, real child processes) and 10
 * non-MCP listeners (5 HTTP services answering 404, 5 raw TCP services speaking SSH-ish garbage),
 * probed through the agent's ListenerProber over the real listener table (listenerSource, as the
 * tool watcher reads it).
 *
 * Figures (median over BENCH_PROBE_POLLS polls, default 10; CPU of this process, user + system):
 *  - first-contact poll: all 20 listeners probed (maxProbesPerPoll 20);
 *  - steady poll: the 10 MCP listeners re-probed (the clock moved 60 s), non-MCP ones backed off;
 *  - baselines in the same run: one read of the platform socket source (systeminformation: what
 *    probe polls read before) and one of the listener table (what they read now), alone;
 *  - rug pull → tool-changed-without-version finding.raised at a real HTTP collector (testkit's
 *    FakeCollector, signatures verified), `mcpwatch-agent run` in-process, twice: at the agent's
 *    DEFAULT probe settings (toolReprobeMs 60 s, probePollMs 30 s: issue 12's "re-probed at least
 *    every 60 s"), BENCH_RUG_PULLS_DEFAULT times (default 1: each takes up to a minute), and with
 *    toolReprobeMs BENCH_REPROBE_MS (default 5000), BENCH_RUG_PULLS times (default 3); budget:
 *    one re-probe interval + 1 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeyPairSync } from 'node:crypto';
import { configDefaults, ListenerProber, listenerCandidates, listenerSource, main as agentMain, platformSources } from '@mcpwatch/agent';
import { enrolledStateDir, FakeCollector } from '@mcpwatch/testkit';
import { type BenchRow, fmtMs, median } from './bench-stats.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const TOOL_SERVER = path.join(REPO_ROOT, 'agent/tests/support/tool-server.mjs');

const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;

/** `n` SDK-built MCP tool servers (5 tools each) listening on loopback, as real child processes. */
export async function startToolServers(dir: string, n: number): Promise<{ children: ChildProcess[]; ports: number[] }> {
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const file = path.join(dir, `tools-${i}.json`);
    const tools = Array.from({ length: 5 }, (_, k) => ({ name: `tool_${k}`, description: `Tool ${k} of server ${i}: does a thing with its input.`, inputSchema: { type: 'object', properties: { input: { type: 'string' } } } }));
    writeFileSync(file, JSON.stringify({ name: `bench-${i}`, version: '1.0.0', tools }));
    const child = spawn(process.execPath, [TOOL_SERVER, file, '127.0.0.1', '0'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(child);
    ports.push(await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /\{"port":(\d+)\}/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`tool-server exited ${code}`)));
    }));
  }
  return { children, ports };
}

const listen = (srv: HttpServer | TcpServer): Promise<number> => new Promise((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as { port: number }).port)));

export async function runProbeBench(): Promise<BenchRow[]> {
  const polls = Math.max(1, Number(process.env.BENCH_PROBE_POLLS ?? 10));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcpw-probe-bench-'));
  const mcp = await startToolServers(dir, 10);
  const others: (HttpServer | TcpServer)[] = [];
  const otherPorts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const web = createHttpServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<html>not found</html>'));
    const raw = createTcpServer((s) => s.end('SSH-2.0-OpenSSH_9.6\r\n'));
    others.push(web, raw);
    otherPorts.push(await listen(web), await listen(raw));
  }
  const ours = new Set([...mcp.ports, ...otherPorts]);
  const source = platformSources().socketSource();
  // What the tool watcher reads at each poll: the listener table (/proc on Linux), falling back to the socket source.
  const table = listenerSource(source);
  const mcpPids = new Set(mcp.children.map((c) => c.pid!));
  const candidates = async () => {
    const socks = await table();
    if (!socks.ok) throw socks.error;
    return listenerCandidates(socks.rows.filter((r) => ours.has(r.localPort)), { mcpPids });
  };
  try {
    const baseline: number[] = [];
    const tableReads: number[] = [];
    await table(); // the first read walks every process for owners; later reads find them known
    const first: number[] = [];
    const steady: number[] = [];
    /** The same steady poll with keepSessions off (every re-probe a fresh session: initialize … DELETE), alternated with it. */
    const steadyFresh: number[] = [];
    let probedFirst = 0;
    let probedSteady = 0;
    let mcpFound = 0;
    for (let i = 0; i < polls; i++) {
      let c0 = process.cpuUsage();
      await source();
      baseline.push(cpuMs(process.cpuUsage(c0)));
      c0 = process.cpuUsage();
      await table();
      tableReads.push(cpuMs(process.cpuUsage(c0)));

      for (const keepSessions of i % 2 === 0 ? [true, false] : [false, true]) {
        let clock = Date.now();
        const prober = new ListenerProber({ maxProbesPerPoll: 20, keepSessions, now: () => clock });
        c0 = process.cpuUsage();
        const r1 = await prober.poll(await candidates());
        if (keepSessions) first.push(cpuMs(process.cpuUsage(c0)));
        probedFirst = r1.probes;
        mcpFound = r1.servers.length;
        clock += 60_000;
        c0 = process.cpuUsage();
        const r2 = await prober.poll(await candidates());
        (keepSessions ? steady : steadyFresh).push(cpuMs(process.cpuUsage(c0)));
        probedSteady = r2.probes;
        await prober.close();
      }
    }
    return [
      { what: 'probe poll, first contact (10 MCP + 10 non-MCP), CPU (median)', value: fmtMs(median(first)), note: `${probedFirst} probes, ${mcpFound} MCP found; ${polls} polls (the SDK's one-time import falls in poll 1 only)` },
      { what: 'probe poll, steady (10 MCP re-probed), CPU (median)', value: fmtMs(median(steady)), note: `${probedSteady} probes per poll, ${fmtMs(median(steady) / Math.max(1, probedSteady))} per re-probe (one tools/list on the kept session); default 4 per poll every 15 s` },
      { what: 'baseline: the same poll with keepSessions off, CPU (median)', value: fmtMs(median(steadyFresh)), note: `same run, alternated; ${fmtMs(median(steadyFresh) / Math.max(1, probedSteady))} per re-probe (initialize, initialized, tools/list, DELETE); ratio ${(median(steady) / Math.max(1e-9, median(steadyFresh))).toFixed(2)}` },
      { what: 'baseline: socket source read alone, CPU (median)', value: fmtMs(median(baseline)), note: 'same run; systeminformation (spawns ss), what probe polls read before' },
      { what: 'listener table read (what a probe poll reads now), CPU (median)', value: fmtMs(median(tableReads)), note: 'same run; /proc/net, owners already known' },
    ];
  } finally {
    for (const c of mcp.children) c.kill('SIGKILL');
    for (const s of others) s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Rug pulls at the default probe settings, then at a short re-probe interval (see the module comment). */
export async function runRugPullBench(): Promise<BenchRow[]> {
  const defaults = await rugPulls(null, Math.max(1, Number(process.env.BENCH_RUG_PULLS_DEFAULT ?? 1)));
  const fast = await rugPulls(Math.max(1000, Number(process.env.BENCH_REPROBE_MS ?? 5000)), Math.max(1, Number(process.env.BENCH_RUG_PULLS ?? 3)));
  return [...defaults, ...fast];
}

/**
 * Rug pull (same version, new description) → the finding at the collector, end to end.
 * `reprobeMs` null: the agent's defaults (nothing set); else toolReprobeMs, probe poll 15 s.
 */
async function rugPulls(reprobeSetting: number | null, pulls: number): Promise<BenchRow[]> {
  const reprobeMs = reprobeSetting ?? configDefaults().toolReprobeMs;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcpw-rug-bench-'));
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const collector = new FakeCollector(new Map([['ag_rug', publicKey]]));
  await collector.listen();
  const file = path.join(dir, 'tools.json');
  const spec = (i: number) => ({ name: 'rug', version: '1.0.0', tools: [{ name: 'add', description: `Adds two numbers (${i}).`, inputSchema: { type: 'object' } }] });
  writeFileSync(file, JSON.stringify(spec(0)));
  const child = spawn(process.execPath, [TOOL_SERVER, file, '127.0.0.1', '0'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const port = await new Promise<number>((resolve) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /\{"port":(\d+)\}/.exec(out);
      if (m) resolve(Number(m[1]));
    });
  });
  const stateDir = enrolledStateDir({ agentId: 'ag_rug', endpointId: 'ep_rug', server: collector.url, privateKey, settings: {}, prefix: 'mcpw-rug-' });
  const home = path.join(dir, 'home');
  mkdirSync(path.join(home, '.cursor'), { recursive: true });
  writeFileSync(path.join(home, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: { rug: { url: `http://127.0.0.1:${port}/mcp` } } }));
  const ctl = new AbortController();
  const env = {
    HOME: home, MCPWATCH_BATCH_MAX_WAIT_MS: '20', MCPWATCH_RECONNECT_JITTER_MS: '0', MCPWATCH_LOW_PRIORITY: 'false', MCPWATCH_RETRY_BASE_MS: '50',
    ...(reprobeSetting === null ? {} : { MCPWATCH_PROBE_OTHER_LISTENERS: 'false', MCPWATCH_TOOL_REPROBE_MS: String(reprobeSetting), MCPWATCH_PROBE_POLL_MS: '15000' }),
  };
  const running = agentMain(['run', '--state-dir', stateDir, '--home', home, '--platform', 'linux', '--sources', 'configs,processes,sockets', '--debounce-ms', '20'], { stdout: () => undefined, stderr: () => undefined, env, signal: ctl.signal });
  const findingCount = () => collector.events().filter((e) => e.type === 'finding.raised' && (e.data as { ruleId?: string }).ruleId === 'tool-changed-without-version').length
    + collector.events().filter((e) => e.type === 'finding.resolved' && (e.data as { ruleId?: string }).ruleId === 'tool-changed-without-version').length;
  const until = async (cond: () => boolean, ms: number) => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('rug pull bench: timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const latencies: number[] = [];
  try {
    await until(() => collector.events().some((e) => e.type === 'tool.added'), 60_000);
    for (let i = 1; i <= pulls; i++) {
      const before = findingCount();
      // A rug pull raises the finding; restoring the pinned text resolves it before the next pull.
      const t0 = Date.now();
      writeFileSync(file, JSON.stringify(spec(i)));
      await until(() => findingCount() > before, reprobeMs * 3 + 30_000);
      latencies.push(Date.now() - t0);
      if (i === pulls) break; // the last one need not be resolved
      writeFileSync(file, JSON.stringify(spec(0)));
      const mid = findingCount();
      await until(() => findingCount() > mid, reprobeMs * 3 + 30_000);
    }
  } finally {
    ctl.abort();
    await running;
    child.kill('SIGKILL');
    await collector.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const label = reprobeSetting === null ? 'defaults' : `toolReprobeMs ${reprobeMs}`;
  const note = reprobeSetting === null
    ? `agent defaults: toolReprobeMs ${reprobeMs}, probePollMs ${configDefaults().probePollMs}, other listeners probed; ${latencies.length} pull(s)`
    : `toolReprobeMs ${reprobeMs}, probe poll 15 s, other listeners off; ${latencies.length} pulls`;
  return [
    { what: `rug pull → finding.raised at the collector, ${label} (median)`, value: fmtMs(median(latencies)), budget: `≤ ${reprobeMs + 1000} ms (re-probe + 1 s)`, note },
    { what: `rug pull → finding.raised at the collector, ${label} (max)`, value: fmtMs(Math.max(...latencies)) },
  ];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { formatRows } = await import('./bench-stats.js');
  console.log(formatRows(`mcpwatch probe benchmark (${os.cpus().length} CPUs, node ${process.version})`, [...(await runProbeBench()), ...(await runRugPullBench())]));
}
