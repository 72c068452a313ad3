/**
 * Fleet queries on a seeded store, in-process (`node test/dist/bench/fleet-query-bench.js`, after
 * `npx tsc -b tsconfig.build.json`): the latency of the query path alone (the store's listServers,
 * serverEndpoints and listFindings, as GET /v1/servers?name=, /v1/servers/:fp/endpoints and
 * /v1/findings?severity=high call them), without HTTP and without ingest beside it.
 *
 * Seeding: the fleet bench:fleet builds (N endpoints, each 5..40 servers named srv-0..199 as
 * fleet-sim.ts's snapshots, a third of them with a high and a medium finding) is written straight
 * into the SQLite file with better-sqlite3, row for row as the projection writes them (the store's
 * own migrations made the schema; the seed is ~2 minutes at 100,000 endpoints where the HTTP path
 * takes ~30). SQLite only. Then the store is opened on that file and each query runs REPEATS times
 * (a name/fingerprint per round); reported: median, p95 and CPU µs per query of this process.
 *
 * Knobs (env): BENCH_QUERY_ENDPOINTS (100000), BENCH_QUERY_REPEATS (200), BENCH_QUERY_ALL (1: also
 * the unfiltered listing, GET /v1/servers, which groups every server row), BENCH_QUERY_DIR (keep
 * and reuse the seeded data directory there: a second run skips the seed; delete it to reseed).
 * BENCH_QUERY_HTTP=1: then the same queries over HTTP, the collector's bin (BENCH_QUERY_COLLECTOR_BIN:
 * another build of it, e.g. a baseline copy for an A/B) serving the seeded directory, one request
 * at a time: p50/p95 ms and the collector process's CPU per request (/proc). BENCH_QUERY_INPROC=0:
 * HTTP only (a baseline build's collector then migrates the directory itself, nothing newer does).
 * BENCH_QUERY_PORT=own: the HTTP queries go to the collector's query listener (MCPWATCH_QUERY_PORT:
 * its worker thread and read-only connection) instead of the main port. BENCH_QUERY_WRITES=R: while
 * the HTTP queries run, a worker thread of this process commits R small write transactions a second
 * into the same file (each touches 7 endpoints and one server row, as the projection of a few
 * heartbeats does: ~7 x R row updates/s, the steady state of a 100,000-endpoint fleet at R = 250),
 * so every query's read transaction finds the database changed since the previous one, as it does
 * under ingest: SQLite then drops the reader's page cache. Each row is set to the value it holds, so
 * the seed is unchanged for the next run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { createStore } from '@mcpwatch/collector';
import { httpTransport, makeServerEntry } from '@mcpwatch/testkit';
import { collectorNodeFlags, envInt, median, percentile, readCpu } from './bench-stats.js';

const N = envInt('BENCH_QUERY_ENDPOINTS', 100_000);
const REPEATS = envInt('BENCH_QUERY_REPEATS', 200);

function seed(file: string): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const at = new Date().toISOString();
  const entries = Array.from({ length: 200 }, (_, k) => makeServerEntry(`srv-${k}`));
  const insEndpoint = db.prepare(
    `insert into endpoints (endpoint_id, hostname, platform, os_name, os_release, arch, hardware_uuid, agent_id, agent_version, first_seen, last_seen, last_heartbeat_at, health, last_snapshot_at, duplicate_of)
     values (?, ?, 'linux', 'Ubuntu', '22.04', 'x64', ?, null, '0.1.0', ?, ?, ?, null, ?, null)`,
  );
  const insServer = db.prepare(
    `insert into servers (endpoint_id, server_key, first_seen, last_seen, present, removed_at, data, fingerprint, name, client, scope, config_path, user_name, transport, command, url, package_ecosystem, package_name, package_version, package_pinned, disabled, effective)
     values (?, ?, ?, ?, 1, null, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 0, 'active')`,
  );
  const insFinding = db.prepare(
    `insert into findings (endpoint_id, finding_id, rule_id, severity, severity_rank, title, server_key, server_name, client, status, first_seen, last_seen, resolved_at, data)
     values (?, ?, 'secret-in-env', ?, ?, 'Secret in server environment', ?, ?, ?, 'open', ?, ?, null, ?)`,
  );
  const json = entries.map((s) => JSON.stringify(s));
  const tx = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const ep = `ep-${String(i).padStart(8, '0')}`;
      insEndpoint.run(ep, `sim-${i}`, `hw-${i}`, at, at, at, at);
      const n = 5 + (i % 36);
      const mine = new Set<number>();
      for (let k = 0; k < n; k++) mine.add((i * 7 + k) % 200);
      for (const k of mine) {
        const s = entries[k]!;
        insServer.run(ep, s.serverKey, at, at, json[k]!, s.fingerprint, s.name, s.client, s.scope, s.configPath, s.user ?? null, s.transport, s.command, s.url, s.package?.ecosystem ?? null, s.package?.name ?? null, s.package?.version ?? null);
      }
      if (i % 3 === 0) {
        [...mine].slice(0, 2).forEach((k, j) => {
          const s = entries[k]!;
          const sev = j === 0 ? 'high' : 'medium';
          const f = { id: `f-${j}-${s.serverKey}`.slice(0, 64), ruleId: 'secret-in-env', severity: sev, title: 'Secret in server environment', description: 'A token is configured in the environment of an MCP server.', subject: { serverKey: s.serverKey, serverName: s.name, client: s.client }, evidence: { field: 'env.GITHUB_TOKEN', kind: 'github-token' } };
          insFinding.run(ep, f.id, sev, j === 0 ? 3 : 2, s.serverKey, s.name, s.client, at, at, JSON.stringify(f));
        });
      }
    }
  });
  for (let i = 0; i < N; i += 2000) tx(i, Math.min(N, i + 2000));
  // No ANALYZE: the collector never runs it, and statistics change SQLite's plans (with them a
  // SELECT DISTINCT over an index skips ahead between distinct keys; without, it reads every entry).
  db.close();
}

function plans(file: string): void {
  const db = new Database(file, { readonly: true });
  const fp = makeServerEntry('srv-7').fingerprint;
  const show = (label: string, q: string, ...p: unknown[]): void => {
    const rows = db.prepare(`explain query plan ${q}`).all(...p) as Array<{ detail: string }>;
    console.log(`  ${label}: ${rows.map((r) => r.detail).join(' | ')}`);
  };
  console.log('query plans (SQLite):');
  const aggregates = db.prepare(`select 1 from sqlite_master where name = 'server_name_groups'`).get() !== undefined;
  if (aggregates) {
    show('servers by name (0018)', `select g.fingerprint, (select max(last_seen) from servers s where s.name = g.name and s.fingerprint = g.fingerprint and s.present = 1) from server_name_groups g where g.name = ? order by g.endpoints desc, g.fingerprint limit 11`, 'srv-7');
  } else {
    show('servers by name', `select fingerprint, count(distinct endpoint_id) from servers where present = 1 and name = ? group by fingerprint`, 'srv-7');
  }
  show('server endpoints', `select s.endpoint_id from servers s join endpoints e on e.endpoint_id = s.endpoint_id where s.fingerprint = ? and s.present = 1 order by s.endpoint_id, s.server_key limit 51`, fp);
  show('findings >= high', `select f.*, e.hostname from findings f join endpoints e on e.endpoint_id = f.endpoint_id where f.severity_rank >= 3 order by f.severity_rank desc, f.last_seen desc, f.endpoint_id, f.finding_id limit 51`);
  db.close();
}

async function main(): Promise<void> {
  const keep = process.env.BENCH_QUERY_DIR;
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'mcpwatch-fleetq-'));
  if (keep) mkdirSync(keep, { recursive: true });
  const file = join(dir, 'mcpwatch.sqlite');
  const seeded = existsSync(join(dir, '.seeded'));
  // The store's migrations make (or bring up to date) the schema (HTTP only: the collector's).
  if (!seeded || process.env.BENCH_QUERY_INPROC !== '0') await (await createStore({ dataDir: dir, project: false })).close();
  if (!seeded) {
    const t0 = Date.now();
    seed(file);
    rmSync(join(dir, '.seeded'), { force: true });
    (await import('node:fs')).writeFileSync(join(dir, '.seeded'), String(N));
    console.log(`seeded ${N} endpoints in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const fps = Array.from({ length: 200 }, (_, k) => makeServerEntry(`srv-${k}`).fingerprint);
  if (process.env.BENCH_QUERY_INPROC !== '0') await inProcess(dir, file, fps);
  if (process.env.BENCH_QUERY_HTTP === '1') await overHttp(dir, fps);
  if (!keep) rmSync(dir, { recursive: true, force: true });
}

async function inProcess(dir: string, file: string, fps: string[]): Promise<void> {
  plans(file);
  const store = await createStore({ dataDir: dir, project: false });
  const targets: Array<[string, (i: number) => Promise<unknown>]> = [
    ['servers?name=srv-X&limit=10', (i) => store.listServers({ name: `srv-${i % 200}`, limit: 10 })],
    ['servers/:fp/endpoints?limit=50', (i) => store.serverEndpoints(fps[i % 200]!, { limit: 50 })],
    ['findings?severity=high&limit=50', () => store.listFindings({ severity: 'high', limit: 50 })],
  ];
  // The whole fleet's listing groups every present server row (millions at 100,000 endpoints): seconds a query, so opt-in.
  if (process.env.BENCH_QUERY_ALL === '1') targets.push(['servers?limit=50 (whole fleet)', () => store.listServers({ limit: 50 })]);
  console.log(`load average: ${(await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').trim()}`);
  console.log('query                              median ms   p95 ms   CPU us/query');
  for (const [label, run] of targets) {
    for (let i = 0; i < 5; i++) await run(i);
    const ms: number[] = [];
    const c0 = process.cpuUsage();
    for (let i = 0; i < REPEATS; i++) {
      const t0 = performance.now();
      await run(i);
      ms.push(performance.now() - t0);
    }
    const c = process.cpuUsage(c0);
    console.log(`${label.padEnd(35)}${median(ms).toFixed(2).padStart(9)}${percentile(ms, 95).toFixed(2).padStart(9)}${((c.user + c.system) / REPEATS).toFixed(0).padStart(14)}`);
  }
  await store.close();
}

const ADMIN_TOKEN = 'fleet-query-bench-admin-token-0123456789';
const COLLECTOR_BIN = process.env.BENCH_QUERY_COLLECTOR_BIN
  ? resolve(process.env.BENCH_QUERY_COLLECTOR_BIN)
  : resolve(dirname(fileURLToPath(import.meta.url)), '../../../collector/bin/mcpwatch-collector.js');

function freePort(): Promise<number> {
  return new Promise((r) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => r(port));
    });
  });
}

function startCollector(dir: string, port: number, queryPort: number | null): Promise<ChildProcess> {
  return new Promise((resolveStart, reject) => {
    const child = spawn(process.execPath, [...collectorNodeFlags(COLLECTOR_BIN), COLLECTOR_BIN, '--data-dir', dir, '--listen', `127.0.0.1:${port}`, '--tls', 'off', '--log-level', 'warn'], {
      env: { ...process.env, MCPWATCH_ADMIN_TOKEN: ADMIN_TOKEN, ...(queryPort !== null ? { MCPWATCH_QUERY_PORT: String(queryPort) } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (/listening on/.test(out)) {
        child.stdout!.removeAllListeners('data').resume();
        child.stderr!.removeAllListeners('data').resume();
        resolveStart(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`collector exited ${code}: ${out.slice(-1000)}`)));
  });
}

/**
 * The write load of BENCH_QUERY_WRITES (see the header), in a worker thread with its own connection:
 * `perS` transactions a second, each re-setting 7 endpoints' last_heartbeat_at and one server row's
 * last_seen to the values they hold. Resolves with a stop function once the first has committed.
 */
