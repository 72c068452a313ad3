/**
 * The tool tables (issue 12), as a migration for store/migrations.ts (both engines):
 * `endpoint_tools` holds, per endpoint, the current tools of each MCP server the agent saw
 * (hashes, annotations, capabilities; description text only when the endpoint's policy shipped
 * it). A `tool.removed` clears `present`; the row stays for history ("first seen").
 */
import { sql, type Kysely, type Migration } from 'kysely';
import { addDelta, fleetGroupOf, parseGroup, variantOf } from './tool-fleet-divergence.js';

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

/**
 * The fleet divergence state (tool-fleet-divergence.ts): each endpoint_tools row's fleet group
 * and variant (and whether its socket server is gone), endpoints per (group, variant), each group's majority, and the endpoints whose
 * divergence finding is open; endpoints per tool definition for the fleet list (tool-summary.ts).
 * Existing rows are given their group and variant and counted; their
 * majorities are left unknown, so the next change of a group reconciles all of it.
 */
export const toolFleetMigration = (): Migration => ({
  async up(db: AnyDb) {
    await db.schema.alterTable('endpoint_tools').addColumn('fleet_group', 'text').execute();
    await db.schema.alterTable('endpoint_tools').addColumn('variant', 'text').execute();
    // 1 while the socket server of a probed tool is gone (tool-projection.ts listenerMoved).
    await db.schema.alterTable('endpoint_tools').addColumn('listener_gone', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.createIndex('endpoint_tools_fleet').on('endpoint_tools').columns(['fleet_group', 'variant', 'endpoint_id']).execute();
    await db.schema
      .createTable('tool_fleet_groups')
      .addColumn('fleet_group', 'text', (c) => c.primaryKey())
      .addColumn('server_id', 'text', (c) => c.notNull())
      .addColumn('server_version', 'text')
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('majority', 'text')
      .addColumn('endpoints', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('tool_fleet_groups_server').on('tool_fleet_groups').columns(['server_id', 'name']).execute();
    await db.schema
      .createTable('tool_fleet_variants')
      .addColumn('fleet_group', 'text', (c) => c.notNull())
      .addColumn('variant', 'text', (c) => c.notNull())
      .addColumn('endpoints', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('tool_fleet_variants_pk', ['fleet_group', 'variant'])
      .execute();
    await db.schema
      .createTable('tool_fleet_findings')
      .addColumn('fleet_group', 'text', (c) => c.notNull())
      .addColumn('endpoint_id', 'text', (c) => c.notNull())
      .addColumn('variant', 'text', (c) => c.notNull())
      .addColumn('majority', 'text', (c) => c.notNull())
      .addColumn('finding_id', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('raised_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('tool_fleet_findings_pk', ['fleet_group', 'endpoint_id'])
      .execute();
    // GET /v1/tools reads this (tool-summary.ts); "which endpoints expose X" walks the name index in endpoint order.
    await db.schema
      .createTable('tool_fleet_summary')
      .addColumn('server_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description_sha256', 'text', (c) => c.notNull())
      .addColumn('server_name', 'text')
      .addColumn('capabilities', 'text', (c) => c.notNull())
      .addColumn('endpoints', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('tool_fleet_summary_pk', ['server_id', 'name', 'description_sha256'])
      .execute();
    await sql`insert into tool_fleet_summary (server_id, name, description_sha256, server_name, capabilities, endpoints)
      select server_id, name, coalesce(description_sha256, ''), max(server_name), max(capabilities), count(*) from endpoint_tools where present = 1
      group by server_id, name, coalesce(description_sha256, '')`.execute(db);
    await db.schema.createIndex('endpoint_tools_name_endpoint').on('endpoint_tools').columns(['name', 'present', 'endpoint_id', 'server_id']).execute();
    await db.schema.createIndex('tool_fleet_findings_endpoint').on('tool_fleet_findings').columns(['endpoint_id', 'finding_id']).execute();
    // Backfill, a page at a time in key order.
    const counts = new Map<string, Map<string, number>>();
    let after: [string, string, string] | null = null;
    for (;;) {
      let q = db.selectFrom('endpoint_tools').select(['endpoint_id', 'server_id', 'name', 'server_name', 'server_version', 'description_sha256', 'input_schema_sha256', 'annotations_sha256', 'present']);
      if (after) {
        const [e, s, n] = after;
        q = q.where((eb) => eb.or([eb('endpoint_id', '>', e), eb.and([eb('endpoint_id', '=', e), eb.or([eb('server_id', '>', s), eb.and([eb('server_id', '=', s), eb('name', '>', n)])])])]));
      }
      const rows = await q.orderBy('endpoint_id').orderBy('server_id').orderBy('name').limit(1000).execute();
      if (rows.length === 0) break;
      for (const r of rows) {
        const group = fleetGroupOf({ serverId: r.server_id, serverName: r.server_name, serverVersion: r.server_version, name: r.name });
        const variant = variantOf({ descriptionSha256: r.description_sha256, inputSchemaSha256: r.input_schema_sha256, annotationsSha256: r.annotations_sha256 });
        await db.updateTable('endpoint_tools').set({ fleet_group: group, variant }).where('endpoint_id', '=', r.endpoint_id).where('server_id', '=', r.server_id).where('name', '=', r.name).execute();
        if (group !== null && Number(r.present) === 1) addDelta(counts, group, variant, 1);
      }
      const last = rows[rows.length - 1]!;
      after = [last.endpoint_id, last.server_id, last.name];
    }
    const now = new Date().toISOString();
    for (const [group, variants] of counts) {
      const { identity, serverVersion, name } = parseGroup(group);
      const total = [...variants.values()].reduce((a, b) => a + b, 0);
      await db.insertInto('tool_fleet_groups').values({ fleet_group: group, server_id: identity, server_version: serverVersion, name, majority: null, endpoints: total, updated_at: now }).execute();
      for (const [variant, n] of variants) await db.insertInto('tool_fleet_variants').values({ fleet_group: group, variant, endpoints: n }).execute();
    }
  },
});
