/**
 * The projector: reads the batch log in order, off the request path, and builds the projections
 * (projection-writer.ts) in transactions of many batches. The log rows a transaction projects have
 * their projection_pending rows deleted in that same transaction, so a crash (kill -9 anywhere)
 * neither loses nor repeats a projection: after a restart the pending rows are simply still there.
 *
 * Where it runs: on the event loop, between requests, in small transactions (SQLite: the store's
 * one connection, bounded by `transactionBudgetMs`: 10 ms while ingest is busy, 20 ms when it is
 * quiet, checked between log rows and before each read of log rows, so one big row (a large
 * snapshot) can still run past it; while ingest is quiet and the event loop has nothing else to
 * do, a transaction goes on in such slices, one turn of the loop between them, up to
 * `extendWhileQuietMs`; PostgreSQL: its own connection, which
 * also holds the advisory locks of the partitions this collector owns, projection-partitions.ts;
 * pending rows are claimed FOR UPDATE SKIP LOCKED). Each transaction is scheduled with
 * setImmediate, so requests that arrived meanwhile are served first, and while ingest is busy
 * (`isIngestHot`) the projector yields altogether: the log absorbs a burst and projection catches
 * up after it, unless the lag reaches `softLagMs` (then projection and ingest alternate, so a
 * sustained load cannot starve it). It runs when ingest commits (kick) and polls otherwise (other
 * collectors append to the same log).
 *
 * A worker thread with its own connection was measured against this (issue 15, npm run
 * bench:collector, SQLite, same run as bare Fastify): ratio 0.11 against 0.55 here. SQLite has
 * one writer: the worker's projection transactions held the write lock while the event loop's
 * ingest BEGIN IMMEDIATE waited in SQLite's busy handler, which sleeps the event loop's thread, so
 * every ack waited behind projection; and on a 2-core machine the worker's CPU came out of the
 * HTTP path's and the senders'. It was deleted.
 *
 * What it reads: each log row's metadata, and its events either from the in-memory hand-off of the
 * batches this process just appended (the events the request path already parsed from the very
 * body the row holds: projection-handoff.ts) or, for anything else (after a restart, another
 * collector's batch, an entry dropped at the hand-off's bound), by decoding the stored body.
 *
 * Failures: a transaction that fails is rolled back whole and retried at the next poll; errors go
 * to `onError` once per failure. Rows are applied without a savepoint each; when the database
 * refuses one, the transaction is rolled back and run again with a savepoint per row, so that row
 * alone is reported and skipped. A stored body that no longer decodes projects as no events
 * (verify-history reports it) rather than blocking its partition forever.
 */
import { gunzipSync } from 'node:zlib';
import { sql, type Kysely } from 'kysely';
import type { McpEvent } from '@mcpwatch/shared';
import { hasNulEscape, replaceNulCharacters } from '../batch-validator.js';
import type { Database } from './db-schema.js';
import type { EventReader } from './event-reader.js';
import type { PartitionOwnership } from './projection-partitions.js';
import { ProjectionHandOff, type AppendedBatch } from './projection-handoff.js';
import { ProjectionWriter, type LogEntry } from './projection-writer.js';
import type { AnyTrx, InsertShapes } from './sql-shapes.js';

/** Log rows read per statement while projecting. */
const LOG_READ_CHUNK = 8;
/**
 * Default transaction budgets on SQLite (ms): while ingest is busy, and when it is quiet. Quiet was
 * 50: a query or heartbeat arriving in a quiet moment waited behind up to 50 ms and more
 * (bench:fleet projector transactions p99 31 / max 59 ms). Measured in-process (200 x 100-event
 * backlog drained with ingest quiet, 4 runs each interleaved with the previous projector, load 4):
 * quiet 20: projection CPU 13.2 -> 13.1 us/event, longest event-loop stretch median 55.5 -> 23.9 ms
 * (max 82.5 -> 43.1); quiet 10 cost 6-42 % more CPU per event (more, smaller transactions, each
 * re-reading a chunk of log rows), so 20 it is.
 */
