/**
 * The Store over Kysely: one implementation for SQLite and PostgreSQL. Engine-specific SQL only
 * where it cannot be avoided: row locks (`FOR UPDATE`, `SKIP LOCKED`) exist on PostgreSQL only;
 * SQLite has a single writer, so the same statements without locks are already exclusive there.
 *
 * Failure contract: a database that cannot be reached (connection refused/reset, pool exhausted,
 * SQLite busy/full/IO error) rejects with MCPW_ERR_STORE_UNAVAILABLE (503, retryable); anything
 * else is a programming error and propagates. ingestBatch is one transaction: all or nothing.
 *
 * Findings: the batch's events, the collector's tamper events and the finding.raised /
 * finding.resolved events its snapshots cause (projection.ts reconciles each snapshot against the
 * endpoint's open findings) are appended to the history and enqueued in the outbox in that one
 * transaction; derived ids are deterministic, so the same batch cannot add them twice.
 */
import { randomUUID } from 'node:crypto';
import { CompiledQuery, sql, type Compilable, type Kysely, type Transaction, Migrator } from 'kysely';
import { newEventId, type McpEvent } from '@mcpwatch/shared';
import { Errors, isCollectorError } from '../errors.js';
import type { Database, PresenceTable } from './db-schema.js';
import { PRESENCE_TABLES } from './db-schema.js';
import { inCodeMigrations } from './migrations.js';
import { canonicalTime, projectBatch, type FindingTransition, type ProjectionDelta } from './projection.js';
import { sinkWantsEvent } from './sink-routing.js';
import { InventoryQueries, ulidTimePrefix } from './inventory-queries.js';
import { deepCheckSqlite, SqliteFileIdentity, type HealthResult } from './sqlite-health.js';
import type {
  AgentRow,
  ApiTokenRow,
  CollectorEvent,
  EndpointDetail,
  EndpointFilter,
  EndpointSummary,
  EnrollInput,
  EnrollOutcome,
  EnrollSecretRow,
  EventFilter,
  FindingFilter,
  FindingView,
  IngestInput,
  IngestResult,
  OutboxRow,
  Page,
  PageRequest,
  ServerEndpoint,
  ServerFilter,
  ServerGroup,
  Store,
  StoredEvent,
  TokenScope,
} from './types.js';

export type Engine = 'sqlite' | 'postgres';

export interface KyselyStoreOptions {
  engine: Engine;
  db: Kysely<Database>;
  /** PostgreSQL schema holding the tables (created by migrate()); default: the search_path's. */
  pgSchema?: string;
  /** Clock, for tests. */
  now?: () => Date;
  /** Runs (awaited) before the database closes, e.g. to stop SQLite's checkpoint worker. */
  beforeClose?: () => Promise<void>;
  /**
   * Runs ingestBatch elsewhere (SQLite: sqlite-ingest-writer.ts, a worker thread with its own
   * connection); stopped by close() before the database closes.
   */
  ingestWriter?: { ingest(input: IngestInput): Promise<IngestResult>; stop(): Promise<void> };
  /**
   * Most batches committed together by one ingest transaction (group commit; default 16). On
   * SQLite the transaction runs on the event loop's thread (unless the ingest thread is on), so
   * this also bounds how long one group holds HTTP and API requests: ~16 batches' work, tens of ms.
   */
  maxIngestGroup?: number;
  /** Ingest transactions in flight at once (default: 1 on SQLite, 4 on PostgreSQL). */
  maxConcurrentIngestGroups?: number;
  /** SQLite: the database file, whose identity health() and every write check (sqlite-health.ts). */
  sqliteFile?: string;
}

interface PendingIngest {
  input: IngestInput;
  resolve(r: IngestResult): void;
  reject(e: unknown): void;
}

/** Error codes and messages that mean "the database is not reachable now" (retry later). */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE', 'EAI_AGAIN',
  '57P01', '57P02', '57P03', '53300', '40P01', '40001', '08000', '08001', '08003', '08004', '08006',
  'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_CANTOPEN', 'SQLITE_READONLY',
]);
const UNAVAILABLE_MESSAGES = [
  'Connection terminated', 'timeout exceeded when trying to connect', 'database connection is not open',
  'Cannot use a pool after calling end', 'driver has already been destroyed',
];

/** Maps a database failure to MCPW_ERR_STORE_UNAVAILABLE when it is one of reachability, a unique violation to MCPW_ERR_CONFLICT. */
export function classifyStoreError(e: unknown): unknown {
  if (isCollectorError(e)) return e;
  const err = e as { code?: unknown; message?: unknown };
  const code = typeof err?.code === 'string' ? err.code : '';
  const message = typeof err?.message === 'string' ? err.message : '';
  if (code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') {
    return Errors.conflict('a record with this name or key already exists', { cause: e });
  }
  if (UNAVAILABLE_CODES.has(code) || code.startsWith('SQLITE_IOERR') || UNAVAILABLE_MESSAGES.some((m) => message.includes(m))) {
    return Errors.storeUnavailable(`store unavailable: ${message || code}`, { cause: e, retryAfterS: 1 });
  }
  return e;
}

/** Outbox rows a claim reads per step while choosing rows (each holds up to OUTBOX_ROW_MAX_EVENTS events). */
const CLAIM_SCAN_ROWS = 16;

/** Most event ids one outbox row holds (a bigger batch gets several rows per sink). */
export const OUTBOX_ROW_MAX_EVENTS = 100;

