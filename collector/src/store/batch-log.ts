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
 * to `maxGroup` of them, so the COMMIT is paid once per group. It runs without savepoints; when a
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
import { sql, type Kysely } from 'kysely';
import { isCanonicalIsoTime } from '../batch-validator.js';
import { Errors } from '../errors.js';
import type { Database } from './db-schema.js';
import { canonicalTime } from './projection.js';
import { partitionOf } from './projection-partitions.js';
import type { AppendedBatch } from './projection-handoff.js';
import type { AnyTrx, InsertShapes } from './sql-shapes.js';
import type { CollectorEvent, IngestInput, IngestResult } from './types.js';

/** How long after an append ingest still counts as busy (the projector yields meanwhile). */
const HOT_WINDOW_MS = 20;

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

  constructor(opts: BatchLogOptions) {
    this.#o = opts;
    this.#maxGroup = Math.max(1, opts.maxGroup ?? (opts.engine === 'sqlite' ? 64 : 16));
    // SQLite has one writer: one group at a time. PostgreSQL: a few groups on their own connections.
    this.#maxConcurrent = Math.max(1, opts.maxConcurrentGroups ?? (opts.engine === 'sqlite' ? 1 : 4));
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
    // without yielding to I/O, so starting at once would take one batch per group.
    if (this.#startScheduled) return;
    this.#startScheduled = true;
    setImmediate(() => {
      this.#startScheduled = false;
      this.#startNow();
    });
  }

  #startNow(): void {
    while (this.#groupsRunning < this.#maxConcurrent && this.#queue.length > 0) {
      const group = this.#queue.splice(0, this.#maxGroup);
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
    await this.#o.db.transaction().execute(async (trx) => {
      for (const item of group) {
        if (!careful) {
          outcomes.push({ ok: true, value: await this.#append(trx as AnyTrx, item.input, appended) });
          continue;
        }
        await sql`savepoint mcpw_batch`.execute(trx);
        const mark = appended.length;
        try {
          outcomes.push({ ok: true, value: await this.#append(trx as AnyTrx, item.input, appended) });
          await sql`release savepoint mcpw_batch`.execute(trx);
        } catch (e) {
          appended.length = mark;
          await sql`rollback to savepoint mcpw_batch`.execute(trx);
          await sql`release savepoint mcpw_batch`.execute(trx);
          outcomes.push({ ok: false, error: this.#o.classify(e) });
        }
      }
    });
  }

  /** Appends one batch; an accepted one is also pushed to `appended` (reported after COMMIT). */
  async #append(trx: AnyTrx, input: IngestInput, appended: AppendedBatch[]): Promise<IngestResult> {
    const agentId = input.agent.agentId;
    const endpointId = input.agent.endpointId;
    const shapes = this.#o.shapes;
    const pg = this.#o.engine === 'postgres';
    // Statements run as SQL compiled once (sql-shapes.ts): building and compiling Kysely's query
    // trees for each batch cost more than SQLite's work for them.
    // PostgreSQL: FOR UPDATE serializes batches of one agent across collectors sharing the
    // database; then a separate statement on purpose: at READ COMMITTED it takes a fresh snapshot
    // after the agent lock, so it sees a batch a concurrent collector just committed. SQLite (one
    // writer, the transaction began IMMEDIATE): both in one statement, one step less per batch.
    let agent: { last_seq: number | string; last_hash: string } | undefined;
    let priorHash: string | null | undefined;
    if (pg) {
      [agent] = await shapes.run<{ last_seq: number | string; last_hash: string }>(trx, 'log:agent:true', [agentId], () =>
        trx.selectFrom('agents').select(['last_seq', 'last_hash']).where('agent_id', '=', agentId).forUpdate(),
      );
      if (!agent) throw Errors.unknownAgent();
      const [prior] = await shapes.run<{ body_hash: string }>(trx, 'log:prior', [agentId, input.seq], () =>
        trx.selectFrom('batch_log').select('body_hash').where('agent_id', '=', agentId).where('seq', '=', input.seq),
      );
      priorHash = prior?.body_hash;
    } else {
      const [row] = await shapes.run<{ last_seq: number | string; last_hash: string; prior_hash: string | null }>(trx, 'log:agent+prior', [agentId, input.seq, agentId], () =>
        trx
          .selectFrom('agents')
          .select((eb) => ['last_seq', 'last_hash', eb.selectFrom('batch_log').select('body_hash').where('agent_id', '=', agentId).where('seq', '=', input.seq).as('prior_hash')])
          .where('agent_id', '=', agentId),
      );
      if (!row) throw Errors.unknownAgent();
      agent = row;
      priorHash = row.prior_hash;
    }
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
    const [row] = await shapes.insert<{ log_id: number | string }>(
      trx,
      'log:append',
      [
        {
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
        },
      ],
      (values) => trx.insertInto('batch_log').values(values).returning('log_id'),
    );
    const logId = Number(row!.log_id);
    await shapes.insert(trx, 'log:pending', [{ partition, log_id: logId, received_at: receivedAt }], (values) => trx.insertInto('projection_pending').values(values));
    appended.push({ logId, agentId, seq: input.seq, partition, events: input.events, bytes: input.inflatedBytes ?? gzipSize(input.body) });

    // A late batch (seq below the last accepted) fills a hole; it does not move the chain head.
    if (input.seq > lastSeq) {
      await shapes.run(trx, 'log:head', [input.seq, input.bodyHash, receivedAt, agentId], () =>
        trx.updateTable('agents').set({ last_seq: input.seq, last_hash: input.bodyHash, last_batch_at: receivedAt }).where('agent_id', '=', agentId),
      );
    }
    return { status: 'accepted', acked: input.seq, gap, chainBroken };
  }
}
