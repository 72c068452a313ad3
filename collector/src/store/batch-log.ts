/**
 * The batch log: the ONLY thing the ingest path writes. A verified batch is appended (its gzip body
 * exactly as sent, its signature, signed timestamp and metadata) with a projection_pending row, and
 * the agent's chain head advances; the caller is answered after COMMIT. Everything else (event
 * index, inventory, findings, outbox) is built from the log by the projector (projector.ts).
 *
 * Idempotency: the same (agent, seq) with the same body hash is a duplicate (same ack); another
 * body under a used seq is a conflict. Gaps and broken chains are recorded on the log row (the
 * projector turns them into collector.seq_gap / collector.chain_broken events).
 *
 * Group commit: batches that arrive while a transaction runs wait; the next transaction takes up
 * to `maxGroup` of them, so the COMMIT is paid once per group. On the file-backed SQLite store a
 * group also waits for a short window after the previous one started (groupWindowMs: 4 ms), so
 * that a steady stream of small batches (heartbeats) shares commits. On SQLite the group's
 * statements run prepared on the connection's own handle (DirectSqliteAppend), elsewhere as SQL
 * Kysely compiled once (sql-shapes.ts). A group runs without savepoints; when a
 * batch throws, it is rolled back whole and runs again with each batch in its own SAVEPOINT (one
 * failing batch fails alone). A failed COMMIT fails every batch of the group (503: agents resend).
 * Within a group, batches run in (agent, seq) order so PostgreSQL row locks (the agent row FOR
 * UPDATE) are always taken in the same order: collectors sharing PostgreSQL cannot deadlock.
 *
 * Durability of an ack: the COMMIT that holds the batch is on disk before the ack. PostgreSQL:
 * synchronous_commit as the server has it (on by default: the WAL is flushed at COMMIT). SQLite
 * (WAL journal): the connection runs synchronous=NORMAL (a commit that survives a crash of the
 * process, kill -9, but not of the machine: the WAL is fsynced only at checkpoints). With `syncWal`
 * (the file-backed store: wal-sync.ts) an append group commits at NORMAL and its batches are
 * answered after an fdatasync of the WAL that started after the COMMIT, run on libuv's thread
 * pool: the event loop serves requests and the next group meanwhile, and groups that committed
 * during one fsync share the next (measured fsync p99 26 ms, max 73 ms on the bench box: at FULL
 * that was a block of the event loop). Without it, each group switches the connection to FULL
 * around its transaction, so its COMMIT fsyncs the WAL on the event loop. Either way one fsync per
 * group at most, not per batch. The projector's and other transactions stay NORMAL: a power loss
 * can undo only the latest of those, whose log rows are then still pending and are projected again.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import { isCanonicalIsoTime } from '../batch-validator.js';
import { Errors } from '../errors.js';
import type { BatchLogTable, Database } from './db-schema.js';
import { canonicalTime } from './projection.js';
import { partitionOf } from './projection-partitions.js';
import type { AppendedBatch } from './projection-handoff.js';
import type { AnyTrx, InsertShapes } from './sql-shapes.js';
import { sqliteHandleOf } from './sqlite-statement-cache.js';
import type { CollectorEvent, IngestInput, IngestResult } from './types.js';

/** How long after an append ingest still counts as busy (the projector yields meanwhile). */
const HOT_WINDOW_MS = 20;
/** The file-backed SQLite store's group window (BatchLogOptions.groupWindowMs). */
const SQLITE_GROUP_WINDOW_MS = 4;

interface PendingIngest {
  input: IngestInput;
  resolve(r: IngestResult): void;
  reject(e: unknown): void;
}