function parseIds(json: string): string[] {
  const v = JSON.parse(json) as unknown;
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Rows per multi-row INSERT, so no statement passes SQLite's 32766 bound parameters. */
function chunkRows<T>(rows: T[], columns: number): T[][] {
  const size = Math.max(1, Math.floor(30000 / Math.max(1, columns)));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

type AnyTrx = Transaction<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * SQL text of multi-row INSERTs, compiled by Kysely once per shape (table, columns, row count,
 * conflict clause) and reused with fresh parameters: building and compiling the query tree of a
 * 100-row insert costs more than SQLite's work for it. A shape is cached only after checking that
 * the parameters Kysely produced are exactly the rows' values in column order.
 */
class InsertShapes {
  readonly #sql = new Map<string, string | null>();
  readonly #max = 2048;

  /** A multi-row INSERT of `rows` (the shape includes the column list and the row count). */
  insert<R>(trx: AnyTrx, shape: string, rows: Record<string, unknown>[], build: (rows: Record<string, unknown>[]) => Compilable<R>): Promise<R[]> {
    const columns = Object.keys(rows[0]!);
    const params: unknown[] = [];
    for (const r of rows) for (const c of columns) params.push(r[c]);
    return this.run(trx, `${shape}|${columns.join(',')}|${rows.length}`, params, () => build(rows));
  }

  /** Any statement whose SQL text depends only on `shape` and whose parameters are `params`, in order. */
  async run<R>(trx: AnyTrx, shape: string, params: unknown[], build: () => Compilable<R>): Promise<R[]> {
    const cached = this.#sql.get(shape);
    if (cached) return (await trx.executeQuery(CompiledQuery.raw(cached, params))).rows as R[];
    const compiled = build().compile();
    if (cached === undefined && this.#sql.size < this.#max) {
      const same = compiled.parameters.length === params.length && compiled.parameters.every((p, i) => p === params[i]);
      this.#sql.set(shape, same ? compiled.sql : null);
    }
    return (await trx.executeQuery(compiled)).rows as R[];
  }
}

/**
 * Multi-row upsert: inserts `rows`; on a key conflict updates every column except the key
 * columns and `first_seen` (so first seen survives).
 */
async function upsertRows(shapes: InsertShapes, trx: AnyTrx, table: string, keyColumns: string[], rows: Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  const updated = columns.filter((c) => !keyColumns.includes(c) && c !== 'first_seen');
  for (const chunk of chunkRows(rows, columns.length)) {
    await shapes.insert(trx, `upsert:${table}:${keyColumns.join(',')}`, chunk, (values) =>
      trx
        .insertInto(table)
        .values(values)
        .onConflict((oc) =>
          oc.columns(keyColumns as never).doUpdateSet((eb) => Object.fromEntries(updated.map((c) => [c, eb.ref(`excluded.${c}`)])) as never),
        ),
    );
  }
}

function toAgentRow(r: Database['agents']): AgentRow {
  return {
    agentId: r.agent_id,
    endpointId: r.endpoint_id,
    hardwareUuid: r.hardware_uuid,
    hostname: r.hostname,
    certFingerprint: r.cert_fingerprint,
    publicKeyPem: r.public_key_pem,
    certNotAfter: r.cert_not_after,
    enrolledAt: r.enrolled_at,
    revokedAt: r.revoked_at,
    enrollSecretName: r.enroll_secret_name,
    lastSeq: Number(r.last_seq),
    lastHash: r.last_hash,
    duplicateOf: r.duplicate_of,
  };
}

function toTokenRow(r: Database['api_tokens']): ApiTokenRow {
  return {
    tokenId: r.token_id,
    name: r.name,
    scope: r.scope as TokenScope,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
    lastUsedAt: r.last_used_at,
  };
}

export class KyselyStore implements Store {
  readonly engine: Engine;
  readonly db: Kysely<Database>;
  readonly #pgSchema: string | undefined;
  readonly #now: () => Date;
  readonly #queries: InventoryQueries;
  readonly #beforeClose: (() => Promise<void>) | undefined;
  readonly #ingestWriter: KyselyStoreOptions['ingestWriter'];
  /** Per store: the SQL text differs by engine. */
  readonly #shapes = new InsertShapes();
  #closed = false;
  /** SQLite: the database file as opened (dev+ino); writes refuse once it is deleted or replaced. */
  readonly #fileIdentity: SqliteFileIdentity | undefined;
  /** Group commit (see ingestBatch): waiting batches, groups in flight and their bounds. */
  readonly #ingestQueue: PendingIngest[] = [];
  #groupsRunning = 0;
  #startScheduled = false;
  /** close() waiting for the queue and the groups in flight to finish. */
  readonly #onIngestIdle: Array<() => void> = [];
  readonly #maxGroup: number;
  readonly #maxConcurrentGroups: number;

  constructor(opts: KyselyStoreOptions) {
    this.engine = opts.engine;
    this.db = opts.db;
    this.#pgSchema = opts.pgSchema;
    this.#now = opts.now ?? (() => new Date());
    this.#queries = new InventoryQueries(this.db);
    this.#beforeClose = opts.beforeClose;
    this.#ingestWriter = opts.ingestWriter;
    this.#fileIdentity = opts.sqliteFile ? new SqliteFileIdentity(opts.sqliteFile) : undefined;
    this.#maxGroup = Math.max(1, opts.maxIngestGroup ?? 16);
    // SQLite has one writer: one group at a time. PostgreSQL: a few groups on their own connections.
    this.#maxConcurrentGroups = Math.max(1, opts.maxConcurrentIngestGroups ?? (opts.engine === 'sqlite' ? 1 : 4));
  }

  /** Runs `fn`, mapping reachability failures to MCPW_ERR_STORE_UNAVAILABLE. */
  async #run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) throw Errors.storeUnavailable('store is closed');
    try {
      return await fn();
    } catch (e) {
      throw classifyStoreError(e);
    }
  }

  #iso(): string {
    return this.#now().toISOString();
  }

  async migrate(): Promise<void> {
    await this.#run(async () => {
      if (this.engine === 'postgres' && this.#pgSchema) {
        await sql`create schema if not exists ${sql.id(this.#pgSchema)}`.execute(this.db).catch(async (e: { code?: string }) => {
          // Two collectors creating the schema at once: the loser sees a unique violation; fine.
          if (e?.code !== '23505') throw e;
        });
      }
      const migrator = new Migrator({
        db: this.db,
        provider: inCodeMigrations(this.engine),
        ...(this.engine === 'postgres' && this.#pgSchema ? { migrationTableSchema: this.#pgSchema } : {}),
      });
      const { error } = await migrator.migrateToLatest();
      if (error) throw error;
    });
  }

  async ping(): Promise<boolean> {
    if (this.#closed) return false;
    try {
      await sql`select 1`.execute(this.db);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Whether the store is really there and readable. Shallow (every write runs it): SQLite's file is
   * still the one opened. Deep (readiness): plus SQLite's deepCheckSqlite (fresh read-only
   * connection, schema and a row of each table, bounded quick_check); PostgreSQL `select 1` and a
   * read of the agents table. Never throws.
   */
  async health(opts: { deep?: boolean } = {}): Promise<HealthResult> {
    if (this.#closed) return { ok: false, reason: 'store is closed' };
    const identity = this.#fileIdentity?.check() ?? { ok: true };
    if (!identity.ok || !opts.deep) return identity;
    try {
      await sql`select 1`.execute(this.db);
      if (this.#fileIdentity) return deepCheckSqlite(this.#fileIdentity.file);
      await this.db.selectFrom('agents').select('agent_id').limit(1).execute();
      return { ok: true };
    } catch (e) {
      return { ok: false, reason: `store query failed: ${(e as Error).message}` };
    }
  }

  /** Refuses a write (503, retryable) when the SQLite file was deleted or replaced under us. */
  #assertFileIntact(): void {
    const id = this.#fileIdentity?.check();
    if (id && !id.ok) throw Errors.storeUnavailable(id.reason);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Batches already queued or in a transaction finish (their callers get their answers) first.
    if (this.#groupsRunning > 0 || this.#ingestQueue.length > 0) await new Promise<void>((resolve) => this.#onIngestIdle.push(resolve));
    await this.#ingestWriter?.stop().catch(() => undefined);
    await this.#beforeClose?.().catch(() => undefined);
    await this.db.destroy();
  }

  // ---- enroll secrets ----

  async addEnrollSecret(name: string, secretHash: string): Promise<void> {
    await this.#run(() =>
      this.db.insertInto('enroll_secrets').values({ name, secret_hash: secretHash, created_at: this.#iso(), revoked_at: null }).execute(),
    );
  }

  async listEnrollSecrets(): Promise<EnrollSecretRow[]> {
    const rows = await this.#run(() => this.db.selectFrom('enroll_secrets').selectAll().orderBy('name').execute());
    return rows.map((r) => ({ name: r.name, secretHash: r.secret_hash, createdAt: r.created_at, revokedAt: r.revoked_at }));
  }

  async revokeEnrollSecret(name: string): Promise<boolean> {
    const res = await this.#run(() =>
      this.db.updateTable('enroll_secrets').set({ revoked_at: this.#iso() }).where('name', '=', name).where('revoked_at', 'is', null).executeTakeFirst(),
    );
    return Number(res.numUpdatedRows) > 0;
  }

  async findEnrollSecret(secretHash: string): Promise<EnrollSecretRow | null> {
    const r = await this.#run(() =>
      this.db.selectFrom('enroll_secrets').selectAll().where('secret_hash', '=', secretHash).where('revoked_at', 'is', null).executeTakeFirst(),
    );
    return r ? { name: r.name, secretHash: r.secret_hash, createdAt: r.created_at, revokedAt: r.revoked_at } : null;
  }

  // ---- agents ----

  async enrollAgent(input: EnrollInput): Promise<EnrollOutcome> {
    this.#assertFileIntact();
    return this.#run(() =>
      this.db.transaction().execute(async (trx) => {
        const now = this.#iso();
        const hw = input.host.hardwareUuid ?? null;
        let endpointId: string | null = null;
        let duplicateOf: string | null = null;
        if (hw) {
          const prior = await trx
            .selectFrom('agents')
            .select(['endpoint_id', 'hostname', 'duplicate_of'])
            .where('hardware_uuid', '=', hw)
            .orderBy('enrolled_at', 'desc')
            .execute();
          // Same hardware UUID and hostname: the same machine enrolling again keeps its endpoint.
          // Same UUID, other hostname: a cloned image; kept apart and flagged.
          const same = prior.find((p) => p.hostname === input.host.hostname);
          if (same) {
            endpointId = same.endpoint_id;
            duplicateOf = same.duplicate_of;
          } else if (prior.length > 0) {
            duplicateOf = prior[prior.length - 1]!.endpoint_id;
          }
        }
        endpointId ??= randomUUID();
        await trx
          .insertInto('agents')
          .values({
            agent_id: input.agentId,
            endpoint_id: endpointId,
            hardware_uuid: hw,
            hostname: input.host.hostname,
            cert_fingerprint: input.certFingerprint,
            public_key_pem: input.publicKeyPem,
            cert_not_after: input.certNotAfter,
            enrolled_at: now,
            revoked_at: null,
            enroll_secret_name: input.enrollSecretName,
            agent_version: input.agentVersion,
            last_seq: 0,
            last_hash: '',
            last_batch_at: null,
            duplicate_of: duplicateOf,
          })
          .execute();
        const host = input.host;
        await upsertRows(this.#shapes, trx as AnyTrx, 'endpoints', ['endpoint_id'], [
          {
            endpoint_id: endpointId,
            hostname: host.hostname,
            platform: host.platform,
            os_name: host.osName ?? null,
            os_release: host.osRelease ?? null,
            arch: host.arch ?? null,
            hardware_uuid: hw,
            agent_id: input.agentId,
            agent_version: input.agentVersion,
            first_seen: now,
            last_seen: now,
            duplicate_of: duplicateOf,
          },
        ]);
        await this.#upsertUsers(trx as AnyTrx, endpointId, host.users, now);
        return { agentId: input.agentId, endpointId, flaggedDuplicate: duplicateOf !== null };
      }),
    );
  }

  async #upsertUsers(trx: AnyTrx, endpointId: string, users: readonly string[], at: string): Promise<void> {
    const unique = [...new Set(users)];
    await upsertRows(this.#shapes, trx, 'endpoint_users', ['endpoint_id', 'user_name'], unique.map((u) => ({ endpoint_id: endpointId, user_name: u, first_seen: at, last_seen: at, present: 1 })));
  }

  async getAgent(agentId: string): Promise<AgentRow | null> {
    const r = await this.#run(() => this.db.selectFrom('agents').selectAll().where('agent_id', '=', agentId).executeTakeFirst());
    return r ? toAgentRow(r) : null;
  }

  async setAgentRevoked(agentId: string, revoked: boolean): Promise<boolean> {
    const res = await this.#run(() =>
      this.db.updateTable('agents').set({ revoked_at: revoked ? this.#iso() : null }).where('agent_id', '=', agentId).executeTakeFirst(),
    );
    return Number(res.numUpdatedRows) > 0;
  }

  async listAgents(filter: { revoked?: boolean; endpointId?: string } = {}): Promise<AgentRow[]> {
    const rows = await this.#run(() => {
      let q = this.db.selectFrom('agents').selectAll();
      if (filter.revoked === true) q = q.where('revoked_at', 'is not', null);
      if (filter.revoked === false) q = q.where('revoked_at', 'is', null);
      if (filter.endpointId !== undefined) q = q.where('endpoint_id', '=', filter.endpointId);
      return q.orderBy('enrolled_at').orderBy('agent_id').limit(10000).execute();
    });
    return rows.map(toAgentRow);
  }

  // ---- ingest ----

  /**
   * Group commit. Batches that arrive while a transaction is running wait in a queue; the next
   * transaction takes up to `#maxGroup` of them, each inside its own SAVEPOINT, so each batch is
   * still all-or-nothing (a batch that fails rolls back to its savepoint and only its caller sees
   * the error) while the commit -- the single most expensive statement of an ingest on SQLite --
   * is paid once per group. No caller is answered before the COMMIT that holds its batch; a failed
   * COMMIT fails every batch of the group (503: the agents keep and resend them).
   *
   * Within a group, batches run in (agent, seq) order so that row locks (PostgreSQL: the agent row
   * FOR UPDATE) are always taken in the same order: two collectors sharing PostgreSQL cannot
   * deadlock on each other's groups.
   */
  ingestBatch(input: IngestInput): Promise<IngestResult> {
    if (this.#closed) return Promise.reject(Errors.storeUnavailable('store is closed'));
    try {
      this.#assertFileIntact();
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.#ingestWriter) return this.#ingestWriter.ingest(input);
    return new Promise<IngestResult>((resolve, reject) => {
      this.#ingestQueue.push({ input, resolve, reject });
      this.#startGroups();
    });
  }

  #startGroups(): void {
    // Start on the next turn of the event loop, not now: better-sqlite3 runs a whole transaction
    // without yielding to I/O, so starting at once would take one batch per group. Waiting one
    // setImmediate lets the requests that arrived meanwhile reach the queue first.
    if (this.#startScheduled) return;
    this.#startScheduled = true;
    setImmediate(() => {
      this.#startScheduled = false;
      this.#startGroupsNow();
    });
  }

  #startGroupsNow(): void {
    while (this.#groupsRunning < this.#maxConcurrentGroups && this.#ingestQueue.length > 0) {
      const group = this.#ingestQueue.splice(0, this.#maxGroup);
      this.#groupsRunning++;
      void this.#runGroup(group).finally(() => {
        this.#groupsRunning--;
        if (this.#ingestQueue.length > 0) this.#startGroups();
        else if (this.#groupsRunning === 0) this.#onIngestIdle.splice(0).forEach((resolve) => resolve());
      });
    }
  }

  async #runGroup(group: PendingIngest[]): Promise<void> {
    group.sort((a, b) => (a.input.agent.agentId < b.input.agent.agentId ? -1 : a.input.agent.agentId > b.input.agent.agentId ? 1 : a.input.seq - b.input.seq));
    const outcomes: Array<{ ok: true; value: IngestResult } | { ok: false; error: unknown }> = [];
    try {
      // Not #run: a group queued before close() still runs (close waits for it).
      await this.db
        .transaction()
        .execute(async (trx) => {
          for (const item of group) {
            if (group.length === 1) {
              outcomes.push({ ok: true, value: await this.#ingest(trx as AnyTrx, item.input) });
              continue;
            }
            await sql`savepoint mcpw_batch`.execute(trx);
            try {
              outcomes.push({ ok: true, value: await this.#ingest(trx as AnyTrx, item.input) });
              await sql`release savepoint mcpw_batch`.execute(trx);
            } catch (e) {
              // Only this batch's writes are undone; a failure to roll back fails the group.
              await sql`rollback to savepoint mcpw_batch`.execute(trx);
              await sql`release savepoint mcpw_batch`.execute(trx);
              outcomes.push({ ok: false, error: classifyStoreError(e) });
            }
          }
        });
    } catch (e) {
      const error = classifyStoreError(e);
      for (const item of group) item.reject(error);
      return;
    }
    group.forEach((item, i) => {
      const o = outcomes[i]!;
      if (o.ok) item.resolve(o.value);
      else item.reject(o.error);
    });
  }

  async #ingest(trx: AnyTrx, input: IngestInput): Promise<IngestResult> {
    const agentId = input.agent.agentId;
    const endpointId = input.agent.endpointId;
    let agentQuery = trx.selectFrom('agents').select(['last_seq', 'last_hash']).where('agent_id', '=', agentId);
    // Serializes batches of one agent across collectors sharing PostgreSQL.
    if (this.engine === 'postgres') agentQuery = agentQuery.forUpdate();
    const agent = await agentQuery.executeTakeFirst();
    if (!agent) throw Errors.unknownAgent();

    // A separate statement on purpose: on PostgreSQL (READ COMMITTED) it takes a fresh snapshot
    // after the agent lock above, so it sees a batch a concurrent collector just committed.
    const prior = await trx.selectFrom('batches').select('body_hash').where('agent_id', '=', agentId).where('seq', '=', input.seq).executeTakeFirst();
    if (prior) {
      return prior.body_hash === input.bodyHash ? { status: 'duplicate', acked: input.seq } : { status: 'conflict', seq: input.seq };
    }

    const receivedAt = canonicalTime(input.receivedAt, this.#iso());
    const lastSeq = Number(agent.last_seq);
    const gap = input.seq > lastSeq + 1;
    const chainBroken = input.seq === lastSeq + 1 && input.prevHash !== agent.last_hash;

    await trx
      .insertInto('batches')
      .values({ agent_id: agentId, seq: input.seq, body_hash: input.bodyHash, event_count: input.events.length, received_at: receivedAt })
      .execute();

    // Append the events; an id already held (re-sent under another seq) is skipped everywhere below.
    const inserted = new Set<string>();
    const encoded = new Map<McpEvent, { data: string; time: string }>();
    const eventRows = input.events.map((e) => {
      const enc = { data: JSON.stringify(e.data), time: canonicalTime(e.time, receivedAt) };
      encoded.set(e, enc);
      return { id: e.id, endpoint_id: endpointId, agent_id: agentId, type: e.type, time: enc.time, received_at: receivedAt, batch_seq: input.seq, data: enc.data };
    });
    for (const chunk of chunkRows(eventRows, 8)) {
      const rows = await this.#shapes.insert(trx, 'append:events', chunk, (values) =>
        trx.insertInto('events').values(values).onConflict((oc) => oc.column('id').doNothing()).returning('id'),
      );
      for (const r of rows) inserted.add((r as { id: string }).id);
    }
    // Inserted now, each id once (an event repeated inside the batch counts once).
    const fresh = inserted.size === input.events.length ? input.events : input.events.filter((e) => inserted.delete(e.id));

    const tamper: CollectorEvent[] = [];
    if (gap) tamper.push(this.#collectorEvent('collector.seq_gap', endpointId, receivedAt, { agentId, seq: input.seq, expectedSeq: lastSeq + 1 }));
    if (chainBroken) {
      tamper.push(this.#collectorEvent('collector.chain_broken', endpointId, receivedAt, { agentId, seq: input.seq, expectedPrevHash: agent.last_hash, prevHash: input.prevHash }));
    }
    if (tamper.length > 0) {
      await trx
        .insertInto('events')
        .values(tamper.map((e) => ({ id: e.id, endpoint_id: endpointId, agent_id: agentId, type: e.type, time: e.time, received_at: receivedAt, batch_seq: input.seq, data: JSON.stringify(e.data) })))
        .execute();
    }

    // A snapshot reconciles the endpoint's findings against those open now (read only then).
    const openFindings = fresh.some((e) => e.type === 'inventory.snapshot') ? await this.#openFindings(trx, endpointId) : undefined;
    const delta = projectBatch(endpointId, fresh, receivedAt, { dataJson: (e) => encoded.get(e)!.data, time: (e) => encoded.get(e)!.time }, openFindings);
    const derived = await this.#appendFindingTransitions(trx, endpointId, agentId, input.seq, receivedAt, delta.findingTransitions);
    await this.#applyProjection(trx, endpointId, delta, receivedAt);

    // One outbox row per sink (per OUTBOX_ROW_MAX_EVENTS events), holding the ids of the events
    // that sink wants; the payload is the events rows themselves. The finding events derived from
    // a snapshot follow it, so every sink gets a snapshot's findings the same way: as them.
    const outbox = [];
    for (const sink of input.sinks) {
      const ids = [];
      for (const e of fresh) {
        if (sinkWantsEvent(sink, e.type)) ids.push(e.id);
        for (const t of derived.get(e.id) ?? []) if (sinkWantsEvent(sink, t.type)) ids.push(t.id);
      }
      // The collector's own gap / chain-broken events go out too: a SIEM must see tampering.
      for (const e of tamper) if (sinkWantsEvent(sink, e.type)) ids.push(e.id);
      for (let i = 0; i < ids.length; i += OUTBOX_ROW_MAX_EVENTS) {
        const part = ids.slice(i, i + OUTBOX_ROW_MAX_EVENTS);
        outbox.push({
          id: part[0]!,
          sink,
          agent_id: agentId,
          endpoint_id: endpointId,
          batch_seq: input.seq,
          cert_fingerprint: input.agent.certFingerprint,
          event_ids: JSON.stringify(part),
          event_count: part.length,
          attempts: 0,
          created_at: receivedAt,
          available_at: receivedAt,
          lease_owner: null,
          lease_until: null,
          last_error: null,
        });
      }
    }
    for (const chunk of chunkRows(outbox, 14)) {
      await this.#shapes.insert(trx, 'append:outbox', chunk, (values) => trx.insertInto('outbox').values(values as never).onConflict((oc) => oc.columns(['sink', 'id']).doNothing()));
    }

    // A late batch (seq below the last accepted) fills a hole; it does not move the chain head.
    if (input.seq > lastSeq) {
      await trx.updateTable('agents').set({ last_seq: input.seq, last_hash: input.bodyHash, last_batch_at: receivedAt }).where('agent_id', '=', agentId).execute();
    }
    return { status: 'accepted', acked: input.seq, gap, chainBroken };
  }

  #collectorEvent(type: CollectorEvent['type'], endpointId: string, at: string, data: CollectorEvent['data']): CollectorEvent {
    return { v: 1, id: newEventId(Date.parse(at)), type, time: at, endpointId, data };
  }

  async #applyProjection(trx: AnyTrx, endpointId: string, d: ProjectionDelta, receivedAt: string): Promise<void> {
    const at = d.snapshotAt;
    if (d.reset && at) {
      for (const table of PRESENCE_TABLES) {
        await trx.updateTable(table as PresenceTable).set({ present: 0, removed_at: at }).where('endpoint_id', '=', endpointId).where('present', '=', 1).execute();
      }
      await trx.updateTable('findings').set({ status: 'resolved', resolved_at: at }).where('endpoint_id', '=', endpointId).where('status', '=', 'open').execute();
      await trx.updateTable('endpoint_users').set({ present: 0 }).where('endpoint_id', '=', endpointId).where('present', '=', 1).execute();
      if (d.host) await this.#upsertUsers(trx, endpointId, d.host.users, at);
    }
    await this.#upsertInventory(trx, endpointId, 'servers', 'server_key', 'present', [...d.servers.values()] as never);
    await this.#upsertInventory(trx, endpointId, 'clients', 'client_key', 'present', [...d.clients.values()] as never);
    await this.#upsertInventory(trx, endpointId, 'processes', 'process_key', 'present', [...d.processes.values()] as never);
    await this.#upsertInventory(trx, endpointId, 'sockets', 'socket_key', 'present', [...d.sockets.values()] as never);
    await this.#upsertInventory(trx, endpointId, 'config_errors', 'error_key', 'present', [...d.configErrors.values()] as never);
    await this.#upsertInventory(trx, endpointId, 'findings', 'finding_id', 'status', [...d.findings.values()] as never);

    const update: Partial<Database['endpoints']> = { last_seen: receivedAt };
    if (d.host && at) {
      Object.assign(update, {
        hostname: d.host.hostname,
        platform: d.host.platform,
        os_name: d.host.osName ?? null,
        os_release: d.host.osRelease ?? null,
        arch: d.host.arch ?? null,
        last_snapshot_at: at,
      });
    }
    if (d.heartbeat) Object.assign(update, { last_heartbeat_at: d.heartbeat.at, health: JSON.stringify(d.heartbeat.data), agent_version: d.heartbeat.data.version });
    await trx.updateTable('endpoints').set(update).where('endpoint_id', '=', endpointId).execute();
  }

  /**
   * Upserts one endpoint's inventory rows, writing only what changed. Agents report the same
  /** The endpoint's open findings (finding id -> data JSON). */
  async #openFindings(trx: AnyTrx, endpointId: string): Promise<Map<string, string>> {
    const rows = await trx.selectFrom('findings').select(['finding_id', 'data']).where('endpoint_id', '=', endpointId).where('status', '=', 'open').execute();
    return new Map(rows.map((r: { finding_id: string; data: string }) => [r.finding_id, r.data]));
  }

  /**
   * Appends the finding.raised / finding.resolved events a batch's snapshots caused to the event
   * history (ids are deterministic: an id already held is skipped, so projecting a batch again adds
   * nothing twice). Returns those appended now, by the id of the snapshot that caused them.
   */
  async #appendFindingTransitions(trx: AnyTrx, endpointId: string, agentId: string, seq: number, receivedAt: string, transitions: FindingTransition[]): Promise<Map<string, FindingTransition[]>> {
    const out = new Map<string, FindingTransition[]>();
    if (transitions.length === 0) return out;
    const rows = transitions.map((t) => ({ id: t.id, endpoint_id: endpointId, agent_id: agentId, type: t.type, time: t.time, received_at: receivedAt, batch_seq: seq, data: t.dataJson }));
    const inserted = new Set<string>();
    for (const chunk of chunkRows(rows, 8)) {
      const done = await this.#shapes.insert(trx, 'append:events', chunk, (values) =>
        trx.insertInto('events').values(values).onConflict((oc) => oc.column('id').doNothing()).returning('id'),
      );
      for (const r of done) inserted.add((r as { id: string }).id);
    }
    for (const t of transitions) {
      if (!inserted.delete(t.id)) continue;
      const list = out.get(t.snapshotId) ?? [];
      list.push(t);
      out.set(t.snapshotId, list);
    }
    return out;
  }

   * servers, clients and findings again and again (every snapshot, every re-raise); rewriting an
   * unchanged row rewrites every index entry of it (servers: three), which was the largest part of
   * an ingest's inventory cost. So: read the current `data` and state of these keys (one
   * primary-key lookup each), upsert the rows that are new or differ in data or state, and for the
   * unchanged ones only move `last_seen` forward (no indexed column is written).
   * Every other column of these tables is derived from `data` and the state (present / status),
   * so equal data and state mean an equal row.
   */
  async #upsertInventory(trx: AnyTrx, endpointId: string, table: string, keyColumn: string, stateColumn: 'present' | 'status', rows: Array<Record<string, unknown>>): Promise<void> {
    if (rows.length === 0) return;
    const current = new Map<unknown, { data: string; state: unknown; last_seen: string }>();
    for (const chunk of chunkRows(rows, 1)) {
      const keys = chunk.map((r) => r[keyColumn]);
      const found = await this.#shapes.run<{ k: unknown; data: string; state: unknown; last_seen: string }>(trx, `current:${table}:${keys.length}`, [endpointId, ...keys], () =>
        trx
          .selectFrom(table)
          .select([`${keyColumn} as k`, 'data', `${stateColumn} as state`, 'last_seen'])
          .where('endpoint_id', '=', endpointId)
          .where(keyColumn, 'in', keys),
      );
      for (const f of found) current.set(f.k, f);
    }
    const changed: Array<Record<string, unknown>> = [];
    const touch = new Map<string, unknown[]>();
    for (const r of rows) {
      const cur = current.get(r[keyColumn]);
      if (!cur || cur.data !== r.data || String(cur.state) !== String(r[stateColumn])) {
        changed.push(r);
        continue;
      }
      const seen = r.last_seen as string;
      if (cur.last_seen >= seen) continue;
      const keys = touch.get(seen) ?? [];
      keys.push(r[keyColumn]);
      touch.set(seen, keys);
    }
    await upsertRows(this.#shapes, trx, table, ['endpoint_id', keyColumn], changed);
    for (const [seen, keys] of touch) {
      for (const chunk of chunkRows(keys, 1)) {
        await this.#shapes.run(trx, `touch:${table}:${chunk.length}`, [seen, endpointId, ...chunk], () =>
          trx.updateTable(table).set({ last_seen: seen }).where('endpoint_id', '=', endpointId).where(keyColumn, 'in', chunk),
        );
      }
    }
  }

  // ---- outbox ----

  /**
   * Leases up to `limit` events of `sink`, oldest row first. Rows are leased whole; the last one is
   * split when only part of it fits (the rest becomes a new, unleased row). PostgreSQL: rows
   * another collector holds are skipped (FOR UPDATE SKIP LOCKED), so claims are disjoint.
   */
  async claimOutbox(sink: string, limit: number, leaseMs: number, owner: string): Promise<OutboxRow[]> {
    const n = Math.max(1, Math.min(10000, Math.floor(limit)));
    const nowMs = this.#now().getTime();
    const now = new Date(nowMs).toISOString();
    const until = new Date(nowMs + Math.max(0, leaseMs)).toISOString();
    const leased = await this.#run(() =>
      this.db.transaction().execute(async (trx) => {
        // Light columns first (a row's id list can be long), a few rows at a time until `n` events
        // are covered: choose the rows, then read their ids.
        const chosen: Array<Omit<Database['outbox'], 'event_ids'>> = [];
        let after: string | null = null;
        for (let room = n; room > 0; ) {
          let pick = trx
            .selectFrom('outbox')
            .select(['id', 'sink', 'agent_id', 'endpoint_id', 'batch_seq', 'cert_fingerprint', 'event_count', 'attempts', 'created_at', 'available_at', 'lease_owner', 'lease_until', 'last_error'])
            .where('sink', '=', sink)
            .where('available_at', '<=', now)
            .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
            .orderBy('id')
            .limit(CLAIM_SCAN_ROWS);
          if (after !== null) pick = pick.where('id', '>', after);
          if (this.engine === 'postgres') pick = pick.forUpdate().skipLocked();
          const page = await pick.execute();
          for (const r of page) {
            if (room <= 0) break;
            chosen.push(r);
            room -= Number(r.event_count);
          }
          if (page.length < CLAIM_SCAN_ROWS) break;
          after = page[page.length - 1]!.id;
        }
        const idLists = new Map<string, string>();
        for (const chunk of chunkRows(chosen.map((r) => r.id), 1)) {
          for (const r of await trx.selectFrom('outbox').select(['id', 'event_ids']).where('sink', '=', sink).where('id', 'in', chunk).execute()) idLists.set(r.id, r.event_ids);
        }
        const out: Array<{ row: Database['outbox']; ids: string[] }> = [];
        let room = n;
        for (const light of chosen) {
          const row = { ...light, event_ids: idLists.get(light.id) ?? '[]' };
          const ids = parseIds(row.event_ids);
          const take = ids.slice(0, room);
          if (take.length < ids.length) await this.#splitOutboxRow(trx, row, ids, take, {});
          await trx
            .updateTable('outbox')
            .set({ lease_owner: owner, lease_until: until })
            .where('sink', '=', sink)
            .where('id', '=', row.id)
            .execute();
          out.push({ row, ids: take });
          room -= take.length;
        }
        return out;
      }),
    );
    if (leased.length === 0) return [];
    const wanted = leased.flatMap((l) => l.ids);
    const events = await this.#eventsById(wanted);
    // An event that is gone (deleted by hand) cannot be published: drop it rather than loop on it.
    const orphans = wanted.filter((id) => !events.has(id));
    if (orphans.length > 0) await this.completeOutbox(sink, orphans.map((id) => `${id}:${sink}`));
    const out: OutboxRow[] = [];
    for (const { row, ids } of leased) {
      let key = '';
      for (const [pos, id] of ids.entries()) {
        if (id > key) key = id;
        const e = events.get(id);
        if (!e) continue;
        const item: OutboxRow = {
          id: `${id}:${sink}`,
          sink,
          endpointId: row.endpoint_id,
          agentId: row.agent_id,
          batchSeq: Number(row.batch_seq),
          certFingerprint: row.cert_fingerprint,
          event: { v: 1, id: e.id, type: e.type, time: e.time, endpointId: e.endpoint_id, data: JSON.parse(e.data) } as StoredEvent,
          attempts: Number(row.attempts),
          createdAt: row.created_at,
        };
        out.push(item);
        place.set(item, [key, pos]);
      }
    }
    const cmp = (x: string | number, y: string | number): number => (x < y ? -1 : x > y ? 1 : 0);
    out.sort((a, b) => {
      const pa = place.get(a)!;
      const pb = place.get(b)!;
      return cmp(pa[0], pb[0]) || cmp(pa[1], pb[1]) || cmp(a.event.id, b.event.id);
    });
    return out;
  }

  async #eventsById(ids: string[]): Promise<Map<string, Database['events']>> {
    const events = new Map<string, Database['events']>();
    await this.#run(async () => {
      for (const chunk of chunkRows([...new Set(ids)], 1)) {
        for (const e of await this.db.selectFrom('events').selectAll().where('id', 'in', chunk).execute()) events.set(e.id, e);
      }
    });
    return events;
  }

  /**
   * Moves `subset` of `row`'s events (`ids`) into a row of their own with `set` applied; the rest
   * stays in `row` unchanged. The part holding the row's own id keeps the row (ids are unique per
   * sink: an event that names a row is never in another row).
   */
  async #splitOutboxRow(trx: Transaction<Database>, row: Database['outbox'], ids: string[], subset: string[], set: Partial<Database['outbox']>): Promise<void> {
    const inSubset = new Set(subset);
    // Oldest event first, by id; but an event listed after a greater id in its row (a finding event
    // derived from a snapshot: its id shares the snapshot's millisecond, not its order) sorts right
    // after that greater id, so it keeps its place in the batch, before the agent's next event.
    const place = new Map<OutboxRow, [key: string, pos: number]>();
    const rest = ids.filter((id) => !inSubset.has(id));
    const keepSubset = inSubset.has(row.id);
    const stay = keepSubset ? subset : rest;
    const move = keepSubset ? rest : subset;
    await trx
      .updateTable('outbox')
      .set({ event_ids: JSON.stringify(stay), event_count: stay.length, ...(keepSubset ? set : {}) })
      .where('sink', '=', row.sink)
      .where('id', '=', row.id)
      .execute();
    await trx
      .insertInto('outbox')
      .values({ ...row, id: move[0]!, event_ids: JSON.stringify(move), event_count: move.length, ...(keepSubset ? {} : set) })
      .execute();
  }

  /**
   * The outbox rows of `sink` that hold the events named by per-event row ids (`${eventId}:${sink}`),
   * with the ids each holds, found through the batch each event came in.
   */
  async #rowsHolding(trx: Transaction<Database>, sink: string, rowIds: string[]): Promise<Array<{ row: Database['outbox']; ids: string[]; hit: string[] }>> {
    const suffix = `:${sink}`;
    const wanted = new Set(rowIds.map((id) => (id.endsWith(suffix) ? id.slice(0, -suffix.length) : id)));
    const batches = new Map<string, { agent: string; seq: number }>();
    for (const chunk of chunkRows([...wanted], 1)) {
      const found = await trx.selectFrom('events').select(['agent_id', 'batch_seq']).distinct().where('id', 'in', chunk).execute();
      for (const b of found) batches.set(`${b.agent_id}\n${b.batch_seq}`, { agent: b.agent_id, seq: Number(b.batch_seq) });
    }
    const out: Array<{ row: Database['outbox']; ids: string[]; hit: string[] }> = [];
    const seen = new Set<string>();
    const consider = (row: Database['outbox']): void => {
      if (seen.has(row.id)) return;
      seen.add(row.id);
      const ids = parseIds(row.event_ids);
      const hit = ids.filter((id) => wanted.has(id));
      if (hit.length > 0) out.push({ row, ids, hit });
    };
    for (const b of batches.values()) {
      const rows = await trx.selectFrom('outbox').selectAll().where('agent_id', '=', b.agent).where('batch_seq', '=', b.seq).where('sink', '=', sink).execute();
      rows.forEach(consider);
    }
    // Events whose history row is gone (deleted by hand): look them up by row id directly.
    const found = new Set(out.flatMap((o) => o.hit));
    const missing = [...wanted].filter((id) => !found.has(id));
    for (const chunk of chunkRows(missing, 1)) {
      (await trx.selectFrom('outbox').selectAll().where('sink', '=', sink).where('id', 'in', chunk).execute()).forEach(consider);
    }
    return out;
  }

  async completeOutbox(sink: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#run(() =>
      this.db.transaction().execute(async (trx) => {
        for (const { row, ids: held, hit } of await this.#rowsHolding(trx, sink, ids)) {
          const done = new Set(hit);
          const rest = held.filter((id) => !done.has(id));
          if (rest.length === 0) await trx.deleteFrom('outbox').where('sink', '=', sink).where('id', '=', row.id).execute();
          else await trx.updateTable('outbox').set({ event_ids: JSON.stringify(rest), event_count: rest.length }).where('sink', '=', sink).where('id', '=', row.id).execute();
        }
      }),
    );
  }

  async releaseOutbox(sink: string, ids: string[], error: string, retryAfterMs: number): Promise<void> {
    if (ids.length === 0) return;
    const availableAt = new Date(this.#now().getTime() + Math.max(0, retryAfterMs)).toISOString();
    await this.#run(() =>
      this.db.transaction().execute(async (trx) => {
        for (const { row, ids: held, hit } of await this.#rowsHolding(trx, sink, ids)) {
          const set = { lease_owner: null, lease_until: null, available_at: availableAt, last_error: error.slice(0, 2048), attempts: Number(row.attempts) + 1 };
          if (hit.length === held.length) await trx.updateTable('outbox').set(set).where('sink', '=', sink).where('id', '=', row.id).execute();
          else await this.#splitOutboxRow(trx, row, held, hit, set);
        }
      }),
    );
  }

  async outboxDepth(): Promise<Record<string, number>> {
    const rows = await this.#run(() => this.db.selectFrom('outbox').select(['sink', (eb) => eb.fn.sum<string | number>('event_count').as('n')]).groupBy('sink').execute());
    return Object.fromEntries(rows.filter((r) => Number(r.n) > 0).map((r) => [r.sink, Number(r.n)]));
  }

  async pruneEvents(olderThan: Date): Promise<number> {
    const cutoff = olderThan.toISOString();
    return this.#run(async () => {
      // Events still waiting in the outbox are kept until published.
      const res = await this.db
        .deleteFrom('events')
        .where('id', '<', ulidTimePrefix(olderThan.getTime()))
        .where('time', '<', cutoff)
        .where('id', 'not in', () => (this.engine === 'postgres' ? sql`(select jsonb_array_elements_text(event_ids::jsonb) from outbox)` : sql`(select j.value from outbox, json_each(outbox.event_ids) j)`) as never)
        .executeTakeFirst();
      await this.db.deleteFrom('batches').where('received_at', '<', cutoff).execute();
      return Number(res.numDeletedRows);
    });
  }

  // ---- API tokens ----

  async addApiToken(input: { tokenId: string; name: string; tokenHash: string; scope: TokenScope }): Promise<void> {
    await this.#run(() =>
      this.db
        .insertInto('api_tokens')
        .values({ token_id: input.tokenId, name: input.name, token_hash: input.tokenHash, scope: input.scope, created_at: this.#iso(), revoked_at: null, last_used_at: null })
        .execute(),
    );
  }

  async findApiToken(tokenHash: string): Promise<ApiTokenRow | null> {
    return this.#run(async () => {
      const r = await this.db.selectFrom('api_tokens').selectAll().where('token_hash', '=', tokenHash).where('revoked_at', 'is', null).executeTakeFirst();
      if (!r) return null;
      // Record use at most once a minute: a busy API client must not turn reads into writes.
      const nowMs = this.#now().getTime();
      if (r.last_used_at !== null && nowMs - Date.parse(r.last_used_at) < 60_000) return toTokenRow(r);
      const now = new Date(nowMs).toISOString();
      await this.db.updateTable('api_tokens').set({ last_used_at: now }).where('token_id', '=', r.token_id).execute();
      return toTokenRow({ ...r, last_used_at: now });
    });
  }

  async listApiTokens(): Promise<ApiTokenRow[]> {
    const rows = await this.#run(() => this.db.selectFrom('api_tokens').selectAll().orderBy('created_at').orderBy('token_id').execute());
    return rows.map(toTokenRow);
  }

  async revokeApiToken(tokenId: string): Promise<boolean> {
    const res = await this.#run(() =>
      this.db.updateTable('api_tokens').set({ revoked_at: this.#iso() }).where('token_id', '=', tokenId).where('revoked_at', 'is', null).executeTakeFirst(),
    );
    return Number(res.numUpdatedRows) > 0;
  }

  // ---- queries ----

  listEndpoints(filter: EndpointFilter): Promise<Page<EndpointSummary>> {
    return this.#run(() => this.#queries.listEndpoints(filter));
  }
  getEndpoint(endpointId: string, recentEvents = 50): Promise<EndpointDetail | null> {
    return this.#run(() => this.#queries.getEndpoint(endpointId, recentEvents));
  }
  listServers(filter: ServerFilter): Promise<Page<ServerGroup>> {
    return this.#run(() => this.#queries.listServers(filter));
  }
  serverEndpoints(fingerprint: string, page: PageRequest): Promise<Page<ServerEndpoint>> {
    return this.#run(() => this.#queries.serverEndpoints(fingerprint, page));
  }
  listFindings(filter: FindingFilter): Promise<Page<FindingView>> {
    return this.#run(() => this.#queries.listFindings(filter));
  }
  listEvents(filter: EventFilter): Promise<Page<StoredEvent>> {
    return this.#run(() => this.#queries.listEvents(filter));
  }
}