const SQLITE_HOT_BUDGET_MS = 10;
const SQLITE_QUIET_BUDGET_MS = 20;
/** Default most log rows per transaction (see maxBatchesPerTransaction). */
const SQLITE_MAX_ROWS = 256;
const PG_MAX_ROWS = 64;
/** While yielding to ingest, how often the projector looks again. */
const HOT_RETRY_MS = 10;
/**
 * SQLite, ingest quiet: how long one projection transaction may go on in slices of the quiet
 * budget, with a turn of the event loop between them (ms; see `extendWhileQuietMs`). Commits are a
 * large part of the projection's CPU (each writes every page the transaction dirtied to the WAL;
 * index pages shared by many batches are written once per transaction): projection-capacity,
 * 16 x 25 x 100-event mix, same run, quiet budget 20 -> 200 ms: 26.8 -> 19.7 us CPU/event.
 */
const SQLITE_QUIET_EXTEND_MS = 100;
/**
 * ms without an append (kick) before a transaction may be extended. bench:collector's paced target
 * (SQLite, 25,000 events/s offered, ~10-12k sent on the loaded machine, 2 runs each alternating):
 * lag p95 13.9 / 14.7 s with extension whenever ingest was quiet at the transaction's start (20 ms
 * without an append), 3.3 s without extension; the drain after a burst keeps it.
 */
const QUIET_EXTEND_AFTER_MS = 250;
/**
 * A turn of the event loop that took longer than this (ms) served something (a request, a timer):
 * the transaction then ends at once, so whatever waits for the connection gets it.
 */
const QUIET_TURN_MS = 0.25;

/** One turn of the event loop (I/O callbacks that are due run first). */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface ProjectorOptions {
  engine: 'sqlite' | 'postgres';
  /** The connection it projects on (PostgreSQL: its own, holding the partition locks). */
  db: Kysely<Database>;
  shapes: InsertShapes;
  /** PostgreSQL: partition ownership through advisory locks. SQLite: none (partition 0 only). */
  ownership?: PartitionOwnership;
  /**
   * Most log rows per projection transaction (default: SQLite 256, where the time budget bounds a
   * transaction; PostgreSQL 64, which has no budget). On SQLite small batches (a heartbeat each,
   * the fleet's steady state) made 64 the bound: a commit per 64 rows (projection-capacity,
   * 16 agents x 200 one-heartbeat batches, same run: 84.4 -> 71.9 us CPU per batch with 256).
   */
  maxBatchesPerTransaction?: number;
  /**
   * Most milliseconds of work per projection transaction (at least one log row is applied). SQLite
   * shares one connection with ingest: a long projection transaction would hold every ingest group
   * (and so every ack, query and heartbeat) behind it; a short one lets them alternate. Default on
   * SQLite: 10 while ingest is busy, 20 when it is quiet; none on PostgreSQL (its own connection).
   */
  transactionBudgetMs?: number;
  /**
   * SQLite, while ingest is quiet: once a transaction's budget is spent, it may go on for another
   * budget after one turn of the event loop inside the transaction, when that turn served nothing
   * (took under `quietTurnMs`) and ingest is still quiet, up to this many milliseconds in all
   * (default 100 on SQLite, 0 on PostgreSQL: off). The event loop still turns every budget; what
   * waits is only another user of the connection whose request took less than `quietTurnMs` to
   * reach the store, for at most this long. Fewer, larger transactions: fewer commits.
   */
  extendWhileQuietMs?: number;
  /** See extendWhileQuietMs (default 0.25 ms). */
  quietTurnMs?: number;
  /**
   * A transaction is extended only when no append group committed in this process (kick) for this
   * long when it starts (default 250 ms; see QUIET_EXTEND_AFTER_MS).
   */
  extendAfterQuietMs?: number;
  /** Poll interval when idle (default 250 ms). */
  pollIntervalMs?: number;
  /**
   * Whether ingest is busy now (requests arriving, a group queued or committing). While it is, the
   * projector yields: the log absorbs the burst and projection catches up after it. It runs anyway
   * once the oldest pending row is `softLagMs` old, or it has yielded that long (default 1000 ms),
   * alternating with ingest, so a sustained load cannot starve it.
   */
  isIngestHot?: () => boolean;
  softLagMs?: number;
  /** Most events the in-memory hand-off from ingest holds (projection-handoff.ts; default 50,000; 0: off). */
  handOffMaxEvents?: number;
  /**
   * The store's event reader: each projected batch's events are left in its cache, so the outbox
   * drainer right behind the projector reads them without decompressing the body again.
   */
  reader?: Pick<EventReader, 'remember'>;
  /** PostgreSQL: how often ownership is rebalanced (default 2000 ms). */
  rebalanceIntervalMs?: number;
  onError?: (e: unknown) => void;
  /** Whether an error means "database unreachable" (the transaction is retried, not the row skipped). */
  isUnavailable?: (e: unknown) => boolean;
}