export interface BatchLogOptions {
  engine: 'sqlite' | 'postgres';
  db: Kysely<Database>;
  now: () => Date;
  /** Projection partitions (the log row records its endpoint's partition). */
  partitions: number;
  /**
   * Most batches per ingest transaction (default 64 on SQLite, 16 on PostgreSQL). On SQLite one
   * group runs per turn of the event loop, between projection transactions of up to ~10 ms: 16 a
   * group capped ingest near 1,600 batches/s whatever the CPU left, which is the heartbeat rate of
   * 100,000 agents (bench:fleet showed every group full). 64 heartbeats commit in ~3 ms, 64
   * 100-event batches in ~7 ms.
   */
  maxGroup?: number;
  /** Ingest transactions in flight at once (default: 1 on SQLite, 4 on PostgreSQL). */
  maxConcurrentGroups?: number;
  /**
   * A group that is not full starts no sooner than this after the previous group started (ms;
   * default 4 on SQLite with `syncWal`, else 0: the next turn of the event loop). A group's own
   * costs (BEGIN, the COMMIT's WAL frames, checksums and locks, the file check, the WAL sync's
   * round trip) were most of a heartbeat's append: at 1,000 heartbeats/s groups started on the
   * next turn held ~1.5 batches, and bench:heartbeat measured the collector's main-thread CPU per
   * heartbeat 639 -> 485 us with 4 ms (444 us with 8 ms) at +2 ms ack latency p50 (p99 the same).
   * A lone batch after a quiet moment does not wait (the previous group started long ago).
   */
  groupWindowMs?: number;
  /** Compiled statement text, shared with the store. */
  shapes: InsertShapes;
  /** Maps a database failure to the store's coded errors. */
  classify: (e: unknown) => unknown;
  /**
   * Called after a group committed at least one new batch (the projector's cue), with the batches
   * it committed and their parsed events (the projector's in-memory hand-off, projection-handoff.ts).
   */
  onAppended?: (appended: AppendedBatch[]) => void;
  /**
   * Throws (a coded error) when the store must not be written now, e.g. the SQLite file was
   * replaced; checked once per group before its transaction, which then fails whole.
   */
  assertWritable?: () => void;
  /** SQLite: makes every COMMIT so far durable off the event loop (wal-sync.ts; see header). */
  syncWal?: () => Promise<void>;
  /**
   * SQLite: false runs the append's statements through Kysely even on a connection the store
   * opened (tests compare the two; default: the connection's own prepared statements).
   */
  direct?: boolean;
}

/**
 * The uncompressed size a gzip body declares (its trailer: ISIZE of the last member), at least its
 * own length: sizes the projector's hand-off for callers that do not pass inflatedBytes.
 */
function gzipSize(body: Buffer): number {
  return body.length >= 18 ? Math.max(body.length, body.readUInt32LE(body.length - 4)) : body.length;
}

export class BatchLog {
  readonly #o: BatchLogOptions;
  readonly #queue: PendingIngest[] = [];
  #groupsRunning = 0;
  /** Groups committed and waiting for their WAL sync before answering. */
  #syncing = 0;
  #startScheduled = false;
  readonly #onIdle: Array<() => void> = [];
  readonly #maxGroup: number;
  readonly #maxConcurrent: number;
  /** performance.now() of the last append() call. */
  #lastAppendMs = -Infinity;
  /** performance.now() when the last group started. */
  #lastGroupStartMs = -Infinity;
  readonly #groupWindowMs: number;
  /** The start of the next group, waiting for the group window. */
  #windowTimer: NodeJS.Timeout | null = null;
  /** SQLite: the append's own prepared statements (null: Kysely's; undefined: not looked for yet). */
  #direct: DirectSqliteAppend | null | undefined;

  constructor(opts: BatchLogOptions) {
    this.#o = opts;
    this.#maxGroup = Math.max(1, opts.maxGroup ?? (opts.engine === 'sqlite' ? 64 : 16));
    // SQLite has one writer: one group at a time. PostgreSQL: a few groups on their own connections.
    this.#maxConcurrent = Math.max(1, opts.maxConcurrentGroups ?? (opts.engine === 'sqlite' ? 1 : 4));
    this.#groupWindowMs = Math.max(0, opts.groupWindowMs ?? (opts.engine === 'sqlite' && opts.syncWal ? SQLITE_GROUP_WINDOW_MS : 0));
  }

  /** Appends `input` (group commit; answered after the COMMIT that holds it). */
  append(input: IngestInput): Promise<IngestResult> {
    this.#lastAppendMs = performance.now();
    return new Promise<IngestResult>((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      this.#schedule();
    });
  }

