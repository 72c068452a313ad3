/**
 * `npm run bench:fleet`: a simulated fleet against one real collector process (SQLite), in the
 * manner of osquery-perf for Fleet. N endpoints (default 100,000) are simulated by a few worker
 * processes, with real enrollment (CSR, certificate), real signatures and real gzipped batches:
 *
 *   1. enrollment wave: every endpoint enrolls (bounded concurrency per worker);
 *   2. a snapshot per endpoint (5–40 servers, findings on some, processes), like an agent's start;
 *   3. the measured phase (--duration s): heartbeats every 60 s of simulated time (time compressed
 *      by --compress, printed), config changes as a Poisson process (--changes-per-hour per endpoint,
 *      simulated time), fleet queries (who runs server X, findings by severity) all along, and an
 *      outage of the collector (killed at --outage-at of the phase, restarted --outage-s later)
 *      followed by the reconnect storm: agents keep what they could not send and resend it.
 *
 * Shared key material: every simulated agent uses one of two pooled RSA key pairs (testkit
 * pooledKeyPair; no keygen per endpoint); the collector is started with enrollMaxAgentsPerKey high
 * so it allows that. Everything else (agent id, certificate, chain, signatures) is per endpoint.
 *
 * Prints a table and writes the same figures as JSON (--json FILE): accepted batches/s, heartbeat
 * latency p50/p99, projection lag p50/p95/max (sampled from /readyz each second), fleet query p95,
 * reconnect-storm drain time, collector CPU and RSS, database bytes per endpoint.
 *
 * Options: --endpoints N (100000) --workers W (2) --duration S (120) --compress F (1)
 * --changes-per-hour R (0.5) --outage-at FRACTION (0.4) --outage-s S (10) --json FILE.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeEvent, type McpEvent } from '@mcpwatch/shared';
import { httpTransport, makeHost, makeServerEntry, pooledKeyPair, TestAgent, type Transport } from '@mcpwatch/testkit';
import { percentile, readCpu } from './bench-stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const COLLECTOR_BIN = resolve(here, '../../../collector/bin/mcpwatch-collector.js');
const ENROLL_SECRET = 'fleet-sim-enroll-secret-0123456789';
const ADMIN_TOKEN = 'fleet-sim-admin-token-0123456789';

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

async function runWorker(init: WorkerInit): Promise<void> {
  const send = (m: unknown): void => void process.send!(m);
  const transport = httpTransport(init.url, { maxSockets: 64 });
  const agents: TestAgent[] = [];
  // 1. enrollment wave
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < init.count) {
        const i = init.first + next++;
        for (;;) {
          try {
            agents.push(await TestAgent.enroll(transport, { enrollSecret: ENROLL_SECRET, keys: pooledKeyPair(i % 2), host: { hostname: `sim-${i}`, hardwareUuid: `sim-hw-${i}-${process.pid}` } }));
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
  await new Promise<void>((r) => process.once('message', () => r()));

  // 3. measured phase: per endpoint, heartbeats every 60 s / compress and Poisson config changes.
  const periodMs = 60_000 / init.compress;
  const changeRatePerMs = (init.changesPerHour / 3_600_000) * init.compress;
  const latencies: number[] = [];
  let accepted = 0;
  let failed = 0;
  const backlog = new Map<TestAgent, McpEvent[][]>();
  let drainedAt: number | null = null;
  let outageSeen = false;
  const end = Date.now() + init.durationS * 1000;
  const sendFor = async (a: TestAgent, events: McpEvent[], heartbeat: boolean): Promise<void> => {
    const queue = backlog.get(a);
    if (queue) {
      queue.push(events);
      return;
    }
    const t0 = performance.now();
    const res = await a.sendEvents(events).catch(() => ({ status: 0 }));
    if (res.status === 200) {
      accepted++;
      if (heartbeat) latencies.push(performance.now() - t0);
    } else {
      failed++;
      outageSeen = true;
      drainedAt = null;
      backlog.set(a, [events]);
    }
  };
  // The reconnect storm: agents with a backlog retry every 1–3 s (jittered) until it is sent.
  const retry = (async () => {
    while (Date.now() < end + 60_000) {
      for (const [a, queue] of [...backlog]) {
        let ok = true;
        while (queue.length > 0 && ok) {
          const res = await a.sendEvents(queue[0]!).catch(() => ({ status: 0 }));
          ok = res.status === 200;
          if (ok) {
            accepted++;
            queue.shift();
          }
        }
        if (queue.length === 0) backlog.delete(a);
      }
      if (outageSeen && backlog.size === 0 && drainedAt === null) {
        drainedAt = Date.now();
        send({ kind: 'drained', at: drainedAt });
      }
      if (Date.now() >= end && backlog.size === 0) break;
      await sleep(1000 + Math.random() * 2000);
    }
  })();
  await Promise.all(
    agents.map(async (a, k) => {
      await sleep((k / agents.length) * periodMs);
      let nextChange = Date.now() + -Math.log(1 - Math.random()) / Math.max(1e-12, changeRatePerMs);
      while (Date.now() < end) {
        const now = Date.now();
        if (now >= nextChange) {
          await sendFor(a, [makeEvent('server.added', a.endpointId, makeServerEntry(`changed-${k}-${now}`))], false);
          nextChange = now + -Math.log(1 - Math.random()) / Math.max(1e-12, changeRatePerMs);
        }
        await sendFor(a, [makeEvent('agent.heartbeat', a.endpointId, { version: '0.1.0', uptimeS: 1, cpuPercent: 0.1, rssBytes: 50_000_000, spoolBytes: 0, spoolDepth: 0, droppedCount: 0, lastError: null, intervalsMs: { process: 5000 }, throttled: false } as never)], true);
        await sleep(periodMs);
      }
    }),
  );
  await retry;
  transport.close();
  // Exit only once the message is out (process.exit right after send can drop it).
  process.send!({ kind: 'stats', latencies, accepted, failed }, () => process.exit(0));
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

function startCollector(dataDir: string, port: number): Promise<ChildProcess> {
  return new Promise((resolveStart, reject) => {
    const child = spawn(process.execPath, [COLLECTOR_BIN, '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--tls', 'off', '--log-level', 'warn'], {
      env: {
        ...process.env,
        MCPWATCH_ENROLL_SECRET: `fleet:${ENROLL_SECRET}`,
        MCPWATCH_ADMIN_TOKEN: ADMIN_TOKEN,
        MCPWATCH_RATE_LIMIT_PER_AGENT_PER_S: '1000',
        MCPWATCH_RATE_LIMIT_BURST: '1000',
        MCPWATCH_ENROLL_MAX_AGENTS_PER_KEY: '1000000',
        MCPWATCH_ENROLL_LIMIT_PER_SECRET: '100000000',
        MCPWATCH_ENROLL_LIMIT_GLOBAL: '100000000',
        MCPWATCH_TIMESTAMP_WINDOW_S: '3600',
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

function rssBytes(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
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
  const dataDir = mkdtempSync(join(tmpdir(), 'mcpw-fleet-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  process.stderr.write(`fleet: ${endpoints} endpoints in ${workers} worker processes; heartbeat every 60 s of simulated time, time compressed x${compress} (a heartbeat every ${(60 / compress).toFixed(1)} s real); ${durationS} s measured; outage at ${Math.round(outageAt * 100)}% for ${outageS} s\n`);
  let collector = await startCollector(dataDir, port);
  const api: Transport & { close(): void } = httpTransport(url, { maxSockets: 4 });
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const kids = Array.from({ length: workers }, (_, w) => {
    const first = Math.floor((endpoints * w) / workers);
    const count = Math.floor((endpoints * (w + 1)) / workers) - first;
    return fork(fileURLToPath(import.meta.url), ['--worker', JSON.stringify({ url, first, count, compress, changesPerHour, durationS } satisfies WorkerInit)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  });
  const waitAll = (kind: string) => Promise.all(kids.map((k) => new Promise<Record<string, unknown>>((r) => k.on('message', (m: Record<string, unknown>) => m.kind === kind && r(m)))));
  const t0 = Date.now();
  await waitAll('enrolled');
  const enrollS = (Date.now() - t0) / 1000;
  process.stderr.write(`  enrolled in ${enrollS.toFixed(1)} s\n`);
  await waitAll('snapshotted');
  const snapS = (Date.now() - t0) / 1000 - enrollS;
  process.stderr.write(`  snapshots sent in ${snapS.toFixed(1)} s\n`);
  const drained = kids.map((k) => new Promise<number>((r) => k.on('message', (m: { kind: string; at: number }) => m.kind === 'drained' && r(m.at))));
  const stats = waitAll('stats');

  // The measured phase.
  const cpu0 = readCpu(collector.pid!);
  const phase0 = Date.now();
  for (const k of kids) k.send('go');
  const lags: number[] = [];
  const queries: number[] = [];
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
        rssMax = Math.max(rssMax, rssBytes(collector.pid!) ?? 0);
      }
      await sleep(1000);
    }
  })();
  const querier = (async () => {
    for (let i = 0; Date.now() < phaseEnd; i++) {
      if (up) {
        const s = performance.now();
        const r = await api({ method: 'GET', path: i % 2 === 0 ? `/v1/servers?name=srv-${i % 200}&limit=10` : '/v1/findings?severity=high&limit=50', headers: auth }).catch(() => null);
        if (r?.status === 200) queries.push(performance.now() - s);
        if (i % 2 === 0 && r?.status === 200) {
          const fp = (r.json as { items: Array<{ fingerprint: string }> }).items[0]?.fingerprint;
          if (fp) {
            const s2 = performance.now();
            const r2 = await api({ method: 'GET', path: `/v1/servers/${fp}/endpoints?limit=50`, headers: auth }).catch(() => null);
            if (r2?.status === 200) queries.push(performance.now() - s2);
          }
        }
      }
      await sleep(200);
    }
  })();
  await sleep(outageAt * durationS * 1000);
  cpuBeforeOutage = (readCpu(collector.pid!)?.selfS ?? 0) - (cpu0?.selfS ?? 0);
  up = false;
  collector.kill('SIGKILL');
  await new Promise((r) => collector.once('exit', r));
  await sleep(outageS * 1000);
  collector = await startCollector(dataDir, port);
  const cpu1 = readCpu(collector.pid!);
  restartAt = Date.now();
  up = true;
  await Promise.all([sampler, querier]);
  const drainedAts = await Promise.race([Promise.all(drained), sleep(300_000).then(() => null)]);
  // Workers finish their last sends first; on a loaded machine they run well behind the phase's end.
  const all = await Promise.race([stats, sleep(600_000).then(() => Promise.reject(new Error('workers did not report their figures within 600 s')))]);
  // Projection catches up after the run (its lag is measured above; this is the tail).
  for (const end = Date.now() + 300_000; Date.now() < end; await sleep(500)) {
    const r = await api({ method: 'GET', path: '/readyz', headers: {} }).catch(() => null);
    if ((r?.json as { projection?: { lagBatches: number } } | undefined)?.projection?.lagBatches === 0) break;
  }
  const cpuAfter = (readCpu(collector.pid!)?.selfS ?? 0) - (cpu1?.selfS ?? 0);
  const wallS = (Date.now() - phase0) / 1000;
  const latencies = all.flatMap((s) => s.latencies as number[]);
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
    acceptedBatchesPerS: accepted / wallS,
    heartbeatLatencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
    projectionLagS: { p50: percentile(lags, 50), p95: percentile(lags, 95), max: lags.length ? Math.max(...lags) : 0 },
    fleetQueryMs: { p95: percentile(queries, 95), count: queries.length },
    stormDrainS: drainedAts ? (Math.max(...drainedAts) - restartAt) / 1000 : null,
    collectorCpuS: cpuBeforeOutage + cpuAfter,
    collectorCpuPercentOfOneCore: ((cpuBeforeOutage + cpuAfter) / Math.max(1, wallS - outageS)) * 100,
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
      row('accepted batches/s (measured phase)', figures.acceptedBatchesPerS.toFixed(0)),
      row('heartbeat latency p50 / p99', `${figures.heartbeatLatencyMs.p50.toFixed(1)} / ${figures.heartbeatLatencyMs.p99.toFixed(1)} ms`),
      row('projection lag p50 / p95 / max', `${figures.projectionLagS.p50.toFixed(2)} / ${figures.projectionLagS.p95.toFixed(2)} / ${figures.projectionLagS.max.toFixed(2)} s`),
      row('fleet query p95', `${figures.fleetQueryMs.p95.toFixed(1)} ms (${queries.length} queries)`),
      row('reconnect storm drained in', figures.stormDrainS === null ? 'not within 300 s' : `${figures.stormDrainS.toFixed(1)} s`),
      row('collector CPU', `${figures.collectorCpuS.toFixed(1)} s (${figures.collectorCpuPercentOfOneCore.toFixed(0)}% of one core)`),
      row('collector RSS max', `${(rssMax / 1048576).toFixed(0)} MiB`),
      row('database bytes / endpoint', figures.databaseBytesPerEndpoint.toFixed(0)),
      `load average 1 min at the end: ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`,
      '',
    ].join('\n'),
  );
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify(figures, null, 2) + '\n');
  api.close();
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
