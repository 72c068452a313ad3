/**
 * The outbox, as the drainers use it: lease rows of a sink, complete or release them, depth per
 * sink. Rows are written by the projector (projection-writer.ts): one per sink per batch, up to
 * OUTBOX_ROW_MAX_EVENTS event ids each; their payload is the indexed events.
 *
 * Concurrency: PostgreSQL claims skip rows another collector holds (FOR UPDATE SKIP LOCKED), so
 * claims are disjoint; a lease that ends makes its rows claimable again (at-least-once).
 * Failure contract: the store's (reachability -> MCPW_ERR_STORE_UNAVAILABLE), through `run`.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './db-schema.js';
import type { EventReader } from './event-reader.js';
import { canonicalTime } from './projection.js';
import { chunkRows } from './sql-shapes.js';
import type { OutboxRow, StoredEvent } from './types.js';

/** Outbox rows a claim reads per step while choosing rows (each holds up to OUTBOX_ROW_MAX_EVENTS events). */
const CLAIM_SCAN_ROWS = 16;
/**
 * Most outbox rows one claim transaction leases (and one completion transaction of leased rows
 * completes), and most event ids one completion transaction looks up through the events. On SQLite a transaction runs on the event loop without yielding: a claim of 500
 * one-event rows (heartbeats) was one transaction of ~500 statements (bench:fleet: claim+complete
 * up to 76 ms). A claim or completion of more runs as several transactions with a turn of the
 * event loop between them (requests, ingest groups and the projector run there); leases and
 * deletions are one statement per transaction. Measured, SQLite, claim(500) + complete over 500
 * one-event rows, 5 runs each interleaved with the previous code (load 3): longest stretch without
 * a turn of the event loop median 69-71 ms (max 96-124) -> 7-8 ms (max 13-15); CPU 54-67 -> 40-43 ms.
 */
export const OUTBOX_TX_ROWS = 64;
export const OUTBOX_TX_IDS = 64;
/** Most leased events whose outbox row is noted for their completion (OutboxStore #leasedIn). */
const LEASED_NOTES_MAX = 100_000;
/** Batches (agent, seq) whose log row one statement looks up when loading claimed events. */
const LOG_LOOKUP_CHUNK = 32;
/** Event ids read per statement (and per turn of the event loop) when loading claimed events. */
const EVENT_READ_CHUNK = 256;

/** One turn of the event loop (other I/O callbacks run first). */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));


