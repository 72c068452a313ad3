/**
 * Aggregates for the dashboard's fleet overview that the query API does not answer (counts and
 * group-bys over the current inventory), read-only, on either engine. Each is one indexed or
 * bounded query: the overview stays within the 300 ms budget at 100,000 endpoints
 * (npm run bench:dashboard).
 */
import { sql, type Kysely } from 'kysely';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface FleetOverviewCounts {
  endpoints: { total: number; reporting: number; stale: number; staleAfterHours: number };
  agentVersions: Array<{ version: string; count: number }>;
  openFindingsBySeverity: Record<string, number>;
  /** Findings first seen per day (UTC) and severity, over the last `days` days. */
  findingsOverTime: Array<{ day: string; severity: string; count: number }>;
}

export async function fleetOverviewCounts(db: AnyDb, nowMs: number, opts: { staleAfterHours?: number; days?: number } = {}): Promise<FleetOverviewCounts> {
  const staleAfterHours = opts.staleAfterHours ?? 24;
  const staleBefore = new Date(nowMs - staleAfterHours * 3600_000).toISOString();
  const since = new Date(nowMs - (opts.days ?? 30) * 86400_000).toISOString();
  const [counts, versions, open, overTime] = await Promise.all([
    db
      .selectFrom('endpoints')
      .select([sql<number>`count(*)`.as('total'), sql<number>`sum(case when last_seen < ${staleBefore} then 1 else 0 end)`.as('stale')])
      .executeTakeFirst(),
    db
      .selectFrom('endpoints')
      .select([sql<string>`coalesce(agent_version, 'unknown')`.as('version'), sql<number>`count(*)`.as('count')])
      .groupBy(sql`coalesce(agent_version, 'unknown')`)
      .orderBy(sql`count(*)`, 'desc')
      .limit(20)
      .execute(),
    db.selectFrom('findings').select(['severity', sql<number>`count(*)`.as('count')]).where('status', '=', 'open').groupBy('severity').execute(),
    db
      .selectFrom('findings')
      .select([sql<string>`substr(first_seen, 1, 10)`.as('day'), 'severity', sql<number>`count(*)`.as('count')])
      .where('first_seen', '>=', since)
      .groupBy([sql`substr(first_seen, 1, 10)`, 'severity'])
      .orderBy(sql`substr(first_seen, 1, 10)`)
      .execute(),
  ]);
  const total = Number(counts?.total ?? 0);
  const stale = Number(counts?.stale ?? 0);
  return {
    endpoints: { total, reporting: total - stale, stale, staleAfterHours },
    agentVersions: versions.map((v) => ({ version: String(v.version), count: Number(v.count) })),
    openFindingsBySeverity: Object.fromEntries(open.map((o) => [String(o.severity), Number(o.count)])),
    findingsOverTime: overTime.map((o) => ({ day: String(o.day), severity: String(o.severity), count: Number(o.count) })),
  };
}
