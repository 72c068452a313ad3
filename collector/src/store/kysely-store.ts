/**
 * The Store over Kysely: one implementation for SQLite and PostgreSQL, composed of its parts by
 * responsibility: agents, enrollment and API tokens (agent-store.ts), the batch log the ingest
 * path appends to (batch-log.ts), the projector behind it (projector.ts, projection-writer.ts,
 * projection-partitions.ts), the outbox (outbox-store.ts), the queries (inventory-queries.ts,
 * reading events back through event-reader.ts), history verification (history-verifier.ts); the
 * per-engine connections are opened in index.ts and sqlite-connection.ts, failures classified in
 * store-errors.ts. What stays here: lifecycle (migrate, health, close), projection status and
 * retention.
 *
 * Failure contract: a database that cannot be reached rejects with MCPW_ERR_STORE_UNAVAILABLE
 * (503, retryable); anything else is a programming error and propagates.
 *
 * Log-structured: ingestBatch only appends the verified batch to the batch log and answers after
 * COMMIT; the projector builds the event index, the inventory, findings (snapshots reconcile) and
 * the outbox behind it, and projectionStatus() says how far behind it is.
 */
import { sql, type Kysely, Migrator } from 'kysely';
import { Errors } from '../errors.js';
import { AgentStore } from './agent-store.js';
import { classifyStoreError } from './store-errors.js';
import { WalSync } from './wal-sync.js';
import { sqliteHandleOf } from './sqlite-statement-cache.js';
import { BatchLog } from './batch-log.js';
import { EventReader } from './event-reader.js';
import type { Database } from './db-schema.js';
import { inCodeMigrations } from './migrations.js';
import { PartitionOwnership, PG_PARTITIONS } from './projection-partitions.js';
import { Projector } from './projector.js';
import { OutboxStore } from './outbox-store.js';
import { verifyHistory, type HistoryReport, type VerifyHistoryOptions } from './history-verifier.js';
import { InsertShapes } from './sql-shapes.js';
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
   * Most batches committed together by one ingest transaction (group commit; default 64 on SQLite,
   * 16 on PostgreSQL: batch-log.ts). On
   * SQLite the transaction runs on the event loop's thread, so this also bounds how long one
   * group holds HTTP and API requests.
   */
  maxIngestGroup?: number;
  /** Ingest transactions in flight at once (default: 1 on SQLite, 4 on PostgreSQL). */
  maxConcurrentIngestGroups?: number;
  /** SQLite: the database file, whose identity health() and every write check (sqlite-health.ts). */
  sqliteFile?: string;
  /**
   * A read-only store (openReadOnlyStore): an API token's use, due at most once a minute per token,
   * is handed to this (the query listener passes it to the main thread's store, which records it)
   * instead of being written here.
   */
  recordTokenUse?: (tokenHash: string) => void;
}

export { classifyStoreError } from './store-errors.js';
export { OUTBOX_ROW_MAX_EVENTS } from './projection-writer.js';

export class KyselyStore implements Store {
  readonly engine: Engine;
  readonly db: Kysely<Database>;
  /** SQLite: the database file (opened again read-only by the query listener). */
  readonly sqliteFile: string | undefined;
  readonly #pgSchema: string | undefined;
  readonly #now: () => Date;
  readonly #queries: InventoryQueries;
  /** Reads indexed events back from the batch log (queries and the outbox share its cache). */
  readonly #reader: EventReader;
  readonly #beforeClose: (() => Promise<void>) | undefined;
  /** Per store: the SQL text differs by engine. */
  readonly #shapes = new InsertShapes();
  #closed = false;
  /** SQLite: the database file as opened (dev+ino); writes refuse once it is deleted or replaced. */
  readonly #fileIdentity: SqliteFileIdentity | undefined;
  readonly #log: BatchLog;
  /** SQLite file: ack durability by fdatasync of the WAL off the event loop (wal-sync.ts). */
  readonly #walSync: WalSync | undefined;
  readonly #agents: AgentStore;
  readonly #outbox: OutboxStore;
  readonly #projector: Projector;
  readonly #projectorDb: Kysely<Database> | undefined;

