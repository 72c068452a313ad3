/**
 * The fleet's MCP servers grouped by fingerprint (prevalence, names, clients, package, highest open
 * finding), computed in the background and served from memory, for the dashboard's servers page
 * and overview. Grouping every configured server in the fleet (300,000 rows at 100,000 endpoints)
 * takes longer than a page may (the 300 ms budget), and prevalence does not need to be live to the
 * second: the summary is recomputed when asked for and older than a limit that follows its cost
 * (see ServerSummaryCache.get), one computation at a time.
 *
 * Filters the summary answers: name (any name the server is configured under), package, transport,
 * client, and risk (highest open-finding severity on any of its entries at or above). Counts are
 * fleet-wide prevalence. Failure: a failed computation rejects the callers waiting for it; the
 * next call tries again.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { sql, type Kysely } from 'kysely';
import { SEVERITIES, type Severity } from '@mcpwatch/shared';
import type { ServerGroup } from '../store/types.js';
import { FLEET_STALE_AFTER_HOURS, fleetCountsFromRows, fleetSql, type FleetOverviewCounts } from './dashboard-queries.js';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One fingerprint's group: the same shape the store's listServers pages answer. */
export type ServerSummaryGroup = ServerGroup;

export interface ServerSummaryFilter {
  name?: string;
  package?: string;
  transport?: string;
  client?: string;
  risk?: Severity;
}

export interface ServerSummary {
  computedAt: string;
  groups: ServerSummaryGroup[];
  /** The fleet overview's counts, computed with the groups (dashboard-queries.ts). */
  fleet: FleetOverviewCounts;
}

/** The three queries of the summary, plain SQL for both engines (and the SQLite worker). */
export const SUMMARY_SQL = {
  groups: `select fingerprint, count(distinct endpoint_id) as endpoint_count, count(*) as entry_count, max(transport) as transport,
      max(command) as command, max(url) as url, max(package_ecosystem) as package_ecosystem, max(package_name) as package_name,
      max(package_version) as package_version, min(first_seen) as first_seen, max(last_seen) as last_seen
    from servers where present = 1 group by fingerprint`,
  names: `select distinct fingerprint, name, client from servers where present = 1`,
  risks: `select s.fingerprint as fingerprint, max(f.severity_rank) as rank from findings f
      join servers s on s.endpoint_id = f.endpoint_id and s.server_key = f.server_key
    where f.status = 'open' and s.present = 1 group by s.fingerprint`,
} as const;

type Rows = Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Builds the summary from the rows of SUMMARY_SQL (shared by the main thread and the worker). */
export function summaryFromRows(groups: Rows, names: Rows, risks: Rows, fleet: FleetOverviewCounts, nowMs: number): ServerSummary {
  const nameSets = new Map<string, { names: Set<string>; clients: Set<string> }>();
  for (const r of names) {
    const e = nameSets.get(r.fingerprint) ?? { names: new Set<string>(), clients: new Set<string>() };
    e.names.add(r.name);
    e.clients.add(r.client);
    nameSets.set(r.fingerprint, e);
  }
  const riskOf = new Map(risks.map((r) => [String(r.fingerprint), Number(r.rank)]));
  const out: ServerSummaryGroup[] = groups.map((g) => {
    const ns = nameSets.get(g.fingerprint);
    const rank = riskOf.get(g.fingerprint);
    return {
      fingerprint: g.fingerprint,
      names: [...(ns?.names ?? [])].sort(),
      transport: g.transport ?? 'unknown',
      command: g.command ?? null,
      url: g.url ?? null,
      packageEcosystem: g.package_ecosystem ?? null,
      packageName: g.package_name ?? null,
      packageVersion: g.package_version ?? null,
      endpointCount: Number(g.endpoint_count),
      entryCount: Number(g.entry_count),
      clients: [...(ns?.clients ?? [])].sort(),
      maxSeverity: rank === undefined ? null : (SEVERITIES[rank] ?? null),
      firstSeen: g.first_seen ?? '',
      lastSeen: g.last_seen ?? '',
    };
  });
  out.sort((a, b) => b.endpointCount - a.endpointCount || (a.fingerprint < b.fingerprint ? -1 : 1));
  return { computedAt: new Date(nowMs).toISOString(), groups: out, fleet };
}

