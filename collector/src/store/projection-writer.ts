/**
 * Applies ONE batch-log row to the projections, inside the projector's transaction: the event index
 * (the batch's events as pointers into the log, the collector's tamper events, the finding.raised / finding.resolved events
 * its snapshots cause), the current inventory (only rows that change), findings state and one
 * outbox row per sink (per OUTBOX_ROW_MAX_EVENTS events).
 *
 * Contract: deterministic given the database state; an event id already held is skipped
 * everywhere (an event re-sent under another seq is indexed, reconciled and published once).
 * Throws what the database throws; the caller's transaction is then rolled back whole.
 */
import { newEventId, type McpEvent } from '@mcpwatch/shared';
import type { Database, PresenceTable } from './db-schema.js';
import { PRESENCE_TABLES } from './db-schema.js';
import { canonicalTime, projectBatch, type FindingTransition, type ProjectionDelta } from './projection.js';
import { sinkWantsEvent } from './sink-routing.js';
import { COLLECTOR_RULE_IDS, projectToolEvents } from '../tools/tool-projection.js';
import { markToolCallEndpoint } from '../tool-calls/tool-call-findings.js';
import { chunkRows, upsertRows, type AnyTrx, type InsertShapes } from './sql-shapes.js';
import type { CollectorEvent } from './types.js';

/** Most event ids one outbox row holds (a bigger batch gets several rows per sink). */
export const OUTBOX_ROW_MAX_EVENTS = 100;

/** What the projector knows of a log row (its body already decoded). */
export interface LogEntry {
  /** The batch_log row. */
  logId: number;
  agentId: string;
  endpointId: string;
  seq: number;
  receivedAt: string;
  certFingerprint: string;
  sinks: string[];
  events: McpEvent[];
  tamper: Array<{ type: CollectorEvent['type']; data: CollectorEvent['data'] }>;
}

/** Upserts an endpoint's users as present (enrollment and snapshots). */
export async function upsertUsers(shapes: InsertShapes, trx: AnyTrx, endpointId: string, users: readonly string[], at: string): Promise<void> {
  const unique = [...new Set(users)];
  await upsertRows(shapes, trx, 'endpoint_users', ['endpoint_id', 'user_name'], unique.map((u) => ({ endpoint_id: endpointId, user_name: u, first_seen: at, last_seen: at, present: 1 })));
}

/** The key column (after endpoint_id) of each presence table. */
const PRESENCE_KEYS: Record<PresenceTable, string> = { servers: 'server_key', clients: 'client_key', processes: 'process_key', sockets: 'socket_key', config_errors: 'error_key' };

/** An inventory row as a projection transaction knows it: its data, state and last_seen now. */
interface KnownRow {
  data: string;
  state: unknown;
  last_seen: string;
}

/** A deferred move of one row's last_seen (see ProjectionWriter.begin). */
interface Touch {
  table: string;
  keyColumn: string;
  endpointId: string;
  key: unknown;
  seen: string;
}

/** Per table, per endpoint, per row key (nested maps: no composite key string built per row). */
type ByRow<T> = Map<string, Map<string, Map<unknown, T>>>;

/**
 * What one projection transaction has learnt of inventory rows: each row it read or wrote, as it
 * is in the transaction (pending touches included), and the last_seen moves not written yet.
 */
interface TxState {
  known: ByRow<KnownRow>;
  touches: ByRow<Touch>;
}

/** The rows of `table` and `endpointId` in `by` (made when missing). */
function rowsOf<T>(by: ByRow<T>, table: string, endpointId: string): Map<unknown, T> {
  let endpoints = by.get(table);
  if (!endpoints) by.set(table, (endpoints = new Map()));
  let rows = endpoints.get(endpointId);
  if (!rows) endpoints.set(endpointId, (rows = new Map()));
  return rows;
}

export class ProjectionWriter {
  #tx: TxState | null = null;

  constructor(private readonly shapes: InsertShapes) {}

  /**
   * Starts a transaction of several apply() calls: the inventory rows they read or write are
   * remembered, so a later batch of the same endpoint reads no row the transaction already knows,
   * and the moves of last_seen on unchanged rows (touches) are written once per row at finish(),
   * with the latest time, instead of once per batch. finish() must run in the same transaction,
   * before its commit (it is part of the projection's effects); after a rollback, discard().
   * Without begin(), each apply() is a transaction of its own in this sense.
   */
  begin(): void {
    this.#tx = { known: new Map(), touches: new Map() };
  }

  /** Writes the deferred touches (see begin). */
  async finish(trx: AnyTrx): Promise<void> {
    const tx = this.#tx;
    this.#tx = null;
    if (tx) await this.#flushTouches(trx, tx, () => true);
  }

  /** Forgets what begin() started (the transaction was rolled back). */
  discard(): void {
    this.#tx = null;
  }