async function startWriter(file: string, perS: number): Promise<() => Promise<number>> {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const Database = require(workerData.driver);
    const db = new Database(workerData.file);
    db.pragma('busy_timeout = 5000');
    db.pragma('synchronous = NORMAL');
    const ids = db.prepare('select endpoint_id from endpoints').pluck().all();
    const ep = db.prepare('select endpoint_id, last_heartbeat_at from endpoints where endpoint_id = ?');
    const touch = db.prepare('update endpoints set last_heartbeat_at = ? where endpoint_id = ?');
    const srv = db.prepare('select endpoint_id, server_key, last_seen from servers where endpoint_id = ? limit 1');
    const touchSrv = db.prepare('update servers set last_seen = ? where endpoint_id = ? and server_key = ?');
    const tx = db.transaction(() => {
      for (let k = 0; k < 7; k++) {
        const r = ep.get(ids[Math.floor(Math.random() * ids.length)]);
        touch.run(r.last_heartbeat_at, r.endpoint_id);
        if (k === 0) { const s = srv.get(r.endpoint_id); if (s) touchSrv.run(s.last_seen, s.endpoint_id, s.server_key); }
      }
    });
    let commits = 0, stop = false;
    parentPort.on('message', () => { stop = true; });
    const period = 1000 / workerData.perS;
    const start = performance.now();
    const step = () => {
      if (stop) { db.close(); parentPort.postMessage({ commits }); return; }
      tx.immediate(); commits++; // BEGIN IMMEDIATE: a deferred one that read first gets SQLITE_BUSY at its write if the collector wrote meanwhile
      if (commits === 1) parentPort.postMessage({ started: true });
      setTimeout(step, Math.max(0, start + commits * period - performance.now()));
    };
    step();`;
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const w = new Worker(source, { eval: true, workerData: { file, perS, driver } });
  // A writer that dies (e.g. SQLITE_BUSY past its timeout) fails the run instead of leaving stop()
  // waiting for an answer that never comes.
  const died = new Promise<never>((_, j) => {
    w.once('error', j);
    w.once('exit', (code) => j(new Error(`the writer thread exited (${code}) before it was stopped`)));
  });
  died.catch(() => undefined);
  await Promise.race([new Promise<void>((r) => w.once('message', () => r())), died]);
  return () =>
    Promise.race([
      new Promise<number>((r) => {
        w.on('message', (m: { commits?: number }) => m.commits !== undefined && r(m.commits));
        w.postMessage('stop');
      }),
      died,
    ]);
}

/** The three fleet questions over HTTP, one at a time, against the collector's bin on `dir`. */
async function overHttp(dir: string, fps: string[]): Promise<void> {
  const port = await freePort();
  const own = process.env.BENCH_QUERY_PORT === 'own';
  const queryPort = own ? await freePort() : null;
  const collector = await startCollector(dir, port, queryPort);
  const writesPerS = envInt('BENCH_QUERY_WRITES', 0);
  const stopWriter = writesPerS > 0 ? await startWriter(join(dir, 'mcpwatch.sqlite'), writesPerS) : null;
  const writeStart = performance.now();
  const api = httpTransport(`http://127.0.0.1:${queryPort ?? port}`, { maxSockets: 1 });
  const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const targets: Array<[string, (i: number) => string]> = [
    ['GET /v1/servers?name=srv-X&limit=10', (i) => `/v1/servers?name=srv-${i % 200}&limit=10`],
    ['GET /v1/servers/:fp/endpoints?limit=50', (i) => `/v1/servers/${fps[i % 200]}/endpoints?limit=50`],
    ['GET /v1/findings?severity=high&limit=50', () => '/v1/findings?severity=high&limit=50'],
  ];
  try {
    console.log(`HTTP (${COLLECTOR_BIN}, ${own ? 'query listener port' : 'main port'}${writesPerS > 0 ? `, ${writesPerS} write transactions/s beside it` : ''}), load average: ${(await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').trim()}`);
    console.log('request                                p50 ms   p95 ms   collector CPU ms/request');
    for (const [label, path] of targets) {
      for (let i = 0; i < 5; i++) await api({ method: 'GET', path: path(i), headers });
      const ms: number[] = [];
      const c0 = readCpu(collector.pid!);
      for (let i = 0; i < REPEATS; i++) {
        const t0 = performance.now();
        const r = await api({ method: 'GET', path: path(i), headers });
        ms.push(performance.now() - t0);
        if (r.status !== 200) throw new Error(`${path(i)}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
      }
      const c1 = readCpu(collector.pid!);
      const cpuMs = c0 && c1 ? ((c1.selfS - c0.selfS) * 1000) / REPEATS : NaN;
      console.log(`${label.padEnd(38)}${median(ms).toFixed(2).padStart(7)}${percentile(ms, 95).toFixed(2).padStart(9)}${cpuMs.toFixed(2).padStart(14)}`);
    }
    if (stopWriter) {
      const commits = await stopWriter();
      console.log(`write transactions committed beside the queries: ${commits} (${((commits * 1000) / (performance.now() - writeStart)).toFixed(0)}/s)`);
    }
  } finally {
    api.close();
    collector.kill('SIGTERM');
    await new Promise((r) => collector.once('exit', r));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