  /** Ingest is busy: a batch queued or committing, or one appended within the last HOT_WINDOW_MS. */
  get hot(): boolean {
    return this.#queue.length > 0 || this.#groupsRunning > 0 || performance.now() - this.#lastAppendMs < HOT_WINDOW_MS;
  }

  #isIdle(): boolean {
    return this.#groupsRunning === 0 && this.#syncing === 0 && this.#queue.length === 0;
  }

  /** Resolves once no batch is queued, in a transaction or waiting for its WAL sync. */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise<void>((resolve) => this.#onIdle.push(resolve));
  }

  #schedule(): void {
    // Start on the next turn of the event loop, not now: better-sqlite3 runs a whole transaction
    // without yielding to I/O, so starting at once would take one batch per group. A group that
    // filled up while it waited for the group window (groupWindowMs) starts now.
    if (this.#startScheduled && (this.#windowTimer === null || this.#queue.length < this.#maxGroup)) return;
    if (this.#windowTimer !== null) clearTimeout(this.#windowTimer);
    this.#windowTimer = null;
    this.#startScheduled = true;
    const start = (): void => {
      this.#startScheduled = false;
      this.#windowTimer = null;
      this.#startNow();
    };
    const waitMs = this.#queue.length < this.#maxGroup ? this.#lastGroupStartMs + this.#groupWindowMs - performance.now() : 0;
    if (waitMs > 0) this.#windowTimer = setTimeout(start, waitMs);
    else setImmediate(start);
  }

  #startNow(): void {
    while (this.#groupsRunning < this.#maxConcurrent && this.#queue.length > 0) {
      const group = this.#queue.splice(0, this.#maxGroup);
      this.#lastGroupStartMs = performance.now();
      this.#groupsRunning++;
      void this.#runGroup(group).finally(() => {
        this.#groupsRunning--;
        if (this.#queue.length > 0) this.#schedule();
        else if (this.#isIdle()) this.#onIdle.splice(0).forEach((resolve) => resolve());
      });
    }
  }

  /**
   * Answers a committed group once its COMMIT is durable: at once when the COMMIT itself synced
   * (FULL) or there is no `syncWal`; else after the WAL sync, without holding the group slot (the
   * next group runs meanwhile). A failed sync fails the group's new batches with a coded 503; they
   * are in the log, so the agents' resends get the same ack as duplicates.
   */
  #answer(group: PendingIngest[], outcomes: Array<{ ok: true; value: IngestResult } | { ok: false; error: unknown }>, appended: AppendedBatch[]): void {
    const settle = (): void => {
      group.forEach((item, i) => {
        const o = outcomes[i]!;
        if (o.ok) item.resolve(o.value);
        else item.reject(o.error);
      });
      if (appended.length > 0) this.#o.onAppended?.(appended);
    };
    const syncWal = this.#o.syncWal;
    if (this.#o.engine !== 'sqlite' || !syncWal || appended.length === 0) {
      settle();
      return;
    }
    this.#syncing++;
    void syncWal()
      .then(settle, (e: unknown) => {
        const error = Errors.storeUnavailable(`write-ahead log not synced: ${(e as Error)?.message ?? String(e)}`, { cause: e });
        group.forEach((item, i) => {
          const o = outcomes[i]!;
          if (o.ok && o.value.status === 'accepted') item.reject(error);
          else if (o.ok) item.resolve(o.value);
          else item.reject(o.error);
        });
        // Committed all the same: the projector projects them (from the hand-off or the log).
        if (appended.length > 0) this.#o.onAppended?.(appended);
      })
      .finally(() => {
        this.#syncing--;
        if (this.#isIdle()) this.#onIdle.splice(0).forEach((resolve) => resolve());
      });
  }

  async #runGroup(group: PendingIngest[]): Promise<void> {
    group.sort((a, b) => (a.input.agent.agentId < b.input.agent.agentId ? -1 : a.input.agent.agentId > b.input.agent.agentId ? 1 : a.input.seq - b.input.seq));
    const outcomes: Array<{ ok: true; value: IngestResult } | { ok: false; error: unknown }> = [];
    const appended: AppendedBatch[] = [];
    // FULL around the transaction only without syncWal (see header).
    const full = this.#o.engine === 'sqlite' && !this.#o.syncWal;
    try {
      this.#o.assertWritable?.();
      // SQLite cannot change the safety level inside a transaction: set around it (see header).
      if (full) await sql`pragma synchronous = full`.execute(this.#o.db);
      // First without savepoints (two statements per batch saved): a batch that throws rolls the
      // whole transaction back, and the group runs again with a savepoint per batch, so that one
      // fails alone. Batches fail after writing only when the database refuses a row.
      try {
        await this.#transaction(group, outcomes, appended, false);
      } catch (e) {
        if (group.length === 1) throw e;
        outcomes.length = 0;
        appended.length = 0;
        await this.#transaction(group, outcomes, appended, true);
      }
    } catch (e) {
      const error = this.#o.classify(e);
      for (const item of group) item.reject(error);
      return;
    } finally {
      if (full) await sql`pragma synchronous = normal`.execute(this.#o.db).catch(() => undefined);
    }
    this.#answer(group, outcomes, appended);
  }

  /** One transaction over `group`; `careful`: each batch in its own savepoint (one failing fails alone). */
  async #transaction(
    group: PendingIngest[],
    outcomes: Array<{ ok: true; value: IngestResult } | { ok: false; error: unknown }>,
    appended: AppendedBatch[],
    careful: boolean,
  ): Promise<void> {
    await this.#inTransaction(async (stmts) => {
      for (const item of group) {
        if (!careful) {
          outcomes.push({ ok: true, value: await this.#append(stmts, item.input, appended) });
          continue;
        }
        await stmts.savepoint();
        const mark = appended.length;
        try {
          outcomes.push({ ok: true, value: await this.#append(stmts, item.input, appended) });
          await stmts.release();
        } catch (e) {
          appended.length = mark;
          await stmts.rollbackToSavepoint();
          await stmts.release();
          outcomes.push({ ok: false, error: this.#o.classify(e) });
        }
      }
    });
  }

  /**
   * Runs `fn` in one transaction: on SQLite with its own prepared statements (DirectSqliteAppend)
   * when the connection is one the store opened, else through Kysely.
   */
  #inTransaction(fn: (stmts: AppendStatements) => Promise<void>): Promise<void> {
    if (this.#direct === undefined) this.#direct = this.#o.engine === 'sqlite' && this.#o.direct !== false ? DirectSqliteAppend.open(this.#o.db) : null;
    const direct = this.#direct;
    if (direct === null) return this.#o.db.transaction().execute((trx) => fn(new KyselyAppend(trx as AnyTrx, this.#o.shapes, this.#o.engine === 'postgres')));
    // The connection is held (Kysely's connection lock) for the whole transaction: the projector's
    // and the queries' statements wait for it as they wait for a Kysely transaction.
    return this.#o.db.connection().execute(() => direct.transaction(fn));
  }

  /** Appends one batch; an accepted one is also pushed to `appended` (reported after COMMIT). */
  async #append(stmts: AppendStatements, input: IngestInput, appended: AppendedBatch[]): Promise<IngestResult> {
    const agentId = input.agent.agentId;
    const endpointId = input.agent.endpointId;
    const agent = await stmts.headAndPrior(agentId, input.seq);
    if (!agent) throw Errors.unknownAgent();
    const priorHash = agent.prior_hash;
    if (priorHash !== null && priorHash !== undefined) return priorHash === input.bodyHash ? { status: 'duplicate', acked: input.seq } : { status: 'conflict', seq: input.seq };

    const receivedAt = canonicalTime(input.receivedAt, this.#o.now().toISOString());
    const lastSeq = Number(agent.last_seq);
    const gap = input.seq > lastSeq + 1;
    const chainBroken = input.seq === lastSeq + 1 && input.prevHash !== agent.last_hash;
    const tamper: Array<{ type: CollectorEvent['type']; data: CollectorEvent['data'] }> = [];
    if (gap) tamper.push({ type: 'collector.seq_gap', data: { agentId, seq: input.seq, expectedSeq: lastSeq + 1 } });
    if (chainBroken) tamper.push({ type: 'collector.chain_broken', data: { agentId, seq: input.seq, expectedPrevHash: agent.last_hash, prevHash: input.prevHash } });

    // First and last event time (an unparseable time counts as the receive time, as the index has
    // it). Canonical ISO strings (what agents send) are compared as strings, in the order of their
    // instants, without a Date.parse per event; any other form is parsed.
    const receivedMs = Date.parse(receivedAt);
    const types = new Set<string>();
    let firstIso: string | null = null;
    let lastIso: string | null = null;
    let firstMs = Infinity;
    let lastMs = -Infinity;
    for (const e of input.events) {
      types.add(e.type);
      const t = e.time;
      if (typeof t === 'string' && isCanonicalIsoTime(t)) {
        if (firstIso === null || t < firstIso) firstIso = t;
        if (lastIso === null || t > lastIso) lastIso = t;
        continue;
      }
      const parsed = Date.parse(t);
      const ms = Number.isFinite(parsed) ? parsed : receivedMs;
      if (ms < firstMs) firstMs = ms;
      if (ms > lastMs) lastMs = ms;
    }
    // The earlier (later) of the canonical strings' extreme and the parsed ones' (ties keep the string).
    const firstIsoMs = firstIso === null ? Infinity : Date.parse(firstIso);
    const lastIsoMs = lastIso === null ? -Infinity : Date.parse(lastIso);
    const first = input.events.length === 0 ? null : firstIsoMs <= firstMs ? firstIso : new Date(firstMs).toISOString();
    const last = input.events.length === 0 ? null : lastIsoMs >= lastMs ? lastIso : new Date(lastMs).toISOString();
    const partition = partitionOf(endpointId, this.#o.partitions);
    const logId = await stmts.insertLog({
      agent_id: agentId,
      seq: input.seq,
      endpoint_id: endpointId,
      partition,
      received_at: receivedAt,
      event_count: input.events.length,
      first_event_at: first,
      last_event_at: last,
      event_types: [...types].sort().join(','),
      prev_hash: input.prevHash,
      body_hash: input.bodyHash,
      cert_fingerprint: input.agent.certFingerprint,
      signature: input.signature,
      signed_at_ms: input.signedAtMs,
      sinks: input.sinks.join(','),
      tamper: tamper.length > 0 ? JSON.stringify(tamper) : null,
      body: input.body,
    });
    await stmts.insertPending(partition, logId, receivedAt);
    appended.push({ logId, agentId, seq: input.seq, partition, events: input.events, bytes: input.inflatedBytes ?? gzipSize(input.body) });

    // A late batch (seq below the last accepted) fills a hole; it does not move the chain head.
    if (input.seq > lastSeq) await stmts.moveHead(input.seq, input.bodyHash, receivedAt, agentId);
    return { status: 'accepted', acked: input.seq, gap, chainBroken };
  }
}

/** The batch_log row of an append (LOG_COLUMNS: the INSERT's column order). */
type LogRow = Omit<BatchLogTable, 'log_id' | 'body'> & { body: Buffer };

/** The agent's chain head, and the body hash of a batch logged under the seq (if any). */
interface HeadAndPrior {
  last_seq: number | string;
  last_hash: string;
  prior_hash: string | null | undefined;
}

/** The statements of an append, inside the transaction that runs them. */
interface AppendStatements {
  headAndPrior(agentId: string, seq: number): Promise<HeadAndPrior | undefined> | HeadAndPrior | undefined;
  /** Inserts the log row; its log_id. */
  insertLog(row: LogRow): Promise<number> | number;
  insertPending(partition: number, logId: number, receivedAt: string): Promise<void> | void;
  moveHead(seq: number, bodyHash: string, receivedAt: string, agentId: string): Promise<void> | void;
  savepoint(): Promise<void> | void;
  release(): Promise<void> | void;
  rollbackToSavepoint(): Promise<void> | void;
}

/** The append's statements through Kysely (PostgreSQL; SQLite on a connection the store did not open). */
class KyselyAppend implements AppendStatements {
  constructor(
    readonly trx: AnyTrx,
    readonly shapes: InsertShapes,
    readonly pg: boolean,
  ) {}

  // Statements run as SQL compiled once (sql-shapes.ts): building and compiling Kysely's query
  // trees for each batch cost more than SQLite's work for them.
  async headAndPrior(agentId: string, seq: number): Promise<HeadAndPrior | undefined> {
    const { trx, shapes } = this;
    // PostgreSQL: FOR UPDATE serializes batches of one agent across collectors sharing the
    // database; then a separate statement on purpose: at READ COMMITTED it takes a fresh snapshot
    // after the agent lock, so it sees a batch a concurrent collector just committed. SQLite (one
    // writer, the transaction began IMMEDIATE): both in one statement, one step less per batch.
    if (this.pg) {
      const [agent] = await shapes.run<{ last_seq: number | string; last_hash: string }>(trx, 'log:agent:true', [agentId], () =>
        trx.selectFrom('agents').select(['last_seq', 'last_hash']).where('agent_id', '=', agentId).forUpdate(),
      );
      if (!agent) return undefined;
      const [prior] = await shapes.run<{ body_hash: string }>(trx, 'log:prior', [agentId, seq], () =>
        trx.selectFrom('batch_log').select('body_hash').where('agent_id', '=', agentId).where('seq', '=', seq),
      );
      return { ...agent, prior_hash: prior?.body_hash };
    }
    const [row] = await shapes.run<HeadAndPrior>(trx, 'log:agent+prior', [agentId, seq, agentId], () => headAndPriorQuery(trx, agentId, seq));
    return row;
  }

  async insertLog(row: LogRow): Promise<number> {
    const { trx } = this;
    const [inserted] = await this.shapes.insert<{ log_id: number | string }>(trx, 'log:append', [row as unknown as Record<string, unknown>], (values) =>
      trx.insertInto('batch_log').values(values).returning('log_id'),
    );
    return Number(inserted!.log_id);
  }

  async insertPending(partition: number, logId: number, receivedAt: string): Promise<void> {
    const { trx } = this;
    await this.shapes.insert(trx, 'log:pending', [{ partition, log_id: logId, received_at: receivedAt }], (values) => trx.insertInto('projection_pending').values(values));
  }

  async moveHead(seq: number, bodyHash: string, receivedAt: string, agentId: string): Promise<void> {
    const { trx } = this;
    await this.shapes.run(trx, 'log:head', [seq, bodyHash, receivedAt, agentId], () => moveHeadQuery(trx, seq, bodyHash, receivedAt, agentId));
  }

  async savepoint(): Promise<void> {
    await sql`savepoint mcpw_batch`.execute(this.trx);
  }

  async release(): Promise<void> {
    await sql`release savepoint mcpw_batch`.execute(this.trx);
  }

  async rollbackToSavepoint(): Promise<void> {
    await sql`rollback to savepoint mcpw_batch`.execute(this.trx);
  }
}

type AnyDb = Kysely<Database> | AnyTrx;

function headAndPriorQuery(db: AnyDb, agentId: string, seq: number) {
  return (db as Kysely<Database>)
    .selectFrom('agents')
    .select((eb) => ['last_seq', 'last_hash', eb.selectFrom('batch_log').select('body_hash').where('agent_id', '=', agentId).where('seq', '=', seq).as('prior_hash')])
    .where('agent_id', '=', agentId);
}

function moveHeadQuery(db: AnyDb, seq: number, bodyHash: string, receivedAt: string, agentId: string) {
  return (db as Kysely<Database>).updateTable('agents').set({ last_seq: seq, last_hash: bodyHash, last_batch_at: receivedAt }).where('agent_id', '=', agentId);
}

/**
 * SQLite, on a connection the store opened (sqlite-connection.ts): the append's statements
 * prepared once on the better-sqlite3 handle and run synchronously, with BEGIN IMMEDIATE / COMMIT
 * of their own, instead of through Kysely's executor, connection provider and a promise per
 * statement. The SQL text is what Kysely compiles for the same queries (the Kysely path's), taken
 * only when Kysely's parameters come out in the order given here.
 */
export class DirectSqliteAppend implements AppendStatements {
  readonly #raw: BetterSqlite3.Database;
  readonly #begin: BetterSqlite3.Statement;
  readonly #commit: BetterSqlite3.Statement;
  readonly #rollback: BetterSqlite3.Statement;
  readonly #savepoint: BetterSqlite3.Statement;
  readonly #release: BetterSqlite3.Statement;
  readonly #rollbackTo: BetterSqlite3.Statement;
  readonly #head: BetterSqlite3.Statement<unknown[], HeadAndPrior>;
  readonly #log: BetterSqlite3.Statement<unknown[], { log_id: number | bigint }>;
  readonly #pending: BetterSqlite3.Statement;
  readonly #moveHead: BetterSqlite3.Statement;

  private constructor(raw: BetterSqlite3.Database, texts: { head: string; log: string; pending: string; moveHead: string }) {
    this.#raw = raw;
    this.#begin = raw.prepare('begin immediate');
    this.#commit = raw.prepare('commit');
    this.#rollback = raw.prepare('rollback');
    this.#savepoint = raw.prepare('savepoint mcpw_batch');
    this.#release = raw.prepare('release savepoint mcpw_batch');
    this.#rollbackTo = raw.prepare('rollback to savepoint mcpw_batch');
    this.#head = raw.prepare(texts.head);
    this.#log = raw.prepare(texts.log);
    this.#pending = raw.prepare(texts.pending);
    this.#moveHead = raw.prepare(texts.moveHead);
  }

  /** The statements on `db`'s better-sqlite3 handle; null when it has none known (then Kysely's path). */
  static open(db: Kysely<Database>): DirectSqliteAppend | null {
    const raw = sqliteHandleOf(db);
    if (!raw) return null;
    const same = (q: { compile(): { sql: string; parameters: readonly unknown[] } }, params: unknown[]): string | null => {
      const c = q.compile();
      return c.parameters.length === params.length && c.parameters.every((p, i) => p === params[i]) ? c.sql : null;
    };
    // Distinct placeholders, to see each column's parameter land in its place.
    const row = Object.fromEntries(LOG_COLUMNS.map((c, i) => [c, `p${i}`])) as never;
    const texts = {
      head: same(headAndPriorQuery(db, 'a', 2), ['a', 2, 'a']),
      log: same(db.insertInto('batch_log').values(row).returning('log_id'), LOG_COLUMNS.map((_, i) => `p${i}`)),
      pending: same(db.insertInto('projection_pending').values({ partition: 1, log_id: 2, received_at: 'r' }), [1, 2, 'r']),
      moveHead: same(moveHeadQuery(db, 1, 'h', 'r', 'a'), [1, 'h', 'r', 'a']),
    };
    if (texts.head === null || texts.log === null || texts.pending === null || texts.moveHead === null) return null;
    return new DirectSqliteAppend(raw, texts as { [K in keyof typeof texts]: string });
  }

  /** Runs `fn` between BEGIN IMMEDIATE and COMMIT; rolled back when it (or the COMMIT) throws. */
  async transaction(fn: (stmts: AppendStatements) => Promise<void>): Promise<void> {
    this.#begin.run();
    try {
      await fn(this);
      this.#commit.run();
    } catch (e) {
      if (this.#raw.inTransaction) this.#rollback.run();
      throw e;
    }
  }

  headAndPrior(agentId: string, seq: number): HeadAndPrior | undefined {
    return this.#head.get(agentId, seq, agentId);
  }

  insertLog(row: LogRow): number {
    return Number(this.#log.get(LOG_COLUMNS.map((c) => row[c]))!.log_id);
  }

  insertPending(partition: number, logId: number, receivedAt: string): void {
    this.#pending.run(partition, logId, receivedAt);
  }

  moveHead(seq: number, bodyHash: string, receivedAt: string, agentId: string): void {
    this.#moveHead.run(seq, bodyHash, receivedAt, agentId);
  }

  savepoint(): void {
    this.#savepoint.run();
  }

  release(): void {
    this.#release.run();
  }

  rollbackToSavepoint(): void {
    this.#rollbackTo.run();
  }
}

const LOG_COLUMNS: ReadonlyArray<keyof LogRow> = [
  'agent_id',
  'seq',
  'endpoint_id',
  'partition',
  'received_at',
  'event_count',
  'first_event_at',
  'last_event_at',
  'event_types',
  'prev_hash',
  'body_hash',
  'cert_fingerprint',
  'signature',
  'signed_at_ms',
  'sinks',
  'tamper',
  'body',
];