  /** Projects one log entry (see the file header). */
  async apply(trx: AnyTrx, entry: LogEntry): Promise<void> {
    if (this.#tx) return this.#apply(trx, entry, this.#tx);
    const tx: TxState = { known: new Map(), touches: new Map() };
    await this.#apply(trx, entry, tx);
    await this.#flushTouches(trx, tx, () => true);
  }

  /** Writes the touches `which` selects, grouped into one UPDATE per table, endpoint and time. */
  async #flushTouches(trx: AnyTrx, tx: TxState, which: (t: Touch) => boolean): Promise<void> {
    const groups: Array<{ t: Touch; keys: unknown[] }> = [];
    for (const endpoints of tx.touches.values()) {
      for (const rows of endpoints.values()) {
        const bySeen = new Map<string, { t: Touch; keys: unknown[] }>();
        for (const [k, t] of rows) {
          if (!which(t)) continue;
          rows.delete(k);
          const group = bySeen.get(t.seen);
          if (group) group.keys.push(t.key);
          else bySeen.set(t.seen, { t, keys: [t.key] });
        }
        groups.push(...bySeen.values());
      }
    }
    for (const { t, keys } of groups) {
      for (const chunk of chunkRows(keys, 1)) {
        await this.shapes.run(trx, `touch:${t.table}:${chunk.length}`, [t.seen, t.endpointId, ...chunk], () =>
          trx.updateTable(t.table).set({ last_seen: t.seen }).where('endpoint_id', '=', t.endpointId).where(t.keyColumn, 'in', chunk),
        );
      }
    }
  }

  async #apply(trx: AnyTrx, entry: LogEntry, tx: TxState): Promise<void> {
    const { agentId, endpointId, seq, receivedAt } = entry;
    // Index the events: id, endpoint, type, time -> (log row, position). Their JSON stays in the
    // log; an id already held (re-sent under another seq) is skipped everywhere below.
    const times = new Map<McpEvent, string>();
    const eventRows = entry.events.map((e, pos) => {
      const time = canonicalTime(e.time, receivedAt);
      times.set(e, time);
      return { id: e.id, endpoint_id: endpointId, type: e.type, time, log_id: entry.logId, pos };
    });
    // No RETURNING (on SQLite it cost a quarter of the insert): the count says whether every row
    // went in, which is the rule.
    let insertedCount = 0;
    for (const chunk of chunkRows(eventRows, 6)) {
      insertedCount += await this.shapes.insertCount(trx, 'index:events', chunk, (values) => trx.insertInto('events').values(values).onConflict((oc) => oc.column('id').doNothing()));
    }
    // Inserted now, each id once (an event repeated inside the batch counts once): when not every
    // row went in, those that did are the rows pointing at this log row and position.
    const fresh = insertedCount === entry.events.length ? entry.events : await this.#indexedHere(trx, entry);

    const tamper: CollectorEvent[] = entry.tamper.map((t) => ({ v: 1, id: newEventId(Date.parse(receivedAt)), type: t.type, time: receivedAt, endpointId, data: t.data }));
    if (tamper.length > 0) {
      await trx
        .insertInto('events')
        .values(tamper.map((e) => ({ id: e.id, endpoint_id: endpointId, agent_id: agentId, type: e.type, time: e.time, received_at: receivedAt, batch_seq: seq, log_id: entry.logId, data: JSON.stringify(e.data) })))
        .execute();
    }

    // A snapshot reconciles the endpoint's findings against those open now (read only then).
    const openFindings = fresh.some((e) => e.type === 'inventory.snapshot') ? await this.#openFindings(trx, endpointId) : undefined;
    const delta = projectBatch(endpointId, fresh, receivedAt, { dataJson: (e) => JSON.stringify(e.data), time: (e) => times.get(e)! }, openFindings);
    const derived = await this.#appendFindingTransitions(trx, endpointId, agentId, seq, entry.logId, receivedAt, delta.findingTransitions);
    await this.#applyInventory(trx, endpointId, delta, receivedAt, tx);
    // Tool projection (tools/tool-projection.ts, issue 12): endpoint_tools from tool.* events, and
    // the collector's tool-fleet-divergence findings (their events and outbox rows) they cause.
    // It writes findings rows of any endpoint: before it, the findings touches are written and
    // what the transaction knows of findings is forgotten.
    if (fresh.some((e) => e.type.startsWith('tool.') || e.type.startsWith('mcp-listener.'))) {
      await this.#flushTouches(trx, tx, (t) => t.table === 'findings');
      tx.known.delete('findings');
    }
    await projectToolEvents(trx, entry, fresh);
    // Tool calls (tool-calls/tool-call-findings.ts, issue 13): the endpoint is marked for its analytics findings.
    await markToolCallEndpoint(trx, endpointId, fresh, receivedAt);

