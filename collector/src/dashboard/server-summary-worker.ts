/**
 * Worker thread of server-summary.ts on SQLite: opens the database file read-only (its own
 * connection; WAL lets it read while the collector writes), runs SUMMARY_SQL and posts the summary
 * back, then exits. Never writes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { FLEET_STALE_AFTER_HOURS, fleetCountsFromRows, fleetSql } from './dashboard-queries.js';
import { SUMMARY_SQL, summaryFromRows } from './server-summary.js';

const { file, nowMs } = workerData as { file: string; nowMs: number };
try {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const all = (q: string) => db.prepare(q).all() as Array<Record<string, unknown>>;
    const f = fleetSql(nowMs);
    const fleet = fleetCountsFromRows(all(f.counts), all(f.versions), all(f.open), all(f.overTime), FLEET_STALE_AFTER_HOURS);
    parentPort!.postMessage({ ok: true, summary: summaryFromRows(all(SUMMARY_SQL.groups), all(SUMMARY_SQL.names), all(SUMMARY_SQL.risks), fleet, nowMs) });
  } finally {
    db.close();
  }
} catch (e) {
  parentPort!.postMessage({ ok: false, error: (e as Error).message });
}
