/**
 * `npm run bench:dashboard`: the dashboard's API time per page with BENCH_ENDPOINTS endpoints in
 * the store (default 100,000; SQLite in a temp dir, or PostgreSQL with BENCH_DATABASE_URL).
 *
 * A generator writes the current-inventory rows directly (not timed): per endpoint its users, one
 * or two MCP clients, three configured servers drawn from BENCH_FINGERPRINTS (default 300) with a
 * skewed prevalence (a few servers on most endpoints, a long tail), a finding on roughly 40 % of
 * them, two tools per configured server (endpoint_tools), a containment command on one endpoint in a
 * hundred, a few events and a tool call on one endpoint in ten. Then, through the collector's own app (buildApp + inject: routing,
 * session check, validation, serialisation included; no network), every call each dashboard page
 * makes is timed BENCH_RUNS times (default 30, after 3 warm-ups): the overview, the endpoints /
 * servers / findings lists (first page, a filter, the next page), "which endpoints run this" for
 * the most prevalent server, random endpoint drill-downs (with tools and containment), the tools
 * page (a filter, "which endpoints expose" the top tool) and the tool-calls page. Prints median and p95 per call and
 * checks the budget (DESIGN.md: p95 <= 300 ms per API call); exits 1 when a call is over it. Also
 * prints the cost of the background summary (servers by fingerprint + overview counts).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildApp, computeServerSummary, createStore, loadConfig } from '@mcpwatch/collector';
import { newEventId } from '@mcpwatch/shared';
import { makeServerEntry } from '@mcpwatch/testkit';
import type { Kysely } from 'kysely';
import { envInt, median, percentile } from './bench-stats.js';

const ENDPOINTS = envInt('BENCH_ENDPOINTS', 100_000);
const FINGERPRINTS = envInt('BENCH_FINGERPRINTS', 300);
const RUNS = envInt('BENCH_RUNS', 30);
const BUDGET_MS = 300;
const ADMIN = 'bench-admin-token-0123456789';
const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'];

/** A deterministic PRNG (mulberry32) so runs are comparable. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function insertChunked(db: AnyDb, table: string, rows: Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return;
  const perRow = Object.keys(rows[0]!).length;
  const chunk = Math.max(1, Math.floor(30_000 / perRow));
  for (let i = 0; i < rows.length; i += chunk) await db.insertInto(table).values(rows.slice(i, i + chunk)).execute();
}

async function generate(db: AnyDb, nowMs: number): Promise<{ endpointIds: string[]; topFingerprint: string }> {
  const rand = rng(42);
  const iso = (ms: number) => new Date(ms).toISOString();
  const servers = Array.from({ length: FINGERPRINTS }, (_, i) => makeServerEntry(`srv-${i}`, { package: { ecosystem: 'npm', name: `@bench/srv-${i}`, version: i % 3 === 0 ? null : '1.0.0', pinned: i % 3 !== 0, runner: 'npx' } as never }));
  // Skewed prevalence: index = floor(F * u^3) puts most picks on the first few servers.
  const pick = () => servers[Math.min(FINGERPRINTS - 1, Math.floor(FINGERPRINTS * rand() ** 3))]!;
  const endpointIds: string[] = [];
  const BATCH = 5000;
  for (let start = 0; start < ENDPOINTS; start += BATCH) {
    const eps: Record<string, unknown>[] = [];
    const users: Record<string, unknown>[] = [];
    const clients: Record<string, unknown>[] = [];
    const srvRows: Record<string, unknown>[] = [];
    const findings: Record<string, unknown>[] = [];
    const events: Record<string, unknown>[] = [];
    const tools: Record<string, unknown>[] = [];
    const commands: Record<string, unknown>[] = [];
    for (let i = start; i < Math.min(ENDPOINTS, start + BATCH); i++) {
      const id = `ep-${String(i).padStart(6, '0')}`;
      endpointIds.push(id);
      const seen = nowMs - Math.floor(rand() * 3 * 86400_000);
      const first = seen - 30 * 86400_000;
      const user = `user${i}`;
      eps.push({
        endpoint_id: id, hostname: `host-${String(i).padStart(6, '0')}`, platform: ['darwin', 'linux', 'win32'][i % 3], os_name: ['macOS', 'Ubuntu', 'Windows 11'][i % 3], os_release: '1.0', arch: 'x64',
        hardware_uuid: `hw-${i}`, agent_id: `ag-${i}`, agent_version: `0.1.${i % 4}`, first_seen: iso(first), last_seen: iso(seen), last_heartbeat_at: iso(seen), health: null, last_snapshot_at: iso(seen), duplicate_of: null,
      });
      users.push({ endpoint_id: id, user_name: user, first_seen: iso(first), last_seen: iso(seen), present: 1 });
      const clientIds = i % 2 === 0 ? ['claude-desktop', 'cursor'] : ['claude-code'];
      for (const c of clientIds) {
        clients.push({ endpoint_id: id, client_key: `${c}:${user}`, first_seen: iso(first), last_seen: iso(seen), present: 1, removed_at: null, data: JSON.stringify({ client: c, displayName: c, user, configPaths: [`/home/${user}/.${c}.json`], serverCount: 1 }), client: c, display_name: c, user_name: user, server_count: 1 });
      }
      const chosen = new Map<string, ReturnType<typeof makeServerEntry>>();
      while (chosen.size < 3) {
        const s = pick();
        chosen.set(s.fingerprint, s);
      }
      let k = 0;
      for (const s of chosen.values()) {
        const client = clientIds[k % clientIds.length]!;
        const serverKey = `${s.serverKey}-${i}-${k++}`;
        const entry = { ...s, client, user, serverKey, configPath: `/home/${user}/.${client}.json` };
        srvRows.push({
          endpoint_id: id, server_key: serverKey, first_seen: iso(first), last_seen: iso(seen), present: 1, removed_at: null, data: JSON.stringify(entry), fingerprint: s.fingerprint, name: s.name, client, scope: 'user', config_path: entry.configPath, user_name: user,
          transport: s.transport, command: s.command, url: s.url, package_ecosystem: 'npm', package_name: s.package?.name ?? null, package_version: s.package?.version ?? null, package_pinned: s.package?.pinned ? 1 : 0, disabled: 0,
        });
        // Its tools (two per server), as the tool projection stores them.
        for (const [t, name] of ['read', i % 7 === 0 ? 'run_command' : 'write'].entries()) {
          tools.push({
            endpoint_id: id, server_id: s.fingerprint, name: `${s.name}_${name}`, server_key: serverKey, server_name: s.name, server_version: '1.0.0', source: 'probe', title: null,
            description_sha256: (i % 50 === 0 ? 'b' : 'a').repeat(64), input_schema_sha256: 'c'.repeat(64), annotations_sha256: null, instructions_sha256: null,
            annotations: t === 0 ? '{"readOnlyHint":true}' : '{}', capabilities: name === 'run_command' ? ',shell-exec,' : name === 'write' ? ',file-write,' : ',,', description: null, present: 1, first_seen: iso(first), last_seen: iso(seen),
          });
        }
        // One endpoint in a hundred has a containment command for its first server (pending, confirmed or failed).
        if (k === 1 && i % 100 === 0) {
          const status = ['queued', 'succeeded', 'failed'][(i / 100) % 3]!;
          commands.push({
            command_id: `cmd_${String(i).padStart(8, '0')}`, endpoint_id: id, server_key: serverKey, action: 'quarantine', reason: 'bench', actor_token_id: 'bench', actor_name: 'bench', requested_at: iso(seen - 3600_000),
            expires_at: iso(nowMs + 86400_000), status, delivered_at: null, result_at: status === 'queued' ? null : iso(seen), result_detail: status === 'failed' ? 'permission: bench' : null, signed_command: '{}',
          });
        }
        if (rand() < 0.4 / 3 * 3 / 3 + 0.09) {
          const sev = Math.floor(rand() * 5);
          const fid = `f-${i}-${k}`;
          const raised = first + Math.floor(rand() * 30 * 86400_000);
          const f = { id: fid, ruleId: `rule-${sev}-${k}`, severity: SEVERITIES[sev], title: `bench finding ${sev}`, description: 'd', subject: { serverName: s.name, client, serverKey }, evidence: { field: 'env.TOKEN', kind: 'token' } };
          const open = rand() < 0.8;
          findings.push({ endpoint_id: id, finding_id: fid, rule_id: f.ruleId, severity: f.severity, severity_rank: sev, title: f.title, server_key: serverKey, server_name: s.name, client, status: open ? 'open' : 'resolved', first_seen: iso(raised), last_seen: iso(seen), resolved_at: open ? null : iso(seen), data: JSON.stringify(f) });
        }
      }
      if (i % 10 === 0) {
        for (let e = 0; e < 5; e++) {
          const at = seen - e * 60_000;
          const evId = `${at.toString(32).toUpperCase().padStart(10, '0')}${String(i).padStart(8, '0')}${String(e).padStart(8, '0')}`.slice(0, 26);
          events.push({ id: evId, endpoint_id: id, agent_id: `ag-${i}`, type: 'agent.heartbeat', time: iso(at), received_at: iso(at), batch_seq: e + 1, data: '{}' });
        }
        const callAt = seen - 30_000;
        events.push({
          id: newEventId(callAt), endpoint_id: id, agent_id: `ag-${i}`, type: 'tool.called', time: iso(callAt), received_at: iso(callAt), batch_seq: 6,
          data: JSON.stringify({ client: 'claude-code', user, phase: 'pre', server: 'srv-0', tool: 'srv-0_read', argumentNames: ['path'], decision: i % 20 === 0 ? 'deny' : 'allow', enforced: true, mode: 'enforce', rule: 'default', calledAt: iso(callAt) }),
        });
      }
    }
    await db.transaction().execute(async (trx) => {
      await insertChunked(trx, 'endpoints', eps);
      await insertChunked(trx, 'endpoint_users', users);
      await insertChunked(trx, 'clients', clients);
      await insertChunked(trx, 'servers', srvRows);
      await insertChunked(trx, 'findings', findings);
      await insertChunked(trx, 'events', events);
      await insertChunked(trx, 'endpoint_tools', tools);
      await insertChunked(trx, 'containment_commands', commands);
    });
  }
  return { endpointIds, topFingerprint: servers[0]!.fingerprint };
}

/**
 * Time to first meaningful paint per page in headless Chromium (when installed; BENCH_PAINT=0 skips):
 * from navigation start to the page's main content drawn (first table row, or the overview's
 * cards), signed in, BENCH_PAINT_RUNS loads per page (default 10). Reported, not budgeted.
 */
