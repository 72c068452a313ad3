/**
 * 0013: the event index stops copying event JSON. An agent's event lives in the batch log (the
 * body as sent); its `events` row is the index the query API needs -- id, endpoint, type, time --
 * pointing at it: `log_id` (the batch_log row) and `pos` (its place in the body's events array),
 * with `data` NULL, and with no copy of what the log row holds (agent, seq, received time: NULL
 * too, read through log_id). Only the collector's own events (seq gaps, broken chains, the finding
 * transitions snapshots and the tool fleet cause), which no agent body holds, keep `data`.
 * Rows from before this migration keep their `data` and have no log reference.
 *
 * SQLite cannot drop a NOT NULL in place: the table is rebuilt (same name, columns, indexes).
 */
import { sql, type Kysely, type Migration } from 'kysely';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const eventIndexMigration = (engine: 'sqlite' | 'postgres'): Migration => ({
  async up(db: AnyDb) {
    if (engine === 'postgres') {
      for (const c of ['agent_id', 'received_at', 'batch_seq', 'data']) await sql`alter table events alter column ${sql.id(c)} drop not null`.execute(db);
      await db.schema.alterTable('events').addColumn('log_id', 'bigint').execute();
      await db.schema.alterTable('events').addColumn('pos', 'integer').execute();
      return;
    }
    await db.schema
      .createTable('events_v2')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('endpoint_id', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('time', 'text', (c) => c.notNull())
      .addColumn('log_id', 'integer')
      .addColumn('pos', 'integer')
      .addColumn('agent_id', 'text')
      .addColumn('received_at', 'text')
      .addColumn('batch_seq', 'integer')
      .addColumn('data', 'text')
      .modifyEnd(sql`without rowid`)
      .execute();
    await sql`insert into events_v2 (id, endpoint_id, agent_id, type, time, received_at, batch_seq, data)
      select id, endpoint_id, agent_id, type, time, received_at, batch_seq, data from events`.execute(db);
    await db.schema.dropTable('events').execute();
    await db.schema.alterTable('events_v2').renameTo('events').execute();
    await db.schema.createIndex('events_endpoint').on('events').columns(['endpoint_id', 'id']).execute();
    await db.schema.createIndex('events_type').on('events').columns(['type', 'id']).execute();
  },
});
