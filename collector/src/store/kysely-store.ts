/**
 * The Store over Kysely: one implementation for SQLite and PostgreSQL. Engine-specific SQL only
 * where it cannot be avoided: row locks (`FOR UPDATE`, `SKIP LOCKED`) exist on PostgreSQL only;
 * SQLite has a single writer, so the same statements without locks are already exclusive there.
 *
 * Failure contract: a database that cannot be reached (connection refused/reset, pool exhausted,
 * SQLite busy/full/IO error) rejects with MCPW_ERR_STORE_UNAVAILABLE (503, retryable); anything
 * else is a programming error and propagates.
 *
 * Log-structured: ingestBatch only appends the verified batch to the batch log (batch-log.ts) and
 * answers after COMMIT; the projector (projector.ts, projection-writer.ts) builds the event index,
 * the inventory, findings (snapshots reconcile) and the outbox behind it, and projectionStatus()
 * says how far behind it is. Outbox leasing is outbox-store.ts; queries are inventory-queries.ts.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, Migrator } from 'kysely';
import { Errors, isCollectorError } from '../errors.js';
import { BatchLog } from './batch-log.js';
import type { Database } from './db-schema.js';
import { inCodeMigrations } from './migrations.js';
import { PartitionOwnership, PG_PARTITIONS } from './projection-partitions.js';
import { upsertUsers } from './projection-writer.js';
import { Projector } from './projector.js';
import { OutboxStore } from './outbox-store.js';
import { verifyHistory, type HistoryReport, type VerifyHistoryOptions } from './history-verifier.js';
import { InsertShapes, upsertRows, type AnyTrx } from './sql-shapes.js';
import { InventoryQueries, ulidTimePrefix } from './inventory-queries.js';
import { deepCheckSqlite, SqliteFileIdentity, type HealthResult } from './sqlite-health.js';
import type {
  AgentRow,
  ApiTokenRow,
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
  ProjectionStatus,
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
   * PostgreSQL: the projector's own connection (a pool of one, never recycled while idle): it
   * holds the partition advisory locks. Closed by close(). SQLite: the projector uses `db`.
   */
  projectorDb?: Kysely<Database>;
  /** Most log rows per projection transaction (default 64). */
  maxProjectionBatch?: number;
  /** Projector poll interval when idle (default 250 ms). */
  projectorPollMs?: number;
  /** Background projector errors (default: none reported). */
  onProjectorError?: (e: unknown) => void;
  /**
   * Most batches committed together by one ingest transaction (group commit; default 16). On
   * SQLite the transaction runs on the event loop's thread, so this also bounds how long one
   * group holds HTTP and API requests.
   */
  maxIngestGroup?: number;
  /** Ingest transactions in flight at once (default: 1 on SQLite, 4 on PostgreSQL). */
  maxConcurrentIngestGroups?: number;
  /** SQLite: the database file, whose identity health() and every write check (sqlite-health.ts). */
  sqliteFile?: string;
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

