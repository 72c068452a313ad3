/**
 * `servers.effective` (issue 14), as a migration for store/migrations.ts (both engines): what is in
 * effect for each configured server as the agent decided it (active | disabled | blocked-by-policy
 * | shadowed | not-loaded), so the fleet can be filtered on it. Rows projected before this column
 * existed are backfilled from `disabled` (the only state older agents report).
 */
import { sql, type Kysely, type Migration } from 'kysely';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const serverEffectiveMigration = (): Migration => ({
  async up(db: AnyDb) {
    await db.schema.alterTable('servers').addColumn('effective', 'text').execute();
    await sql`UPDATE servers SET effective = CASE WHEN disabled = 1 THEN 'disabled' ELSE 'active' END`.execute(db);
    await db.schema.createIndex('servers_effective').ifNotExists().on('servers').columns(['effective', 'present']).execute();
  },
});