  constructor(opts: KyselyStoreOptions) {
    this.engine = opts.engine;
    this.db = opts.db;
    this.sqliteFile = opts.sqliteFile;
    this.agentsMayHaveChanged = opts.engine === 'sqlite' && opts.sqliteFile !== undefined ? this.#agentChangeWatch() : undefined;
    this.#pgSchema = opts.pgSchema;
    this.#now = opts.now ?? (() => new Date());
    this.#reader = new EventReader(this.db);
    this.#queries = new InventoryQueries(this.db, this.#reader, opts.engine);
    this.#beforeClose = opts.beforeClose;
    this.#fileIdentity = opts.sqliteFile ? new SqliteFileIdentity(opts.sqliteFile) : undefined;
    this.#walSync = opts.sqliteFile && opts.engine === 'sqlite' ? new WalSync(`${opts.sqliteFile}-wal`) : undefined;
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
      reader: this.#reader,
      isIngestHot: () => this.#log.hot,
      isUnavailable: (e) => (classifyStoreError(e) as { code?: string })?.code === 'MCPW_ERR_STORE_UNAVAILABLE',
    });
    this.#outbox = new OutboxStore({ db: this.db, engine: opts.engine, now: this.#now, run: (fn) => this.#run(fn), reader: this.#reader });
    this.#agents = new AgentStore({ db: this.db, shapes: this.#shapes, now: this.#now, run: (fn) => this.#run(fn), assertWritable: () => this.#assertFileIntact(), ...(opts.recordTokenUse ? { recordTokenUse: opts.recordTokenUse } : {}) });
    this.#log = new BatchLog({
      engine: opts.engine,
      db: this.db,
      now: this.#now,
      partitions: pg ? PG_PARTITIONS : 1,
      shapes: this.#shapes,
      ...(opts.maxIngestGroup !== undefined ? { maxGroup: opts.maxIngestGroup } : {}),
      ...(opts.maxConcurrentIngestGroups !== undefined ? { maxConcurrentGroups: opts.maxConcurrentIngestGroups } : {}),
      classify: classifyStoreError,
      // Once per append group (two stat calls; per batch they were ~2.5 % of the ingest path's CPU).
      assertWritable: () => this.#assertFileIntact(),
      ...(this.#walSync ? { syncWal: () => this.#walSync!.sync() } : {}),
      onAppended: (appended) => {
        this.#projector.offer(appended);
        this.#projector.kick();
      },
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

  async migrate(): Promise<void> {
    await this.#run(async () => {
      if (this.engine === 'postgres' && this.#pgSchema) {
        await sql`create schema if not exists ${sql.id(this.#pgSchema)}`.execute(this.db).catch(async (e: { code?: string }) => {
          // Two collectors creating the schema at once: the loser sees a unique violation; fine.
          if (e?.code !== '23505') throw e;
        });
      }
      // PostgreSQL: Kysely's migrator, given no schema, takes its tables for present when ANY schema
      // of the database has them (another application's, another collector's) and then fails on the
      // missing lock table. So it is always named: the configured one, else the search_path's.
      let migrationSchema = this.engine === 'postgres' ? this.#pgSchema : undefined;
      if (this.engine === 'postgres' && !migrationSchema) {
        migrationSchema = (await sql<{ s: string | null }>`select current_schema() as s`.execute(this.db)).rows[0]?.s ?? undefined;
      }
      const migrator = new Migrator({
        db: this.db,
        provider: inCodeMigrations(this.engine),
        ...(migrationSchema ? { migrationTableSchema: migrationSchema } : {}),
      });
      // Kysely looks for its tables by listing every table of every schema; a schema another
      // client drops meanwhile makes that listing fail (42P01 / 3F000 on a table or schema that is
      // not ours). Nothing was applied then (the lock is taken after the listing): look again.
      for (let attempt = 1; ; attempt++) {
        const { error } = await migrator.migrateToLatest();
        if (!error) return;
        const code = (error as { code?: string }).code;
        if (this.engine !== 'postgres' || attempt >= 5 || (code !== '42P01' && code !== '3F000')) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
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

  /** PostgreSQL: the schema of the tables (undefined: the connection's search_path). */
  get pgSchema(): string | undefined {
    return this.#pgSchema;
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
    await this.#walSync?.close();
    await this.#projector.stop();
    await this.#projectorDb?.destroy().catch(() => undefined);
    await this.#beforeClose?.().catch(() => undefined);
    await this.db.destroy();
  }

  // ---- agents, enrollment and API tokens (agent-store.ts) ----

  addEnrollSecret(name: string, secretHash: string): Promise<void> {
    return this.#agents.addEnrollSecret(name, secretHash);
  }
  listEnrollSecrets(): Promise<EnrollSecretRow[]> {
    return this.#agents.listEnrollSecrets();
  }
  revokeEnrollSecret(name: string): Promise<boolean> {
    return this.#agents.revokeEnrollSecret(name);
  }
  findEnrollSecret(secretHash: string): Promise<EnrollSecretRow | null> {
    return this.#agents.findEnrollSecret(secretHash);
  }
  enrollAgent(input: EnrollInput): Promise<EnrollOutcome> {
    return this.#agents.enrollAgent(input);
  }
  getAgent(agentId: string): Promise<AgentRow | null> {
    return this.#agents.getAgent(agentId);
  }
  readonly agentsMayHaveChanged: (() => boolean) | undefined;
  /** An agent row changed through this store since agentsMayHaveChanged last answered. */
  #agentsChanged = false;
  /** See Store.agentsMayHaveChanged (data_version: a read-only pragma, run at once, inside an open transaction too). */
  #agentChangeWatch(): () => boolean {
    let last: number | null = null;
    return () => {
      const raw = sqliteHandleOf(this.db);
      const v = raw ? (raw.pragma('data_version', { simple: true }) as number) : null;
      const changed = v === null || (last !== null && v !== last) || this.#agentsChanged;
      last = v;
      this.#agentsChanged = false;
      return changed;
    };
  }
  setAgentRevoked(agentId: string, revoked: boolean): Promise<boolean> {
    // Flagged once the row is written (a check in between would read the old row and keep it).
    return this.#agents.setAgentRevoked(agentId, revoked).finally(() => {
      this.#agentsChanged = true;
    });
  }
  listAgents(filter: { revoked?: boolean; endpointId?: string } = {}): Promise<AgentRow[]> {
    return this.#agents.listAgents(filter);
  }
  addApiToken(input: { tokenId: string; name: string; tokenHash: string; scope: TokenScope }): Promise<void> {
    return this.#agents.addApiToken(input);
  }
  findApiToken(tokenHash: string): Promise<ApiTokenRow | null> {
    return this.#agents.findApiToken(tokenHash);
  }
  listApiTokens(): Promise<ApiTokenRow[]> {
    return this.#agents.listApiTokens();
  }
  revokeApiToken(tokenId: string): Promise<boolean> {
    return this.#agents.revokeApiToken(tokenId);
  }

  // ---- ingest: the batch log (batch-log.ts); projection behind it (projector.ts) ----

  /** Appends a verified batch to the log (group commit); answered after COMMIT. */
  ingestBatch(input: IngestInput): Promise<IngestResult> {
    if (this.#closed) return Promise.reject(Errors.storeUnavailable('store is closed'));
    // The file check runs once per append group (BatchLog assertWritable).
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

  /** Batch-log bodies the event reader decompressed, and reads its cache answered (event-reader.ts). */
  get eventReads(): { decompressed: number; hits: number } {
    return { decompressed: this.#reader.decompressed, hits: this.#reader.hits };
  }

  /** Counters of this collector's projector (handedOff: batches projected from ingest's parsed events, not the log's body). */
  get projectorCounters(): { batches: number; transactions: number; skipped: number; handedOff: number } {
    return { batches: this.#projector.projectedBatches, transactions: this.#projector.projectedTransactions, skipped: this.#projector.skippedBatches, handedOff: this.#projector.handOffCounters.hits };
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
      // The log goes too (its index rows are the events above). A row stays while it is not yet
      // projected, holds events not yet past the cutoff, or the outbox still publishes from it
      // (the index points into it: the events' JSON is only there).
      await this.db
        .deleteFrom('batch_log')
        .where('received_at', '<', cutoff)
        .where((eb) => eb.or([eb('last_event_at', 'is', null), eb('last_event_at', '<', cutoff)]))
        .where('log_id', 'not in', (eb) => eb.selectFrom('projection_pending').select('log_id'))
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('outbox as o').select('o.id').whereRef('o.agent_id', '=', 'batch_log.agent_id').whereRef('o.batch_seq', '=', 'batch_log.seq'))))
        .execute();
      this.#reader.clear();
      return Number(res.numDeletedRows);
    });
  }

  /** Re-verifies the batch log (history-verifier.ts). */
  verifyHistory(opts: VerifyHistoryOptions = {}): Promise<HistoryReport> {
    return this.#run(() => verifyHistory(this.db, opts));
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
