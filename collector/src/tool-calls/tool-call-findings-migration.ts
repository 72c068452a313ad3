/**
 * The table behind the published tool-call findings (tool-call-findings.ts), as a migration for
 * store/migrations.ts (both engines): `tool_call_dirty` holds one row per endpoint whose projected
 * batches brought `tool.called` events since its analytics last ran (`marks` counts the batches,
 * so a run clears only what it saw).
 */
import type { Kysely, Migration } from 'kysely';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const toolCallFindingsMigration = (): Migration => ({
  async up(db: AnyDb) {
    await db.schema
      .createTable('tool_call_dirty')
      .ifNotExists()
      .addColumn('endpoint_id', 'text', (c) => c.primaryKey())
      .addColumn('marks', 'integer', (c) => c.notNull())
      .addColumn('marked_at', 'text', (c) => c.notNull())
      .execute();
  },
});