/** A stored body's events and its uncompressed size in bytes; throws when it does not decode. */
export function inflateLogBody(body: Buffer | Uint8Array): { events: McpEvent[]; bytes: number } {
  const inflated = gunzipSync(body);
  const doc = JSON.parse(inflated.toString('utf8')) as { events?: McpEvent[] };
  if (hasNulEscape(inflated)) replaceNulCharacters(doc);
  return { events: Array.isArray(doc.events) ? doc.events : [], bytes: inflated.length };
}

/** Whether any string (value or key) in `value` holds a NUL character. */
function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(holdsNul);
  if (value !== null && typeof value === 'object') {
    for (const k in value) if (k.includes('\u0000') || holdsNul((value as Record<string, unknown>)[k])) return true;
  }
  return false;
}

/**
 * Handed-over events as the log reader would give them: a NUL character is stored as U+FFFD (see
 * replaceNulCharacters). The route has done so already; a caller of the store that did not gets
 * a replaced copy (its own objects are left alone).
 */
function asLogged(events: McpEvent[]): McpEvent[] {
  if (!holdsNul(events)) return events;
  return replaceNulCharacters(JSON.parse(JSON.stringify(events))) as McpEvent[];
}

/** A batch_log row as the projector reads it, with its events (null: not read yet). */
type LogRow = Pick<Database['batch_log'], 'agent_id' | 'endpoint_id' | 'seq' | 'received_at' | 'cert_fingerprint' | 'sinks' | 'tamper'> & {
  log_id: number | string;
  logId: number;
  events: McpEvent[] | null;
  /** The events came from the hand-off. */
  handedOff: boolean;
  /** Uncompressed size of the body. */
  bytes: number;
};

/** A log row the database refused in a transaction without savepoints (#projectOnce). */
class RefusedRow extends Error {
  constructor(cause: unknown) {
    super('a log row was refused; projecting again row by row', { cause });
  }
}

export class Projector {
  readonly #o: ProjectorOptions;
  readonly #writer: ProjectionWriter;
  readonly #max: number;
  #owned: number[];
  #lastRebalanceMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  /** received_at (ms) of the oldest row still pending after the last transaction; null: unknown/none. */
  #oldestPendingMs: number | null = null;
  /** When the projector started yielding to ingest (null: not yielding). */
  #yieldingSinceMs: number | null = null;
  #running: Promise<void> | null = null;
  #kicked = false;
  /** performance.now() of the last kick (an append group committed here); -Infinity: none yet. */
  #lastKickMs = -Infinity;
  #started = false;
  #stopped = false;
  /** One projection transaction at a time per projector. */
  #exclusive: Promise<unknown> = Promise.resolve();
  /** Counters for /metrics. */
  projectedBatches = 0;
  projectedTransactions = 0;
  /** Log rows that could not be projected (reported through onError, then skipped). */
  skippedBatches = 0;
  /** Parsed events ingest handed over (this process's own appends), read instead of the log's bodies. */
  readonly #handOff: ProjectionHandOff;

  constructor(opts: ProjectorOptions) {
    this.#o = opts;
    this.#writer = new ProjectionWriter(opts.shapes);
    this.#max = Math.max(1, opts.maxBatchesPerTransaction ?? (opts.engine === 'sqlite' ? SQLITE_MAX_ROWS : PG_MAX_ROWS));
    this.#owned = opts.ownership ? [] : [0];
    this.#handOff = new ProjectionHandOff(opts.handOffMaxEvents);
  }

