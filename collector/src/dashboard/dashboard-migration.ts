/**
 * The dashboard's sign-in sessions, as a migration for store/migrations.ts (both engines). A
 * session row is keyed by the SHA-256 of the session id (the cookie value is never stored), names
 * the API token it was opened with (so revoking the token ends the session) and expires.
 */
import type { Kysely, Migration } from 'kysely';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const dashboardSessionsMigration = (): Migration => ({
  async up(db: AnyDb) {
    await db.schema
      .createTable('ui_sessions')
      .addColumn('session_hash', 'text', (c) => c.primaryKey())
      .addColumn('token_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('ui_sessions_expires').on('ui_sessions').column('expires_at').execute();
  },
});
