/**
 * The containment tables, as a migration for store/migrations.ts (both engines).
 *
 * `containment_commands` is both the audit trail and the delivery queue: one row per command
 * (who asked, when, why, for which endpoint and server), its signed form, and its result as the
 * agent reported it. Rows are never deleted by the collector (an audit trail), only updated as the
 * command moves queued -> delivered -> succeeded | failed | expired.
 */
import type { Kysely, Migration } from 'kysely';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const containmentMigration = (): Migration => ({
  async up(db: AnyDb) {
    await db.schema
      .createTable('containment_commands')
      .addColumn('command_id', 'text', (c) => c.primaryKey())
      .addColumn('endpoint_id', 'text', (c) => c.notNull())
      .addColumn('server_key', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('actor_token_id', 'text', (c) => c.notNull())
      .addColumn('actor_name', 'text', (c) => c.notNull())
      .addColumn('requested_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('delivered_at', 'text')
      .addColumn('result_at', 'text')
      .addColumn('result_detail', 'text')
      .addColumn('signed_command', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('containment_commands_endpoint').on('containment_commands').columns(['endpoint_id', 'status']).execute();
    await db.schema.createIndex('containment_commands_server').on('containment_commands').columns(['endpoint_id', 'server_key', 'requested_at']).execute();
    await db.schema.createIndex('containment_commands_status').on('containment_commands').columns(['status', 'expires_at']).execute();
  },
});

/**
 * `command_wait_marks` (migration 0009): per agent, the signed timestamp and seq of the latest
 * command wait accepted (POST /v1/commands/wait). A wait must be signed later than the mark (a
 * later timestamp, or the same timestamp with a higher seq), so a captured wait sent again — to
 * this collector or to another sharing the database — is refused. One row per agent: bounded by
 * the fleet, whatever the request rate.
 */
export const commandWaitMarksMigration = (): Migration => ({
  async up(db: AnyDb) {
    await db.schema
      .createTable('command_wait_marks')
      .ifNotExists()
      .addColumn('agent_id', 'text', (c) => c.primaryKey())
      .addColumn('signed_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .execute();
  },
});
