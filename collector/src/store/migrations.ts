/**
 * Schema migrations, held in code (no files to find at runtime, so the collector can be bundled).
 * Applied by Kysely's Migrator, which takes a lock on PostgreSQL so several collectors starting at
 * once migrate exactly once. Migrations are append-only: never edit one that has shipped.
 */
import { commandWaitMarksMigration, containmentMigration } from '../containment/containment-migration.js';
import { dashboardSessionsMigration } from '../dashboard/dashboard-migration.js';
import { toolFleetMigration, toolMigration } from '../tools/tool-migration.js';
import { serverEffectiveMigration } from './server-effective-migration.js';
import { eventIndexMigration } from './event-index-migration.js';
import { toolPolicyMigration } from '../tool-calls/tool-policy-migration.js';
import { toolCallFindingsMigration } from '../tool-calls/tool-call-findings-migration.js';
import { findingsOrderMigration } from './findings-order-migration.js';
import { inventoryFillfactorMigration } from './inventory-fillfactor-migration.js';
import { fleetQueryIndexesMigration } from './fleet-query-indexes-migration.js';
import { batchLogIndexesMigration } from './batch-log-indexes-migration.js';
import { serverGroupsMigration } from './server-groups-migration.js';
import { sql, type CreateTableBuilder, type Kysely, type Migration, type MigrationProvider } from 'kysely';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Engine = 'sqlite' | 'postgres';

/**
 * On SQLite, a table keyed by its primary key alone (WITHOUT ROWID): one b-tree instead of a rowid
 * table plus a primary-key index, so each insert writes one structure less. PostgreSQL: unchanged.
 */
function clustered<T extends CreateTableBuilder<string, string>>(engine: Engine, t: T): T {
  return (engine === 'sqlite' ? t.modifyEnd(sql`without rowid`) : t) as T;
}

/** The delivery-state columns of an outbox table (retry count, timing, lease, last error). */
function deliveryColumns<T extends CreateTableBuilder<string, string>>(t: T) {
  return t
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('available_at', 'text', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'text')
    .addColumn('last_error', 'text');
}

