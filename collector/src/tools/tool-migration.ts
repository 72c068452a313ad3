/**
 * The tool tables (issue 12), as a migration for store/migrations.ts (both engines):
 * `endpoint_tools` holds, per endpoint, the current tools of each MCP server the agent saw
 * (hashes, annotations, capabilities; description text only when the endpoint's policy shipped
 * it). A `tool.removed` clears `present`; the row stays for history ("first seen").
 */
import type { Kysely, Migration } from 'kysely';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const toolMigration = (): Migration => ({
  async up(db: AnyDb) {
    await db.schema
      .createTable('endpoint_tools')
      .ifNotExists()
      .addColumn('endpoint_id', 'text', (c) => c.notNull())
      .addColumn('server_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('server_key', 'text')
      .addColumn('server_name', 'text')
      .addColumn('server_version', 'text')
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('title', 'text')
      .addColumn('description_sha256', 'text')
      .addColumn('input_schema_sha256', 'text')
      .addColumn('annotations_sha256', 'text')
      .addColumn('instructions_sha256', 'text')
      .addColumn('annotations', 'text', (c) => c.notNull())
      .addColumn('capabilities', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('present', 'integer', (c) => c.notNull())
      .addColumn('first_seen', 'text', (c) => c.notNull())
      .addColumn('last_seen', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('endpoint_tools_pk', ['endpoint_id', 'server_id', 'name'])
      .execute();
    await db.schema.createIndex('endpoint_tools_name').ifNotExists().on('endpoint_tools').columns(['name', 'present']).execute();
    await db.schema.createIndex('endpoint_tools_server').ifNotExists().on('endpoint_tools').columns(['server_id', 'server_version', 'name']).execute();
  },
});
