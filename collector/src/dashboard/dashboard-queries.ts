/**
 * The fleet overview's counts (endpoints reporting / stale, agent versions, open findings by
 * severity, findings first seen per day) as plain SQL for both engines. They are computed with the
 * server summary (server-summary.ts: on a worker thread on SQLite) and served from memory, so the
 * overview stays within the 300 ms budget at 100,000 endpoints (npm run bench:dashboard).
 */

export const FLEET_STALE_AFTER_HOURS = 24;
const FLEET_DAYS = 30;

export interface FleetOverviewCounts {
  endpoints: { total: number; reporting: number; stale: number; staleAfterHours: number };
  agentVersions: Array<{ version: string; count: number }>;
  openFindingsBySeverity: Record<string, number>;
  /** Findings first seen per day (UTC) and severity, over the last 30 days. */
  findingsOverTime: Array<{ day: string; severity: string; count: number }>;
}

/** An ISO timestamp as an SQL literal (the value is generated here, never user input). */
function isoLiteral(ms: number): string {
  const iso = new Date(ms).toISOString();
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(iso)) throw new RangeError(`bad timestamp ${iso}`);
  return `'${iso}'`;
}

/** The four queries at `nowMs`. */
export function fleetSql(nowMs: number): { counts: string; versions: string; open: string; overTime: string } {
  const staleBefore = isoLiteral(nowMs - FLEET_STALE_AFTER_HOURS * 3600_000);
  const since = isoLiteral(nowMs - FLEET_DAYS * 86400_000);
  return {
    counts: `select count(*) as total, sum(case when last_seen < ${staleBefore} then 1 else 0 end) as stale from endpoints`,
    versions: `select coalesce(agent_version, 'unknown') as version, count(*) as count from endpoints group by coalesce(agent_version, 'unknown') order by count(*) desc limit 20`,
    open: `select severity, count(*) as count from findings where status = 'open' group by severity`,
    overTime: `select substr(first_seen, 1, 10) as day, severity, count(*) as count from findings where first_seen >= ${since} group by substr(first_seen, 1, 10), severity order by substr(first_seen, 1, 10)`,
  };
}

type Rows = Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function fleetCountsFromRows(counts: Rows, versions: Rows, open: Rows, overTime: Rows, staleAfterHours: number): FleetOverviewCounts {
  const total = Number(counts[0]?.total ?? 0);
  const stale = Number(counts[0]?.stale ?? 0);
  return {
    endpoints: { total, reporting: total - stale, stale, staleAfterHours },
    agentVersions: versions.map((v) => ({ version: String(v.version), count: Number(v.count) })),
    openFindingsBySeverity: Object.fromEntries(open.map((o) => [String(o.severity), Number(o.count)])),
    findingsOverTime: overTime.map((o) => ({ day: String(o.day), severity: String(o.severity), count: Number(o.count) })),
  };
}
