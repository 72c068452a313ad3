/**
 * PostgreSQL: leaves 30 % of each heap page of the current-inventory tables free (fillfactor 70),
 * so the projector's updates of their rows can be HOT (heap-only tuple) updates. The projector
 * rewrites these rows all the time without changing an indexed column: `last_seen` of every row an
 * agent reports again unchanged (each snapshot touches the whole inventory of its endpoint),
 * `present` / `removed_at` on removal. A full page makes each such update a new tuple elsewhere
 * plus a new entry in EVERY index of the table (servers: five); with room on the page it is one
 * tuple and no index entry. Measured (projection-capacity bench, PostgreSQL server CPU per projected
 * event): ~51 -> ~44 µs.
 *
 * Applies to pages written from now on; existing pages fill the space as PostgreSQL rewrites them
 * (VACUUM FULL or CLUSTER reclaims it at once). `endpoints` and `findings` are left out: their
 * `last_seen` is indexed (findings since 0014), so their updates cannot be HOT anyway. SQLite has no such setting: nothing to do there.
 */
import { sql, type Kysely, type Migration } from 'kysely';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Tables the projector updates in place, and the fillfactor they get. */
const UPDATED_IN_PLACE = ['servers', 'clients', 'processes', 'sockets', 'config_errors', 'endpoint_users', 'endpoint_tools'] as const;
const FILLFACTOR = 70;

export const inventoryFillfactorMigration = (engine: 'sqlite' | 'postgres'): Migration => ({
  async up(db: AnyDb) {
    if (engine !== 'postgres') return;
    for (const table of UPDATED_IN_PLACE) await sql`alter table ${sql.table(table)} set (fillfactor = ${sql.raw(String(FILLFACTOR))})`.execute(db);
  },
});