function parseIds(json: string): string[] {
  const v = JSON.parse(json) as unknown;
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export class OutboxStore {
  readonly db: Kysely<Database>;
  readonly engine: 'sqlite' | 'postgres';
  readonly #now: () => Date;
  readonly #runFn: <T>(fn: () => Promise<T>) => Promise<T>;
  readonly #reader: EventReader;
  /**
   * Which outbox row holds each event this process leased (per-event row id `${eventId}:${sink}` ->
   * the row's id), noted at the claim, so completing them reads those rows directly instead of
   * finding them through the event index and the batch log (#rowsHolding). Only a hint: the row is
   * read again and only the ids it still holds are removed; anything else takes the general path.
   * Entries go at completion or release; bounded (oldest dropped: those then take the general path).
   */
  readonly #leasedIn = new Map<string, string>();

  constructor(opts: { db: Kysely<Database>; engine: 'sqlite' | 'postgres'; now: () => Date; run: <T>(fn: () => Promise<T>) => Promise<T>; reader: EventReader }) {
    this.#reader = opts.reader;
    this.db = opts.db;
    this.engine = opts.engine;
    this.#now = opts.now;
    this.#runFn = opts.run;
  }

  #run<T>(fn: () => Promise<T>): Promise<T> {
    return this.#runFn(fn);
  }


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
    // Transactions of at most OUTBOX_TX_ROWS rows each, a turn of the event loop between them.
    const leased: Array<{ row: Database['outbox']; rowId: string; ids: string[] }> = [];
    let room = n;
    let after: string | null = null;
    for (let first = true; room > 0; first = false) {
      if (!first) await nextTurn();
      const step = await this.#run(() => this.#claimStep(sink, room, after, now, until, owner));
      leased.push(...step.leased);
      for (const l of step.leased) room -= l.ids.length;
      after = step.after;
      if (step.exhausted) break;
    }
    if (leased.length === 0) return [];
    for (const { rowId, ids } of leased) for (const id of ids) this.#noteLeased(`${id}:${sink}`, rowId);
    const wanted = leased.flatMap((l) => l.ids);
    const events = await this.#eventsOf(leased);
    // An event that is gone (deleted by hand) cannot be published: drop it rather than loop on it.
    const orphans = wanted.filter((id) => !events.has(id));
    if (orphans.length > 0) await this.completeOutbox(sink, orphans.map((id) => `${id}:${sink}`));
    const out: OutboxRow[] = [];
    // Oldest event first, by id; but an event listed after a greater id in its row (a finding event
    // derived from a snapshot: its id shares the snapshot's millisecond, not its order) sorts right
    // after that greater id, so it keeps its place in the batch, before the agent's next event.
    const place = new Map<OutboxRow, [key: string, pos: number]>();
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
          event: e,
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

  /**
   * One claim transaction: chooses up to OUTBOX_TX_ROWS claimable rows after `after` (in id order)
   * covering up to `want` events, and leases them. `exhausted`: no claimable row is left after the
   * last one looked at.
   */
  async #claimStep(
    sink: string,
    want: number,
    startAfter: string | null,
    now: string,
    until: string,
    owner: string,
  ): Promise<{ leased: Array<{ row: Database['outbox']; rowId: string; ids: string[] }>; after: string | null; exhausted: boolean }> {
    return this.db.transaction().execute(async (trx) => {
      // Light columns first (a row's id list can be long), a few rows at a time until `want` events
      // are covered: choose the rows, then read their ids.
      // PostgreSQL: the scan page is read without locks and only the rows chosen from it are locked
      // (FOR UPDATE SKIP LOCKED, conditions checked again on the latest version); locking the whole
      // page held up to CLAIM_SCAN_ROWS rows until commit, so a concurrent claim skipped them all and
      // got nothing (drainers took turns instead of splitting the work).
      const light = ['id', 'sink', 'agent_id', 'endpoint_id', 'batch_seq', 'cert_fingerprint', 'event_count', 'attempts', 'created_at', 'available_at', 'lease_owner', 'lease_until', 'last_error'] as const;
      const claimable = () =>
        trx
          .selectFrom('outbox')
          .select(light)
          .where('sink', '=', sink)
          .where('available_at', '<=', now)
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]));
      const chosen: Array<Omit<Database['outbox'], 'event_ids'>> = [];
      let after = startAfter;
      let exhausted = false;
      for (let room = want; room > 0 && chosen.length < OUTBOX_TX_ROWS; ) {
        let pick = claimable().orderBy('id').limit(Math.min(CLAIM_SCAN_ROWS, OUTBOX_TX_ROWS - chosen.length));
        if (after !== null) pick = pick.where('id', '>', after);
        const page = await pick.execute();
        if (page.length === 0) {
          exhausted = true;
          break;
        }
        if (this.engine === 'postgres') {
          // Candidates: page rows until `room` events are covered by the counts just read.
          const candidates: string[] = [];
          let left = room;
          for (const r of page) {
            if (left <= 0) break;
            candidates.push(r.id);
            left -= Number(r.event_count);
          }
          const locked = await claimable().where('id', 'in', candidates).orderBy('id').forUpdate().skipLocked().execute();
          for (const r of locked) {
            if (room <= 0) break;
            chosen.push(r);
            room -= Number(r.event_count);
          }
          after = candidates[candidates.length - 1]!;
          continue;
        }
        for (const r of page) {
          if (room <= 0) break;
          chosen.push(r);
          room -= Number(r.event_count);
          after = r.id;
        }
      }
      const idLists = new Map<string, string>();
      for (const chunk of chunkRows(chosen.map((r) => r.id), 1)) {
        for (const r of await trx.selectFrom('outbox').select(['id', 'event_ids']).where('sink', '=', sink).where('id', 'in', chunk).execute()) idLists.set(r.id, r.event_ids);
      }
      const out: Array<{ row: Database['outbox']; rowId: string; ids: string[] }> = [];
      const whole: string[] = [];
      let room = want;
      for (const light of chosen) {
        const row = { ...light, event_ids: idLists.get(light.id) ?? '[]' };
        const ids = parseIds(row.event_ids);
        const take = ids.slice(0, room);
        // The row that holds `take`, leased below: the row itself, or the part split off for them
        // (a row whose own id was completed before no longer lists it first).
        let rowId = row.id;
        if (take.length < ids.length) {
          rowId = await this.#splitOutboxRow(trx, row, ids, take, {});
          // A split row is the last one: the claim has its `want` events.
          after = row.id;
        }
        whole.push(rowId);
        out.push({ row, rowId, ids: take });
        room -= take.length;
      }
      // One statement leases them all (one per row cost ~30 µs of Kysely and SQLite each).
      for (const chunk of chunkRows(whole, 1)) {
        await trx.updateTable('outbox').set({ lease_owner: owner, lease_until: until }).where('sink', '=', sink).where('id', 'in', chunk).execute();
      }
      return { leased: out, after, exhausted };
    });
  }

  /**
   * The events the leased rows name. An outbox row lists events of the batch (agent, seq) it was
   * written for (projection-writer.ts): the events that batch's log row indexed, which are read
   * from its body (through the reader's cache, which the projector just filled) by id, the first
   * with that id as the index holds it, with the type, canonical time and endpoint the index row
   * has; no look-up in the event index. Anything else (the collector's own events: finding
   * transitions, tamper, tool findings; a batch whose log row or body is gone) is read through the
   * index (#eventsById).
   */
  async #eventsOf(leased: ReadonlyArray<{ row: Database['outbox']; ids: string[] }>): Promise<Map<string, StoredEvent>> {
    const byBatch = new Map<string, { agent: string; seq: number; ids: string[] }>();
    for (const { row, ids } of leased) {
      const key = `${row.agent_id}\n${row.batch_seq}`;
      const b = byBatch.get(key) ?? { agent: row.agent_id, seq: Number(row.batch_seq), ids: [] };
      b.ids.push(...ids);
      byBatch.set(key, b);
    }
    const logs = new Map<string, { logId: number; endpointId: string; receivedAt: string }>();
    const list = [...byBatch.values()];
    for (let i = 0; i < list.length; i += LOG_LOOKUP_CHUNK) {
      const chunk = list.slice(i, i + LOG_LOOKUP_CHUNK);
      const found = await this.#run(() =>
        this.db
          .selectFrom('batch_log')
          .select(['log_id', 'agent_id', 'seq', 'endpoint_id', 'received_at'])
          .where((eb) => eb.or(chunk.map((b) => eb.and([eb('agent_id', '=', b.agent), eb('seq', '=', b.seq)]))))
          .execute(),
      );
      for (const f of found) logs.set(`${f.agent_id}\n${f.seq}`, { logId: Number(f.log_id), endpointId: f.endpoint_id, receivedAt: f.received_at });
    }
    const bodies = await this.#run(() => this.#reader.batches([...logs.values()].map((l) => l.logId)));
    const events = new Map<string, StoredEvent>();
    const rest: string[] = [];
    for (const [key, b] of byBatch) {
      const log = logs.get(key);
      const body = log ? bodies.get(log.logId) : undefined;
      if (!log || !body) {
        rest.push(...b.ids);
        continue;
      }
      const want = new Set(b.ids);
      for (const e of body) {
        if (!want.delete(e.id)) continue;
        events.set(e.id, { v: 1, id: e.id, type: e.type, time: canonicalTime(e.time, log.receivedAt), endpointId: log.endpointId, data: e.data } as StoredEvent);
      }
      rest.push(...want);
    }
    if (rest.length > 0) for (const [id, e] of await this.#eventsById(rest)) events.set(id, e);
    return events;
  }

  /** The events named by `ids`, read through the index and the batch log (event-reader.ts). */
  async #eventsById(ids: string[]): Promise<Map<string, StoredEvent>> {
    const events = new Map<string, StoredEvent>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += EVENT_READ_CHUNK) {
      if (i > 0) await nextTurn();
      const chunk = unique.slice(i, i + EVENT_READ_CHUNK);
      await this.#run(async () => {
        const index = await this.db.selectFrom('events').select(['id', 'type', 'time', 'endpoint_id', 'log_id', 'pos', 'data']).where('id', 'in', chunk).execute();
        for (const e of (await this.#reader.load(index)).events) events.set(e.id, e);
      });
    }
    return events;
  }

  /**
   * Moves `subset` of `row`'s events (`ids`) into a row of their own with `set` applied; the rest
   * stays in `row` unchanged. The part holding the row's own id keeps the row (ids are unique per
   * sink: an event that names a row is never in another row). Returns the id of the row that holds
   * `subset` afterwards.
   */
  async #splitOutboxRow(trx: Transaction<Database>, row: Database['outbox'], ids: string[], subset: string[], set: Partial<Database['outbox']>): Promise<string> {
    const inSubset = new Set(subset);
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
    return keepSubset ? row.id : move[0]!;
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
      // An event the log holds names its batch through log_id; the collector's own events directly.
      const found = await trx
        .selectFrom('events as e')
        .leftJoin('batch_log as b', 'b.log_id', 'e.log_id')
        .select([sql<string | null>`coalesce(e.agent_id, b.agent_id)`.as('agent_id'), sql<number | string | null>`coalesce(e.batch_seq, b.seq)`.as('batch_seq')])
        .distinct()
        .where('e.id', 'in', chunk)
        .execute();
      for (const b of found) if (b.agent_id !== null && b.batch_seq !== null) batches.set(`${b.agent_id}\n${b.batch_seq}`, { agent: b.agent_id, seq: Number(b.batch_seq) });
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

  /**
   * Removes the events named by per-event row ids from the outbox: rows left empty are deleted (one
   * statement per transaction), others keep their remaining ids. Ids this process leased (#leasedIn)
   * are completed through the rows noted at the claim, whole rows at a time, at most
   * OUTBOX_TX_ROWS rows per transaction (each a read of those rows, a delete, an update per row
   * left partly done); any other id (or one its noted row no longer holds) is looked up through the
   * events (#rowsHolding), at most OUTBOX_TX_IDS ids per transaction. A turn of the event loop
   * between transactions; a row split across transactions is simply updated twice.
   */
  async completeOutbox(sink: string, ids: string[]): Promise<void> {
    const suffix = `:${sink}`;
    const byRow = new Map<string, Set<string>>();
    const other: string[] = [];
    for (const id of ids) {
      const rowId = this.#leasedIn.get(id);
      this.#leasedIn.delete(id);
      if (rowId === undefined || !id.endsWith(suffix)) {
        other.push(id);
        continue;
      }
      let set = byRow.get(rowId);
      if (!set) byRow.set(rowId, (set = new Set()));
      set.add(id.slice(0, -suffix.length));
    }
    const rows = [...byRow.keys()];
    let turns = 0;
    for (let i = 0; i < rows.length; i += OUTBOX_TX_ROWS) {
      if (turns++ > 0) await nextTurn();
      const chunk = rows.slice(i, i + OUTBOX_TX_ROWS);
      await this.#run(() =>
        this.db.transaction().execute(async (trx) => {
          const found = await trx.selectFrom('outbox').select(['id', 'event_ids']).where('sink', '=', sink).where('id', 'in', chunk).execute();
          const emptied: string[] = [];
          for (const r of found) {
            const done = byRow.get(r.id)!;
            const held = parseIds(r.event_ids);
            const rest: string[] = [];
            for (const id of held) if (!done.delete(id)) rest.push(id);
            if (rest.length === held.length) continue;
            if (rest.length === 0) emptied.push(r.id);
            else await trx.updateTable('outbox').set({ event_ids: JSON.stringify(rest), event_count: rest.length }).where('sink', '=', sink).where('id', '=', r.id).execute();
          }
          for (const part of chunkRows(emptied, 1)) await trx.deleteFrom('outbox').where('sink', '=', sink).where('id', 'in', part).execute();
        }),
      );
    }
    // Ids their noted row did not hold (moved by a release elsewhere, or already gone): the general path.
    for (const done of byRow.values()) for (const id of done) other.push(`${id}${suffix}`);
    for (let i = 0; i < other.length; i += OUTBOX_TX_IDS) {
      if (turns++ > 0) await nextTurn();
      const chunk = other.slice(i, i + OUTBOX_TX_IDS);
      await this.#run(() =>
        this.db.transaction().execute(async (trx) => {
          const emptied: string[] = [];
          for (const { row, ids: held, hit } of await this.#rowsHolding(trx, sink, chunk)) {
            const done = new Set(hit);
            const rest = held.filter((id) => !done.has(id));
            if (rest.length === 0) emptied.push(row.id);
            else await trx.updateTable('outbox').set({ event_ids: JSON.stringify(rest), event_count: rest.length }).where('sink', '=', sink).where('id', '=', row.id).execute();
          }
          for (const part of chunkRows(emptied, 1)) await trx.deleteFrom('outbox').where('sink', '=', sink).where('id', 'in', part).execute();
        }),
      );
    }
  }

  /** Notes that per-event row id `id` was leased in outbox row `rowId` (see #leasedIn). */
  #noteLeased(id: string, rowId: string): void {
    this.#leasedIn.delete(id);
    this.#leasedIn.set(id, rowId);
    if (this.#leasedIn.size > LEASED_NOTES_MAX) this.#leasedIn.delete(this.#leasedIn.keys().next().value!);
  }

  async releaseOutbox(sink: string, ids: string[], error: string, retryAfterMs: number): Promise<void> {
    if (ids.length === 0) return;
    for (const id of ids) this.#leasedIn.delete(id);
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
}