export { OUTBOX_ROW_MAX_EVENTS } from './projection-writer.js';

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
  /** Per store: the SQL text differs by engine. */
  readonly #shapes = new InsertShapes();
  #closed = false;
  /** SQLite: the database file as opened (dev+ino); writes refuse once it is deleted or replaced. */
  readonly #fileIdentity: SqliteFileIdentity | undefined;
  readonly #log: BatchLog;
  readonly #outbox: OutboxStore;
  readonly #projector: Projector;
  readonly #projectorDb: Kysely<Database> | undefined;

  constructor(opts: KyselyStoreOptions) {
    this.engine = opts.engine;
    this.db = opts.db;
    this.#pgSchema = opts.pgSchema;
    this.#now = opts.now ?? (() => new Date());
    this.#queries = new InventoryQueries(this.db);
    this.#beforeClose = opts.beforeClose;
    this.#fileIdentity = opts.sqliteFile ? new SqliteFileIdentity(opts.sqliteFile) : undefined;
    const pg = opts.engine === 'postgres';
    this.#projectorDb = pg ? opts.projectorDb : undefined;
    const projectorDb = this.#projectorDb ?? this.db;
    this.#projector = new Projector({
      engine: opts.engine,
      db: projectorDb,
      shapes: this.#projectorDb ? new InsertShapes() : this.#shapes,
      ...(pg ? { ownership: new PartitionOwnership(projectorDb, opts.pgSchema ?? 'public', PG_PARTITIONS) } : {}),
      ...(opts.maxProjectionBatch !== undefined ? { maxBatchesPerTransaction: opts.maxProjectionBatch } : {}),
      ...(opts.projectorPollMs !== undefined ? { pollIntervalMs: opts.projectorPollMs } : {}),
      ...(opts.onProjectorError ? { onError: opts.onProjectorError } : {}),
      isUnavailable: (e) => (classifyStoreError(e) as { code?: string })?.code === 'MCPW_ERR_STORE_UNAVAILABLE',
    });
    this.#outbox = new OutboxStore({ db: this.db, engine: opts.engine, now: this.#now, run: (fn) => this.#run(fn) });
    this.#log = new BatchLog({
      engine: opts.engine,
      db: this.db,
      now: this.#now,
      partitions: pg ? PG_PARTITIONS : 1,
      ...(opts.maxIngestGroup !== undefined ? { maxGroup: opts.maxIngestGroup } : {}),
      ...(opts.maxConcurrentIngestGroups !== undefined ? { maxConcurrentGroups: opts.maxConcurrentIngestGroups } : {}),
      classify: classifyStoreError,
      onAppended: () => this.#projector.kick(),
    });
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
    await this.#log.idle();
    await this.#projector.stop();
    await this.#projectorDb?.destroy().catch(() => undefined);
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
        await upsertUsers(this.#shapes, trx as AnyTrx, endpointId, host.users, now);
        return { agentId: input.agentId, endpointId, flaggedDuplicate: duplicateOf !== null };
      }),
    );
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

  // ---- ingest: the batch log (batch-log.ts); projection behind it (projector.ts) ----

  /** Appends a verified batch to the log (group commit); answered after COMMIT. */
  ingestBatch(input: IngestInput): Promise<IngestResult> {
    if (this.#closed) return Promise.reject(Errors.storeUnavailable('store is closed'));
    try {
      this.#assertFileIntact();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#log.append(input);
  }

  /** Starts projecting the log in the background (createStore does, unless told not to). */
  startProjector(): void {
    if (!this.#closed) this.#projector.start();
  }

  /**
   * Resolves when nothing logged so far is pending projection (any collector's partitions), helping
   * with this collector's own; rejects after `timeoutMs` (tests, benchmarks).
   */
  async awaitProjection(timeoutMs = 60_000): Promise<void> {
    await this.#log.idle();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.#run(() => this.#projector.drain());
      if ((await this.projectionStatus()).lagBatches === 0) return;
      if (Date.now() > deadline) throw Errors.storeUnavailable(`projection did not catch up within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Partitions this collector's projector owns (PostgreSQL; SQLite: [0]). */
  get ownedPartitions(): readonly number[] {
    return this.#projector.owned;
  }

  /** Counters of this collector's projector. */
  get projectorCounters(): { batches: number; transactions: number; skipped: number } {
    return { batches: this.#projector.projectedBatches, transactions: this.#projector.projectedTransactions, skipped: this.#projector.skippedBatches };
  }

  /**
   * How far the projections lag behind the log: pending log rows, the age of the oldest, and the
   * time the projections are complete up to (every batch received before it is projected).
   */
  async projectionStatus(): Promise<ProjectionStatus> {
    const nowMs = this.#now().getTime();
    const r = await this.#run(() =>
      this.db.selectFrom('projection_pending').select([(eb) => eb.fn.countAll<string | number>().as('n'), (eb) => eb.fn.min<string | null>('received_at').as('oldest')]).executeTakeFirst(),
    );
    const oldest = r?.oldest ?? null;
    const lagMs = oldest ? Math.max(0, nowMs - Date.parse(oldest)) : 0;
    return { lagBatches: Number(r?.n ?? 0), lagSeconds: lagMs / 1000, completeUpTo: oldest ?? new Date(nowMs).toISOString() };
  }

  // ---- outbox (outbox-store.ts) ----

  claimOutbox(sink: string, limit: number, leaseMs: number, owner: string): Promise<OutboxRow[]> {
    return this.#outbox.claimOutbox(sink, limit, leaseMs, owner);
  }
  completeOutbox(sink: string, ids: string[]): Promise<void> {
    return this.#outbox.completeOutbox(sink, ids);
  }
  releaseOutbox(sink: string, ids: string[], error: string, retryAfterMs: number): Promise<void> {
    return this.#outbox.releaseOutbox(sink, ids, error, retryAfterMs);
  }
  outboxDepth(): Promise<Record<string, number>> {
    return this.#outbox.outboxDepth();
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
      // The log goes too (its index rows are the events above); a row not yet projected stays.
      await this.db
        .deleteFrom('batch_log')
        .where('received_at', '<', cutoff)
        .where('log_id', 'not in', (eb) => eb.selectFrom('projection_pending').select('log_id'))
        .execute();
      return Number(res.numDeletedRows);
    });
  }

  /** Re-verifies the batch log (history-verifier.ts). */
  verifyHistory(opts: VerifyHistoryOptions = {}): Promise<HistoryReport> {
    return this.#run(() => verifyHistory(this.db, opts));
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
