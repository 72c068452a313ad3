/**
 * Indexes for the fleet queries GET /v1/servers?name= (inventory-queries listServers) and its
 * maxSeverity, as a migration for store/migrations.ts. Measured on a store seeded with 100,000
 * endpoints of bench:fleet's fleet (test/src/bench/fleet-query-bench.ts: ~2.25 M server rows, ~11k
 * per name), SQLite, the three statements of one listServers(name) call:
 * - the grouping (count of distinct endpoints, max/min of the row columns per fingerprint) read
 *   every row of the name through servers_name: 135 ms. servers_name_cover holds every column it
 *   reads: an index-only scan, 4.5 ms. SQLite only: on PostgreSQL a B-tree entry is limited to
 *   ~2.7 kB (command and url may be 4 kB each) and an indexed last_seen would stop the HOT updates
 *   the projector's touches rely on (inventory-fillfactor-migration.ts). It replaces servers_name
 *   (the same two leading columns). Its price is on the projector's writes: every server row
 *   inserted or touched (last_seen of an unchanged server a snapshot repeats) rewrites an entry of
 *   it. Measured on the 100,000-endpoint store (raw better-sqlite3, touching whole endpoints'
 *   servers): ~6 -> ~27 µs CPU per touched row; with a snapshot every 6 h (the agent's default)
 *   that is ~0.2 % of a core at 100,000 endpoints, and ~45 s of CPU over the first snapshot wave's
 *   ~2.25 M rows. projection-capacity (testkit mix, same run, load 2.6-3.4): 14.2 -> 14.5 µs per
 *   projected event (17.2 -> 18.0 after restart). A per-fingerprint aggregate maintained by the
 *   projection (not built yet) would make both this index and the grouping unnecessary.
 * - the names and clients of the page's fingerprints read every row of each fingerprint through
 *   servers_fingerprint: 94 ms. servers_fingerprint_names (fingerprint, present, name, client)
 *   answers DISTINCT from the index alone, skipping ahead between distinct keys: < 0.1 ms.
 * - the highest open finding of each fingerprint probed findings by primary key (endpoint_id) and
 *   read each finding row: 31 ms. findings_server (endpoint_id, server_key, status, severity_rank)
 *   answers each probe from the index: 3.2 ms.
 */
import { sql, type Kysely, type Migration } from 'kysely';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const fleetQueryIndexesMigration = (engine: 'sqlite' | 'postgres'): Migration => ({
  async up(db: AnyDb) {
    await sql`create index if not exists servers_fingerprint_names on servers (fingerprint, present, name, client)`.execute(db);
    await sql`create index if not exists findings_server on findings (endpoint_id, server_key, status, severity_rank)`.execute(db);
    if (engine !== 'sqlite') return;
    await sql`create index if not exists servers_name_cover on servers (name, present, fingerprint, endpoint_id, first_seen, last_seen, transport, package_ecosystem, package_name, package_version, command, url)`.execute(db);
    await sql`drop index if exists servers_name`.execute(db);
  },
});