/**
 * Computes the summary. On PostgreSQL the queries run on the server (the event loop is free). On
 * SQLite they would hold the main thread for about 2 s at 100,000 endpoints, so they run on a
 * worker thread with its own read-only connection to the same file (WAL: readers do not block the
 * writer); only when the worker's compiled file is absent (tests running the TypeScript sources)
 * do they run here.
 */
export async function computeServerSummary(db: AnyDb, nowMs: number): Promise<ServerSummary> {
  const sqliteFile = await sqliteFileOf(db);
  if (sqliteFile && existsSync(WORKER_FILE)) return computeInWorker(sqliteFile, nowMs);
  const run = async (text: string) => (await sql.raw(text).execute(db)).rows as Rows;
  const f = fleetSql(nowMs);
  const [groups, names, risks, counts, versions, open, overTime] = await Promise.all([
    run(SUMMARY_SQL.groups),
    run(SUMMARY_SQL.names),
    run(SUMMARY_SQL.risks),
    run(f.counts),
    run(f.versions),
    run(f.open),
    run(f.overTime),
  ]);
  return summaryFromRows(groups, names, risks, fleetCountsFromRows(counts, versions, open, overTime, FLEET_STALE_AFTER_HOURS), nowMs);
}

const WORKER_FILE = fileURLToPath(new URL('./server-summary-worker.js', import.meta.url));

/** The main database file when `db` is SQLite (pragma database_list), else null. */
async function sqliteFileOf(db: AnyDb): Promise<string | null> {
  try {
    const r = await sql<{ file: string }>`select file from pragma_database_list where name = 'main'`.execute(db);
    return r.rows[0]?.file || null;
  } catch {
    return null; // PostgreSQL: no such function
  }
}

function computeInWorker(file: string, nowMs: number): Promise<ServerSummary> {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER_FILE, { workerData: { file, nowMs } });
    w.unref();
    w.once('message', (m: { ok: true; summary: ServerSummary } | { ok: false; error: string }) => (m.ok ? resolve(m.summary) : reject(new Error(`server summary: ${m.error}`))));
    w.once('error', reject);
    w.once('exit', (code) => code !== 0 && reject(new Error(`server summary worker exited with ${code}`)));
  });
}

export class ServerSummaryCache {
  #summary: ServerSummary | undefined;
  #atMs = 0;
  #lastDurationMs = 0;
  #computing: Promise<ServerSummary> | undefined;

  constructor(
    private readonly db: AnyDb,
    private readonly now: () => number,
    private readonly maxAgeMs = 60_000,
  ) {}

  #compute(): Promise<ServerSummary> {
    // Ages and costs on the wall clock (performance, not the app's injectable domain clock).
    const started = Date.now();
    this.#computing ??= computeServerSummary(this.db, this.now())
      .then((s) => {
        this.#summary = s;
        this.#atMs = Date.now();
        this.#lastDurationMs = this.#atMs - started;
        return s;
      })
      .finally(() => {
        this.#computing = undefined;
      });
    return this.#computing;
  }

  /**
   * The summary. The first call computes it. Later, a summary older than its age limit is
   * recomputed: waited for when the last computation was quick (under 100 ms: a small fleet sees
   * changes at once), else served stale while the next one runs behind it. The age limit follows
   * the cost: 20 times the last computation, between 2 s and maxAgeMs (about 60 s at 100,000
   * endpoints, where one computation takes seconds of a worker thread).
   */
  async get(): Promise<ServerSummary> {
    if (!this.#summary) return this.#compute();
    const limit = Math.min(this.maxAgeMs, Math.max(2000, 20 * this.#lastDurationMs));
    if (Date.now() - this.#atMs <= limit) return this.#summary;
    if (this.#lastDurationMs < 100) return this.#compute();
    void this.#compute().catch(() => undefined);
    return this.#summary;
  }
}

/** The groups matching `f`, in prevalence order. */
export function filterGroups(groups: ServerSummaryGroup[], f: ServerSummaryFilter): ServerSummaryGroup[] {
  const minRank = f.risk ? SEVERITIES.indexOf(f.risk) : -1;
  return groups.filter(
    (g) =>
      (f.name === undefined || g.names.includes(f.name)) &&
      (f.package === undefined || g.packageName === f.package) &&
      (f.transport === undefined || g.transport === f.transport) &&
      (f.client === undefined || g.clients.includes(f.client)) &&
      (minRank < 0 || (g.maxSeverity !== null && SEVERITIES.indexOf(g.maxSeverity) >= minRank)),
  );
}