/** Adds the columns every current-inventory table shares. */
function inventoryTable(db: AnyDb, name: string, keyColumn: string) {
  return db.schema
    .createTable(name)
    .addColumn('endpoint_id', 'text', (c) => c.notNull())
    .addColumn(keyColumn, 'text', (c) => c.notNull())
    .addColumn('first_seen', 'text', (c) => c.notNull())
    .addColumn('last_seen', 'text', (c) => c.notNull())
    .addColumn('present', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('removed_at', 'text')
    .addColumn('data', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint(`${name}_pk`, ['endpoint_id', keyColumn] as never);
}

const m0001 = (engine: Engine): Migration => ({
  async up(db: AnyDb) {
    await db.schema
      .createTable('enroll_secrets')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('revoked_at', 'text')
      .execute();

    await db.schema
      .createTable('agents')
      .addColumn('agent_id', 'text', (c) => c.primaryKey())
      .addColumn('endpoint_id', 'text', (c) => c.notNull())
      .addColumn('hardware_uuid', 'text')
      .addColumn('hostname', 'text', (c) => c.notNull())
      .addColumn('cert_fingerprint', 'text', (c) => c.notNull())
      .addColumn('public_key_pem', 'text', (c) => c.notNull())
      .addColumn('cert_not_after', 'text', (c) => c.notNull())
      .addColumn('enrolled_at', 'text', (c) => c.notNull())
      .addColumn('revoked_at', 'text')
      .addColumn('enroll_secret_name', 'text')
      .addColumn('agent_version', 'text', (c) => c.notNull())
      .addColumn('last_seq', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_hash', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('last_batch_at', 'text')
      .addColumn('duplicate_of', 'text')
      .execute();
    await db.schema.createIndex('agents_hardware_uuid').on('agents').column('hardware_uuid').execute();
    await db.schema.createIndex('agents_endpoint').on('agents').column('endpoint_id').execute();

    await db.schema
      .createTable('endpoints')
      .addColumn('endpoint_id', 'text', (c) => c.primaryKey())
      .addColumn('hostname', 'text', (c) => c.notNull())
      .addColumn('platform', 'text', (c) => c.notNull())
      .addColumn('os_name', 'text')
      .addColumn('os_release', 'text')
      .addColumn('arch', 'text')
      .addColumn('hardware_uuid', 'text')
      .addColumn('agent_id', 'text')
      .addColumn('agent_version', 'text')
      .addColumn('first_seen', 'text', (c) => c.notNull())
      .addColumn('last_seen', 'text', (c) => c.notNull())
      .addColumn('last_heartbeat_at', 'text')
      .addColumn('health', 'text')
      .addColumn('last_snapshot_at', 'text')
      .addColumn('duplicate_of', 'text')
      .execute();
    await db.schema.createIndex('endpoints_hostname').on('endpoints').column('hostname').execute();
    await db.schema.createIndex('endpoints_last_seen').on('endpoints').column('last_seen').execute();

    await clustered(engine, db.schema
      .createTable('endpoint_users')
      .addColumn('endpoint_id', 'text', (c) => c.notNull())
      .addColumn('user_name', 'text', (c) => c.notNull())
      .addColumn('first_seen', 'text', (c) => c.notNull())
      .addColumn('last_seen', 'text', (c) => c.notNull())
      .addColumn('present', 'integer', (c) => c.notNull().defaultTo(1))
      .addPrimaryKeyConstraint('endpoint_users_pk', ['endpoint_id', 'user_name'] as never))
      .execute();
    await db.schema.createIndex('endpoint_users_user').on('endpoint_users').columns(['user_name', 'endpoint_id']).execute();

    await clustered(engine, db.schema
      .createTable('batches')
      .addColumn('agent_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('body_hash', 'text', (c) => c.notNull())
      .addColumn('event_count', 'integer', (c) => c.notNull())
      .addColumn('received_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('batches_pk', ['agent_id', 'seq'] as never))
      .execute();
    await db.schema.createIndex('batches_received').on('batches').column('received_at').execute();

    // Events are ordered by their ULID id (its prefix is the event time): the primary key serves
    // time order and time ranges, so no separate time index is written per event.
    await clustered(engine, db.schema
      .createTable('events')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('endpoint_id', 'text', (c) => c.notNull())
      .addColumn('agent_id', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('time', 'text', (c) => c.notNull())
      .addColumn('received_at', 'text', (c) => c.notNull())
      .addColumn('batch_seq', 'integer', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull()))
      .execute();
    await db.schema.createIndex('events_endpoint').on('events').columns(['endpoint_id', 'id']).execute();
    await db.schema.createIndex('events_type').on('events').columns(['type', 'id']).execute();

    await clustered(engine, inventoryTable(db, 'servers', 'server_key')
      .addColumn('fingerprint', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('client', 'text', (c) => c.notNull())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('config_path', 'text', (c) => c.notNull())
      .addColumn('user_name', 'text')
      .addColumn('transport', 'text', (c) => c.notNull())
      .addColumn('command', 'text')
      .addColumn('url', 'text')
      .addColumn('package_ecosystem', 'text')
      .addColumn('package_name', 'text')
      .addColumn('package_version', 'text')
      .addColumn('package_pinned', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
      )
      .execute();
    // "Who runs server X" at fleet scale: fingerprint first, then the endpoints holding it.
    await db.schema.createIndex('servers_fingerprint').on('servers').columns(['fingerprint', 'present', 'endpoint_id']).execute();
    await db.schema.createIndex('servers_name').on('servers').columns(['name', 'present']).execute();
    await db.schema.createIndex('servers_package').on('servers').columns(['package_name', 'present']).execute();

    await clustered(engine, inventoryTable(db, 'clients', 'client_key')
      .addColumn('client', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('user_name', 'text')
      .addColumn('server_count', 'integer', (c) => c.notNull())
      )
      .execute();
    await db.schema.createIndex('clients_client').on('clients').columns(['client', 'present', 'endpoint_id']).execute();

    await clustered(engine, inventoryTable(db, 'processes', 'process_key')
      .addColumn('pid', 'integer', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('client', 'text')
      .addColumn('server_key', 'text')
      .addColumn('user_name', 'text')
      )
      .execute();

    await clustered(engine, inventoryTable(db, 'sockets', 'socket_key')
      .addColumn('pid', 'integer', (c) => c.notNull())
      .addColumn('protocol', 'text', (c) => c.notNull())
      .addColumn('local_address', 'text', (c) => c.notNull())
      .addColumn('local_port', 'integer', (c) => c.notNull())
      .addColumn('peer_address', 'text')
      .addColumn('peer_port', 'integer')
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('all_interfaces', 'integer', (c) => c.notNull())
      .addColumn('server_key', 'text')
      .addColumn('client', 'text')
      )
      .execute();

    await clustered(engine, inventoryTable(db, 'config_errors', 'error_key')
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('client', 'text')
      .addColumn('code', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      )
      .execute();

    await clustered(engine, db.schema
      .createTable('findings')
      .addColumn('endpoint_id', 'text', (c) => c.notNull())
      .addColumn('finding_id', 'text', (c) => c.notNull())
      .addColumn('rule_id', 'text', (c) => c.notNull())
      .addColumn('severity', 'text', (c) => c.notNull())
      .addColumn('severity_rank', 'integer', (c) => c.notNull())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('server_key', 'text')
      .addColumn('server_name', 'text')
      .addColumn('client', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('first_seen', 'text', (c) => c.notNull())
      .addColumn('last_seen', 'text', (c) => c.notNull())
      .addColumn('resolved_at', 'text')
      .addColumn('data', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('findings_pk', ['endpoint_id', 'finding_id'] as never))
      .execute();
    await db.schema.createIndex('findings_status_rank').on('findings').columns(['status', 'severity_rank', 'endpoint_id']).execute();
    await db.schema.createIndex('findings_rule').on('findings').columns(['rule_id', 'status']).execute();

    // Keyed by (sink, id): a claim walks one sink's rows in id (= event time) order on the key itself.
    await clustered(engine, deliveryColumns(db.schema
      .createTable('outbox')
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('sink', 'text', (c) => c.notNull())
      // The payload is the event row itself (not copied per sink): claim joins it.
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('endpoint_id', 'text', (c) => c.notNull())
      .addColumn('agent_id', 'text', (c) => c.notNull())
      .addColumn('batch_seq', 'integer', (c) => c.notNull())
      .addColumn('cert_fingerprint', 'text', (c) => c.notNull()))
      .addPrimaryKeyConstraint('outbox_pk', ['sink', 'id'] as never))
      .execute();

    await db.schema
      .createTable('api_tokens')
      .addColumn('token_id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('revoked_at', 'text')
      .addColumn('last_used_at', 'text')
      .execute();
  },
});

/**
 * 0002: the outbox holds one row per (sink, batch) -- up to OUTBOX_ROW_MAX_EVENTS event ids in
 * `event_ids` (a JSON array, oldest first) -- instead of one row per (sink, event). Enqueueing a
 * 100-event batch writes one row per sink instead of 100, and draining deletes one. Rows split
 * when a claim takes part of one or a release returns part of one. `id` is the row's first event
 * id at creation (ordering: oldest first). Existing rows move over as one-event rows.
 */
const m0002 = (engine: Engine): Migration => ({
  async up(db: AnyDb) {
    await clustered(engine, deliveryColumns(db.schema
      .createTable('outbox_v2')
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('sink', 'text', (c) => c.notNull())
      .addColumn('agent_id', 'text', (c) => c.notNull())
      .addColumn('endpoint_id', 'text', (c) => c.notNull())
      .addColumn('batch_seq', 'integer', (c) => c.notNull())
      .addColumn('cert_fingerprint', 'text', (c) => c.notNull())
      .addColumn('event_count', 'integer', (c) => c.notNull()))
      // Last: a long list spills to overflow pages, which a claim's scan of the columns before it never reads.
      .addColumn('event_ids', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('outbox_v2_pk', ['sink', 'id'] as never))
      .execute();
    await sql`insert into outbox_v2 (id, sink, agent_id, endpoint_id, batch_seq, cert_fingerprint, event_count, attempts, created_at, available_at, lease_owner, lease_until, last_error, event_ids)
      select event_id, sink, agent_id, endpoint_id, batch_seq, cert_fingerprint, 1, attempts, created_at, available_at, lease_owner, lease_until, last_error, '["' || event_id || '"]' from outbox`.execute(db);
    await db.schema.dropTable('outbox').execute();
    await db.schema.alterTable('outbox_v2').renameTo('outbox').execute();
    // completeOutbox/releaseOutbox find a row by the batch its events came in.
    await db.schema.createIndex('outbox_batch').on('outbox').columns(['agent_id', 'batch_seq']).execute();
  },
});

/**
 * 0003: the batch log. Ingest appends each verified batch (its gzip body exactly as sent, the
 * signature and its metadata) to `batch_log` and a row to `projection_pending`; the projector
 * turns pending log rows into the event index, the inventory, findings and the outbox, and deletes
 * their pending rows in the same transaction (projection_pending is the projector's cursor: a set,
 * not a position, because PostgreSQL commits sequence values out of order). `batch_log` replaces
 * `batches` (the idempotency record): rows from before this migration keep their hash and have no
 * body (verify-history reports them as unverifiable).
 */
const m0003 = (engine: Engine): Migration => ({
  async up(db: AnyDb) {
    let log = db.schema.createTable('batch_log');
    log = engine === 'sqlite'
      ? log.addColumn('log_id', 'integer', (c) => c.primaryKey().autoIncrement())
      : log.addColumn('log_id', 'bigserial', (c) => c.primaryKey());
    await log
      .addColumn('agent_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('endpoint_id', 'text', (c) => c.notNull())
      .addColumn('partition', 'integer', (c) => c.notNull())
      .addColumn('received_at', 'text', (c) => c.notNull())
      .addColumn('event_count', 'integer', (c) => c.notNull())
      .addColumn('first_event_at', 'text')
      .addColumn('last_event_at', 'text')
      .addColumn('event_types', 'text', (c) => c.notNull())
      .addColumn('prev_hash', 'text', (c) => c.notNull())
      .addColumn('body_hash', 'text', (c) => c.notNull())
      .addColumn('cert_fingerprint', 'text', (c) => c.notNull())
      .addColumn('signature', 'text', (c) => c.notNull())
      .addColumn('signed_at_ms', engine === 'sqlite' ? 'integer' : 'bigint', (c) => c.notNull())
      .addColumn('sinks', 'text', (c) => c.notNull())
      .addColumn('tamper', 'text')
      // Last: the body spills to overflow pages that scans of the columns before it never read.
      .addColumn('body', engine === 'sqlite' ? 'blob' : 'bytea')
      .addUniqueConstraint('batch_log_agent_seq', ['agent_id', 'seq'])
      .execute();
    await db.schema.createIndex('batch_log_received').on('batch_log').column('received_at').execute();
    await db.schema.createIndex('batch_log_endpoint').on('batch_log').columns(['endpoint_id', 'log_id']).execute();
    await sql`insert into batch_log (agent_id, seq, endpoint_id, partition, received_at, event_count, event_types, prev_hash, body_hash, cert_fingerprint, signature, signed_at_ms, sinks)
      select b.agent_id, b.seq, a.endpoint_id, 0, b.received_at, b.event_count, '', '', b.body_hash, a.cert_fingerprint, '', 0, '' from batches b join agents a on a.agent_id = b.agent_id`.execute(db);
    await db.schema.dropTable('batches').execute();
    await clustered(engine, db.schema
      .createTable('projection_pending')
      .addColumn('partition', 'integer', (c) => c.notNull())
      .addColumn('log_id', engine === 'sqlite' ? 'integer' : 'bigint', (c) => c.notNull())
      .addColumn('received_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('projection_pending_pk', ['partition', 'log_id'] as never))
      .execute();
    await db.schema.createIndex('projection_pending_received').on('projection_pending').column('received_at').execute();
  },
});

/** Every migration, in order. Names sort in application order. */
export function migrationsFor(engine: Engine): Record<string, Migration> {
  return {
    '0001_initial': m0001(engine),
    '0002_outbox_per_batch': m0002(engine),
    '0003_batch_log': m0003(engine),
    '0004_containment': containmentMigration(),
    '0005_ui_sessions': dashboardSessionsMigration(),
    '0006_tools': toolMigration(),
    '0007_tool_policy': toolPolicyMigration(),
    '0008_server_effective': serverEffectiveMigration(),
    '0009_command_wait_marks': commandWaitMarksMigration(),
    '0010_tool_fleet': toolFleetMigration(),
    '0013_event_index': eventIndexMigration(engine),
    '0012_tool_call_findings': toolCallFindingsMigration(),
    '0014_findings_by_severity': findingsOrderMigration(),
    '0015_inventory_fillfactor': inventoryFillfactorMigration(engine),
    '0016_fleet_query_indexes': fleetQueryIndexesMigration(engine),
    '0017_batch_log_indexes': batchLogIndexesMigration(),
    '0018_server_name_groups': serverGroupsMigration(engine),
  };
}

/** A MigrationProvider over the in-code migrations for `engine`. */
export function inCodeMigrations(engine: Engine): MigrationProvider {
  return { getMigrations: async () => migrationsFor(engine) };
}