  /**
   * Batches this process just committed to the log, with the events the request path parsed from
   * their bodies: projected from these instead of decoding the bodies again, when this projector
   * gets to them while they are held (projection-handoff.ts). Batches of partitions it does not own
   * now are not held (another collector projects them).
   */
  offer(appended: readonly AppendedBatch[]): void {
    for (const b of appended) if (this.#owned.includes(b.partition)) this.#handOff.offer(b);
  }

  /** Batches projected from the hand-off, and dropped from it at its bound (read from the log instead). */
  get handOffCounters(): { hits: number; dropped: number } {
    return { hits: this.#handOff.hits, dropped: this.#handOff.dropped };
  }

  /**
   * received_at (ms) of the oldest log row still pending after the last transaction (null: none, or
   * not known yet): the lag the scheduler weighs against softLagMs.
   */
  get oldestPendingMs(): number | null {
    return this.#oldestPendingMs;
  }

  /** Partitions this projector owns now. */
  get owned(): readonly number[] {
    return this.#owned;
  }

  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#schedule(0);
  }

  /** New log rows were committed: project soon. */
  kick(): void {
    this.#lastKickMs = performance.now();
    if (!this.#started || this.#stopped) return;
    if (this.#running) {
      this.#kicked = true;
      return;
    }
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#timer = this.#immediate = undefined;
    const run = (): void => {
      this.#timer = this.#immediate = undefined;
      if (this.#running) return;
      this.#running = this.#pass().finally(() => {
        this.#running = null;
      });
    };
    // Back to back: setImmediate, so the I/O that arrived meanwhile (requests) is served first.
    if (ms <= 0) this.#immediate = setImmediate(run).unref();
    else this.#timer = setTimeout(run, ms).unref();
  }

  /** Yield to ingest now? Not once the lag (or the time yielded) reached softLagMs. */
  #shouldYield(): boolean {
    if (!this.#o.isIngestHot?.()) {
      this.#yieldingSinceMs = null;
      return false;
    }
    const now = Date.now();
    const soft = this.#o.softLagMs ?? 1000;
    this.#yieldingSinceMs ??= now;
    const overdue = now - this.#yieldingSinceMs >= soft || (this.#oldestPendingMs !== null && now - this.#oldestPendingMs >= soft);
    return !overdue;
  }