async function paintTimes(app: Awaited<ReturnType<typeof buildApp>>, endpointId: string): Promise<void> {
  const chromiumPath = process.env.BENCH_CHROMIUM ?? '/usr/bin/chromium';
  if (process.env.BENCH_PAINT === '0') return;
  if (!existsSync(chromiumPath)) {
    console.log(`paint times: SKIPPED (no Chromium at ${chromiumPath})`);
    return;
  }
  const { chromium } = await import('playwright-core');
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${base}/ui/login`);
    await page.getByLabel('API token').fill(ADMIN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Fleet overview' }).waitFor();
    const pages: Array<[string, string, string]> = [
      ['overview', '/ui/', '.card .big'],
      ['endpoints', '/ui/endpoints', 'table tbody tr td a'],
      ['servers', '/ui/servers', 'table tbody tr td button'],
      ['findings', '/ui/findings', 'table tbody tr td a'],
      ['endpoint', `/ui/endpoints/${endpointId}`, 'table tbody tr td'],
    ];
    const runs = envInt('BENCH_PAINT_RUNS', 10);
    console.log(`time to first meaningful paint (headless Chromium, ${runs} loads per page)   median ms    p95 ms`);
    for (const [name, path, selector] of pages) {
      const times: number[] = [];
      for (let r = 0; r < runs + 1; r++) {
        const t0 = performance.now();
        await page.goto(`${base}${path}`);
        await page.locator(selector).first().waitFor({ state: 'visible', timeout: 30_000 });
        if (r > 0) times.push(performance.now() - t0);
      }
      console.log(`  ${name.padEnd(72)}${median(times).toFixed(1).padStart(9)}  ${percentile(times, 95).toFixed(1).padStart(8)}`);
    }
  } finally {
    await browser.close();
  }
}

async function main(): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mcpw-dash-bench-'));
  const databaseUrl = process.env.BENCH_DATABASE_URL;
  const store = await createStore({ dataDir, ...(databaseUrl ? { databaseUrl, pgSchema: `bench_dash_${process.pid}` } : {}) });
  const db = (store as unknown as { db: AnyDb }).db;
  const engine = databaseUrl ? 'postgres' : 'sqlite';
  try {
    const nowMs = Date.now();
    const t0 = performance.now();
    const { endpointIds, topFingerprint } = await generate(db, nowMs);
    console.log(`dashboard bench: ${engine}, ${ENDPOINTS} endpoints (${FINGERPRINTS} distinct servers) generated in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${RUNS} runs per call`);

    // The servers summary is recomputed in the background (at most every 30 s), not per request: its cost.
    const summaryTimes: number[] = [];
    for (let r = 0; r < 3; r++) {
      const s = performance.now();
      await computeServerSummary(db, nowMs);
      summaryTimes.push(performance.now() - s);
    }
    console.log(`background server summary (servers grouped by fingerprint): median ${median(summaryTimes).toFixed(0)} ms per recompute, off the main thread (worker), refreshed when older than 20x its cost (at most 60 s)`);

    const config = loadConfig({ overrides: { dataDir, tls: 'off', adminToken: ADMIN, sinks: 'file' } });
    const app = await buildApp(config, { store, logger: false });
    await app.ready();
    try {
      const csrf = await app.inject({ url: '/ui/api/csrf' });
      const csrfCookie = String(csrf.headers['set-cookie']).split(';')[0];
      const signIn = await app.inject({ method: 'POST', url: '/ui/api/session', headers: { cookie: csrfCookie, 'x-csrf-token': csrf.json().csrfToken }, payload: { token: ADMIN } });
      const sessionCookie = ([] as string[]).concat(signIn.headers['set-cookie'] as string[]).find((c) => c.startsWith('mcpw_session='))!.split(';')[0];
      const get = async (url: string) => {
        const res = await app.inject({ url, headers: { cookie: sessionCookie } });
        if (res.statusCode !== 200) throw new Error(`${url}: HTTP ${res.statusCode} ${res.body.slice(0, 200)}`);
        return res.json();
      };
      const next = async (url: string) => `${url}${url.includes('?') ? '&' : '?'}cursor=${encodeURIComponent((await get(url)).nextCursor)}`;
      const rand = rng(7);
      const anyEndpoint = () => endpointIds[Math.floor(rand() * endpointIds.length)]!;
      const calls: Array<[page: string, call: string, url: () => string]> = [];
      const add = (page: string, call: string, url: string | (() => string)) => calls.push([page, call, typeof url === 'string' ? () => url : url]);
      add('overview', 'GET /ui/api/overview', '/ui/api/overview');
      add('endpoints', 'first page', '/ui/api/endpoints');
      add('endpoints', 'filter hostname', () => `/ui/api/endpoints?hostname=${encodeURIComponent(`host-0${Math.floor(rand() * 9)}${Math.floor(rand() * 10)}`)}`);
      add('endpoints', 'filter client', '/ui/api/endpoints?client=cursor');
      add('endpoints', 'next page', await next('/ui/api/endpoints'));
      add('servers', 'first page', '/ui/api/servers');
      add('servers', 'filter name', '/ui/api/servers?name=srv-7');
      add('servers', 'filter risk=high', '/ui/api/servers?risk=high');
      add('servers', 'next page', await next('/ui/api/servers'));
      add('servers', 'who runs the top server', `/ui/api/servers/${encodeURIComponent(topFingerprint)}/endpoints`);
      add('findings', 'first page (open, the default)', '/ui/api/findings?status=open');
      add('findings', 'filter severity=high', '/ui/api/findings?severity=high&status=open');
      add('findings', 'next page', await next('/ui/api/findings?status=open'));
      add('findings', 'resolved, first page', '/ui/api/findings?status=resolved');
      add('endpoint', 'drill-down (random endpoint)', () => `/ui/api/endpoints/${anyEndpoint()}`);
      add('endpoint', 'drill-down (an endpoint with a containment command)', () => `/ui/api/endpoints/ep-${String(Math.floor(rand() * (ENDPOINTS / 100)) * 100).padStart(6, '0')}`);
      add('tools', 'first page', '/ui/api/tools');
      add('tools', 'filter capability=shell-exec', '/ui/api/tools?capability=shell-exec');
      add('tools', 'which endpoints expose the top tool', '/ui/api/tools/srv-0_read/endpoints');
      add('tool calls', 'first page', '/ui/api/tool-calls');
      add('tool calls', 'next page', await next('/ui/api/tool-calls'));

      const rows: Array<{ page: string; call: string; median: number; p95: number; ok: boolean }> = [];
      for (const [page, call, url] of calls) {
        for (let w = 0; w < 3; w++) await get(url());
        const times: number[] = [];
        for (let r = 0; r < RUNS; r++) {
          const u = url();
          const s = performance.now();
          await get(u);
          times.push(performance.now() - s);
        }
        const p95 = percentile(times, 95);
        rows.push({ page, call, median: median(times), p95, ok: p95 <= BUDGET_MS });
      }
      const w = Math.max(...rows.map((r) => `${r.page}: ${r.call}`.length));
      console.log(`${'call'.padEnd(w)}  median ms    p95 ms  budget ${BUDGET_MS} ms`);
      for (const r of rows) console.log(`${`${r.page}: ${r.call}`.padEnd(w)}  ${r.median.toFixed(1).padStart(9)}  ${r.p95.toFixed(1).padStart(8)}  ${r.ok ? 'ok' : 'OVER'}`);
      const worst = rows.reduce((a, b) => (b.p95 > a.p95 ? b : a));
      console.log(`worst p95: ${worst.p95.toFixed(1)} ms (${worst.page}: ${worst.call}); ${rows.every((r) => r.ok) ? 'all within' : 'OVER'} the ${BUDGET_MS} ms budget`);
      await paintTimes(app, endpointIds[0]!);
      return rows.every((r) => r.ok) ? 0 : 1;
    } finally {
      await app.close();
    }
  } finally {
    await store.close();
    if (process.env.BENCH_KEEP_DATA === '1') console.log(`kept the generated store in ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(e);
    process.exitCode = 1;
  },
);