    // One outbox row per sink (per OUTBOX_ROW_MAX_EVENTS events), holding the ids of the events
    // that sink wants; the payload is the indexed events themselves. The finding events derived
    // from a snapshot follow it, so every sink gets a snapshot's findings the same way: as them.
    const outbox = [];
    for (const sink of entry.sinks) {
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
          batch_seq: seq,
          cert_fingerprint: entry.certFingerprint,
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
      await this.shapes.insert(trx, 'append:outbox', chunk, (values) => trx.insertInto('outbox').values(values as never).onConflict((oc) => oc.columns(['sink', 'id']).doNothing()));
    }
  }

  /** The events of `entry` whose index row is its own (log row and position), in batch order. */
  async #indexedHere(trx: AnyTrx, entry: LogEntry): Promise<McpEvent[]> {
    const positions = new Set<number>();
    for (const ids of chunkRows(entry.events.map((e) => e.id), 1)) {
      const rows = await trx.selectFrom('events').select('pos').where('id', 'in', ids).where('log_id', '=', entry.logId).execute();
      for (const r of rows) positions.add(Number(r.pos));
    }
    return entry.events.filter((_, pos) => positions.has(pos));
  }

  /** The endpoint's open findings (finding id -> data JSON). */
  async #openFindings(trx: AnyTrx, endpointId: string): Promise<Map<string, string>> {
    // The collector's own findings (tool-fleet-divergence) are not the agent's to reconcile.
    const rows = await trx.selectFrom('findings').select(['finding_id', 'data']).where('endpoint_id', '=', endpointId).where('status', '=', 'open').where('rule_id', 'not in', COLLECTOR_RULE_IDS).execute();
    return new Map(rows.map((r: { finding_id: string; data: string }) => [r.finding_id, r.data]));
  }

  /**
   * Appends the finding.raised / finding.resolved events a batch's snapshots caused to the event
   * index (ids are deterministic: an id already held is skipped, so projecting a batch again adds
   * nothing twice). Returns those appended now, by the id of the snapshot that caused them.
   */
  async #appendFindingTransitions(trx: AnyTrx, endpointId: string, agentId: string, seq: number, logId: number, receivedAt: string, transitions: FindingTransition[]): Promise<Map<string, FindingTransition[]>> {
    const out = new Map<string, FindingTransition[]>();
    if (transitions.length === 0) return out;
    const rows = transitions.map((t) => ({ id: t.id, endpoint_id: endpointId, agent_id: agentId, type: t.type, time: t.time, received_at: receivedAt, batch_seq: seq, log_id: logId, data: t.dataJson }));
    const inserted = new Set<string>();
    for (const chunk of chunkRows(rows, 9)) {
      const done = await this.shapes.insert(trx, 'append:events', chunk, (values) =>
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

  async #applyInventory(trx: AnyTrx, endpointId: string, d: ProjectionDelta, receivedAt: string, tx: TxState): Promise<void> {
    const at = d.snapshotAt;
    if (d.reset && at) {
      // The reset changes the state of this endpoint's rows: what the transaction knows of them is
      // forgotten (its pending touches stay: a reset writes no last_seen, so their order does not matter).
      // Only the rows the snapshot does not list go: a listed row keeps its state here and is
      // upserted below (unchanged: only its last_seen moves). Flipping every row off and on again
      // rewrote each one and its index entries, and the server_name_groups triggers (migration
      // 0018) twice, on every snapshot.
      for (const endpoints of tx.known.values()) endpoints.delete(endpointId);
      const listed: Record<PresenceTable, Map<string, Record<string, unknown>>> = { servers: d.servers, clients: d.clients, processes: d.processes, sockets: d.sockets, config_errors: d.configErrors } as never;
      for (const table of PRESENCE_TABLES) {
        const keyColumn = PRESENCE_KEYS[table];
        const kept = new Set([...listed[table].values()].map((r) => r[keyColumn]));
        const rows: Array<{ k: unknown }> = await trx.selectFrom(table).select(`${keyColumn} as k`).where('endpoint_id', '=', endpointId).where('present', '=', 1).execute();
        const gone = rows.map((r) => r.k).filter((k) => !kept.has(k));
        for (const keys of chunkRows(gone, 1)) {
          await trx.updateTable(table as PresenceTable).set({ present: 0, removed_at: at }).where('endpoint_id', '=', endpointId).where(keyColumn, 'in', keys).execute();
        }
      }
      const keptFindings = new Set([...d.findings.values()].map((r) => r.finding_id));
      const open: Array<{ finding_id: string }> = await trx.selectFrom('findings').select('finding_id').where('endpoint_id', '=', endpointId).where('status', '=', 'open').where('rule_id', 'not in', COLLECTOR_RULE_IDS).execute();
      const resolved = open.map((r) => r.finding_id).filter((id) => !keptFindings.has(id));
      for (const ids of chunkRows(resolved, 1)) {
        await trx.updateTable('findings').set({ status: 'resolved', resolved_at: at }).where('endpoint_id', '=', endpointId).where('finding_id', 'in', ids).execute();
      }
      await trx.updateTable('endpoint_users').set({ present: 0 }).where('endpoint_id', '=', endpointId).where('present', '=', 1).execute();
      if (d.host) await upsertUsers(this.shapes, trx, endpointId, d.host.users, at);
    }
    await this.#upsertInventory(trx, tx, endpointId, 'servers', PRESENCE_KEYS.servers, 'present', [...d.servers.values()] as never);
    await this.#upsertInventory(trx, tx, endpointId, 'clients', PRESENCE_KEYS.clients, 'present', [...d.clients.values()] as never);
    await this.#upsertInventory(trx, tx, endpointId, 'processes', PRESENCE_KEYS.processes, 'present', [...d.processes.values()] as never);
    await this.#upsertInventory(trx, tx, endpointId, 'sockets', PRESENCE_KEYS.sockets, 'present', [...d.sockets.values()] as never);
    await this.#upsertInventory(trx, tx, endpointId, 'config_errors', PRESENCE_KEYS.config_errors, 'present', [...d.configErrors.values()] as never);
    await this.#upsertInventory(trx, tx, endpointId, 'findings', 'finding_id', 'status', [...d.findings.values()] as never);

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
    // Compiled once per set of columns (sql-shapes.ts): building the query tree per batch cost ~2 % of the projection.
    await this.shapes.run(trx, `endpoint:update:${Object.keys(update).join(',')}`, [...Object.values(update), endpointId], () =>
      trx.updateTable('endpoints').set(update).where('endpoint_id', '=', endpointId),
    );
  }

  /**
   * Upserts one endpoint's inventory rows, writing only what changed. Agents report the same
   * servers, clients and findings again and again (every snapshot, every re-raise); rewriting an
   * unchanged row rewrites every index entry of it (servers: three), which was the largest part of
   * an ingest's inventory cost. So: read the current `data` and state of these keys (one
   * primary-key lookup each, none for a row this transaction already knows), upsert the rows that
   * are new or differ in data or state, and for the unchanged ones only move `last_seen` forward
   * (no indexed column is written; deferred to the end of the transaction, see begin()).
   * Every other column of these tables is derived from `data` and the state (present / status),
   * so equal data and state mean an equal row.
   */
  async #upsertInventory(trx: AnyTrx, tx: TxState, endpointId: string, table: string, keyColumn: string, stateColumn: 'present' | 'status', rows: Array<Record<string, unknown>>): Promise<void> {
    if (rows.length === 0) return;
    const known = rowsOf(tx.known, table, endpointId);
    const touches = rowsOf(tx.touches, table, endpointId);
    const current = new Map<unknown, KnownRow>();
    const unknown: unknown[] = [];
    for (const r of rows) {
      const k = r[keyColumn];
      const row = known.get(k);
      if (row) current.set(k, row);
      else unknown.push(k);
    }
    for (const keys of chunkRows(unknown, 1)) {
      const found = await this.shapes.run<{ k: unknown } & KnownRow>(trx, `current:${table}:${keys.length}`, [endpointId, ...keys], () =>
        trx
          .selectFrom(table)
          .select([`${keyColumn} as k`, 'data', `${stateColumn} as state`, 'last_seen'])
          .where('endpoint_id', '=', endpointId)
          .where(keyColumn, 'in', keys),
      );
      for (const f of found) {
        // A touch still pending for this row (the transaction forgot it at a reset) moved it further.
        const pending = touches.get(f.k);
        const row = { data: f.data, state: f.state, last_seen: pending && pending.seen > f.last_seen ? pending.seen : f.last_seen };
        current.set(f.k, row);
        known.set(f.k, row);
      }
    }
    const changed: Array<Record<string, unknown>> = [];
    for (const r of rows) {
      const k = r[keyColumn];
      const cur = current.get(k);
      if (!cur || cur.data !== r.data || String(cur.state) !== String(r[stateColumn])) {
        changed.push(r);
        // Written whole below: its last_seen is the row's, no touch of it is due any more.
        touches.delete(k);
        known.set(k, { data: r.data as string, state: r[stateColumn], last_seen: r.last_seen as string });
        continue;
      }
      const seen = r.last_seen as string;
      if (cur.last_seen >= seen) continue;
      cur.last_seen = seen;
      touches.set(k, { table, keyColumn, endpointId, key: k, seen });
    }
    await upsertRows(this.shapes, trx, table, ['endpoint_id', keyColumn], changed);
  }
}