  async #pass(): Promise<void> {
    if (this.#shouldYield()) {
      this.#kicked = false;
      this.#schedule(HOT_RETRY_MS);
      return;
    }
    this.#yieldingSinceMs = null;
    let n = 0;
    try {
      n = await this.projectOnce();
    } catch (e) {
      this.#o.onError?.(e);
    }
    const again = n > 0 || this.#kicked;
    this.#kicked = false;
    this.#schedule(again ? 0 : this.#o.pollIntervalMs ?? 250);
  }

  /** One projection transaction (up to maxBatchesPerTransaction log rows); returns rows projected. */
  projectOnce(): Promise<number> {
    const run = this.#exclusive.then(() => this.#projectOnce());
    this.#exclusive = run.catch(() => undefined);
    return run;
  }

  /** Projects until nothing this projector owns is pending. */
  async drain(): Promise<void> {
    for (let i = 0; i < 1_000_000; i++) if ((await this.projectOnce()) === 0) return;
  }

  /**
   * `careful` false: the log rows are applied without a savepoint each (two statements, on
   * PostgreSQL two round trips, per row saved); the first row the database refuses rolls the whole
   * transaction back and it runs again carefully: each row in its own savepoint, a refused one
   * skipped alone and reported.
   */
  async #projectOnce(careful = false): Promise<number> {
    const own = this.#o.ownership;
    if (own && (this.#owned.length === 0 || Date.now() - this.#lastRebalanceMs >= (this.#o.rebalanceIntervalMs ?? 2000))) {
      this.#lastRebalanceMs = Date.now();
      this.#owned = await own.rebalance();
    }
    if (this.#owned.length === 0) return 0;
    const owned = this.#owned;
    const n = await this.#o.db.transaction().execute(async (trx): Promise<number> => {
      // One row past this transaction's share: when the transaction applies all it took, that row's
      // age still tells the scheduler whether projection is behind (#oldestPendingMs).
      let q = trx.selectFrom('projection_pending').select(['partition', 'log_id', 'received_at']).where('partition', 'in', owned).orderBy('log_id').limit(this.#max + 1);
      if (this.#o.engine === 'postgres') q = q.forUpdate().skipLocked();
      const fetched = await q.execute();
      const pending = fetched.slice(0, this.#max);
      if (pending.length === 0) {
        this.#oldestPendingMs = null;
        return 0;
      }
      const ids = pending.map((p) => Number(p.log_id));
      const first = performance.now();
      let started = first;
      // SQLite: the transaction runs on the event loop, which serves nothing else meanwhile; short
      // while ingest is busy (acks wait behind it), a little longer when quiet (fewer commits).
      const hot = this.#o.isIngestHot?.() ?? false;
      const budget = this.#o.transactionBudgetMs ?? (this.#o.engine === 'sqlite' ? (hot ? SQLITE_HOT_BUDGET_MS : SQLITE_QUIET_BUDGET_MS) : Infinity);
      // Extended only in a backlog with no ingest for a while (the drain after a burst): under a
      // steady load, with appends every few ms, it made the paced target's lag worse (see QUIET_EXTEND_AFTER_MS).
      const settled = performance.now() - this.#lastKickMs >= (this.#o.extendAfterQuietMs ?? QUIET_EXTEND_AFTER_MS);
      const extendMs = careful || hot || !settled ? 0 : this.#o.extendWhileQuietMs ?? (this.#o.engine === 'sqlite' ? SQLITE_QUIET_EXTEND_MS : 0);
      const quietTurnMs = this.#o.quietTurnMs ?? QUIET_TURN_MS;
      // Whether to stop here: the budget is spent, and it may not go on (see extendWhileQuietMs).
      const spent = async (): Promise<boolean> => {
        if (performance.now() - started <= budget) return false;
        if (extendMs <= 0 || performance.now() - first >= extendMs || this.#stopped) return true;
        const before = performance.now();
        await nextTurn();
        const now = performance.now();
        if (now - before > quietTurnMs || this.#o.isIngestHot?.() || this.#stopped) return true;
        started = now;
        return false;
      };
      const applied: number[] = [];
      // Fast path: the rows' inventory reads and touches are shared across the transaction
      // (ProjectionWriter.begin); careful: each row on its own, inside its savepoint.
      if (!careful) this.#writer.begin();
      // Log rows are read a few at a time (their bodies are the bulk), until the budget is spent;
      // a spent budget also stops before the next read (it decodes up to LOG_READ_CHUNK bodies).
      outer: for (let i = 0; i < ids.length; i += LOG_READ_CHUNK) {
        if (applied.length > 0 && (await spent())) break;
        const chunk = ids.slice(i, i + LOG_READ_CHUNK);
        const rows = await this.#readLogRows(trx as AnyTrx, chunk);
        const held = new Set(rows.map((r) => r.logId));
        for (const row of rows) {
          if (applied.length > 0 && (await spent())) break outer;
          applied.push(row.logId);
          this.#handOff.forget(row.logId, row.handedOff);
          const entry = this.#entry(row);
          if (entry.events.length > 0) this.#o.reader?.remember(row.logId, entry.events, row.bytes);
          if (!careful) {
            try {
              await this.#writer.apply(trx as AnyTrx, entry);
            } catch (e) {
              if (this.#o.isUnavailable?.(e)) throw e;
              throw new RefusedRow(e);
            }
            continue;
          }
          if (ids.length === 1) {
            await this.#applyOrSkip(trx as AnyTrx, entry, false);
            continue;
          }
          // Each log row in its own savepoint: one that cannot be projected (a row the database
          // refuses) is skipped alone and reported, instead of blocking its partition forever.
          await sql`savepoint mcpw_projection`.execute(trx);
          if (await this.#applyOrSkip(trx as AnyTrx, entry, true)) await sql`release savepoint mcpw_projection`.execute(trx);
          else {
            await sql`rollback to savepoint mcpw_projection`.execute(trx);
            await sql`release savepoint mcpw_projection`.execute(trx);
          }
        }
        // A pending row whose log row is gone (deleted by hand) is dropped as done.
        for (const id of chunk) if (!held.has(id)) applied.push(id);
      }
      if (!careful) {
        // The deferred touches are the rows' effects too: a refusal here is a refused row (careful
        // mode then finds which).
        try {
          await this.#writer.finish(trx as AnyTrx);
        } catch (e) {
          if (this.#o.isUnavailable?.(e)) throw e;
          throw new RefusedRow(e);
        }
      }
      const next = fetched[applied.length];
      this.#oldestPendingMs = next ? Date.parse(next.received_at) : null;
      await trx
        .deleteFrom('projection_pending')
        .where('partition', 'in', [...new Set(pending.map((p) => Number(p.partition)))])
        .where('log_id', 'in', applied)
        .execute();
      return applied.length;
    }).catch((e: unknown) => {
      this.#writer.discard();
      if (e instanceof RefusedRow && !careful) return null;
      throw e;
    });
    if (n === null) return this.#projectOnce(true);
    if (n > 0) {
      this.projectedBatches += n;
      this.projectedTransactions++;
    }
    return n;
  }

  /**
   * Applies `entry`; true when applied. An error that says the database is unreachable fails the
   * transaction (retried later); any other is reported and the row is skipped (false). Without a
   * savepoint (`inSavepoint` false: a one-row transaction) a skipped row's writes are undone by
   * rolling back to a savepoint taken here.
   */
  async #applyOrSkip(trx: AnyTrx, entry: LogEntry, inSavepoint: boolean): Promise<boolean> {
    if (!inSavepoint) await sql`savepoint mcpw_projection`.execute(trx);
    try {
      await this.#writer.apply(trx, entry);
      if (!inSavepoint) await sql`release savepoint mcpw_projection`.execute(trx);
      return true;
    } catch (e) {
      if (this.#o.isUnavailable?.(e)) throw e;
      this.skippedBatches++;
      this.#o.onError?.(new Error(`batch ${entry.agentId}/${entry.seq} cannot be projected and was skipped: ${(e as Error)?.message ?? String(e)}`, { cause: e }));
      if (!inSavepoint) {
        await sql`rollback to savepoint mcpw_projection`.execute(trx);
        await sql`release savepoint mcpw_projection`.execute(trx);
      }
      return false;
    }
  }

  /**
   * The log rows `ids` (in log order), each with its events: handed over by ingest when held
   * (projection-handoff.ts), else decoded from the stored body, which is then the only one read.
   */
  async #readLogRows(trx: AnyTrx, ids: number[]): Promise<LogRow[]> {
    const rows = await trx
      .selectFrom('batch_log')
      .select(['log_id', 'agent_id', 'endpoint_id', 'seq', 'received_at', 'cert_fingerprint', 'sinks', 'tamper'])
      .where('log_id', 'in', ids)
      .orderBy('log_id')
      .execute();
    const out: LogRow[] = [];
    const missing = new Map<number, LogRow>();
    for (const r of rows) {
      const row: LogRow = { ...(r as Omit<LogRow, 'logId' | 'events' | 'handedOff' | 'bytes'>), logId: Number(r.log_id), events: null, handedOff: false, bytes: 0 };
      const handed = this.#handOff.get(row.logId, row.agent_id, Number(row.seq));
      row.events = handed ? asLogged(handed.events) : null;
      row.handedOff = row.events !== null;
      if (handed) row.bytes = handed.bytes;
      if (row.events === null) missing.set(row.logId, row);
      out.push(row);
    }
    if (missing.size > 0) {
      const bodies = await trx.selectFrom('batch_log').select(['log_id', 'body']).where('log_id', 'in', [...missing.keys()]).execute();
      for (const b of bodies) {
        const row = missing.get(Number(b.log_id))!;
        try {
          const decoded = b.body ? inflateLogBody(b.body) : { events: [], bytes: 0 };
          row.events = decoded.events;
          row.bytes = decoded.bytes;
        } catch (e) {
          row.events = [];
          this.#o.onError?.(new Error(`batch ${row.agent_id}/${row.seq}: stored body does not decode; projected without events`, { cause: e }));
        }
      }
    }
    return out;
  }

  #entry(row: LogRow): LogEntry {
    const events = row.events ?? [];
    return {
      logId: row.logId,
      agentId: row.agent_id,
      endpointId: row.endpoint_id,
      seq: Number(row.seq),
      receivedAt: row.received_at,
      certFingerprint: row.cert_fingerprint,
      sinks: row.sinks === '' ? [] : row.sinks.split(','),
      events,
      tamper: row.tamper ? (JSON.parse(row.tamper) as LogEntry['tamper']) : [],
    };
  }

  /** Stops polling and waits for the transaction in flight. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#timer = this.#immediate = undefined;
    await this.#running?.catch(() => undefined);
    await this.#exclusive.catch(() => undefined);
  }
}
