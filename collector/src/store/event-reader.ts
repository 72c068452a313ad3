/**
 * Reads indexed events back: an `events` row is an index entry (id, endpoint, type, time) that
 * points into the batch log (log_id, pos); only the collector's own events carry `data` (see
 * event-index-migration.ts). The query API (`/v1/events`, endpoint detail) and the outbox load
 * events through here: the batches they need are read and decompressed once each, and the most
 * recently used decoded batches are kept (an LRU bounded by their uncompressed bytes), so a page
 * of events from a few batches decompresses each batch once; the projector hands it the batches it
 * has just projected (remember()), so the outbox right behind it decompresses none of them. The events handed out share the cached objects: callers must not modify them.
 *
 * An index row whose log row is gone (retention, deleted by hand) or whose body no longer decodes
 * (verify-history reports it) is left out of the answer, not failed. (A batch still in the cache
 * answers from memory: retention clears the cache; a row deleted by hand under a running collector
 * is left out once its batch has left the cache.)
 */
import type { Kysely } from 'kysely';
import type { McpEvent } from '@mcpwatch/shared';
import type { Database } from './db-schema.js';
import { inflateLogBody } from './projector.js';
import type { StoredEvent } from './types.js';

/** What a reader needs of an index row. */
export type EventIndexRow = Pick<Database['events'], 'id' | 'type' | 'time' | 'endpoint_id' | 'log_id' | 'pos' | 'data'>;

/** Uncompressed bytes of decoded batches kept by default (32 MiB). */
const DEFAULT_CACHE_BYTES = 32 * 1024 * 1024;
/** Log rows read per statement. */
const BODY_READ_CHUNK = 16;

interface Decoded {
  events: McpEvent[];
  bytes: number;
}

export class EventReader {
  readonly #db: Kysely<Database>;
  readonly #maxBytes: number;
  readonly #cache = new Map<number, Decoded>();
  #bytes = 0;
  /** Counters (tests, metrics): batches decompressed, and cache hits. */
  decompressed = 0;
  hits = 0;

  constructor(db: Kysely<Database>, opts: { maxCachedBytes?: number } = {}) {
    this.#db = db;
    this.#maxBytes = Math.max(0, opts.maxCachedBytes ?? DEFAULT_CACHE_BYTES);
  }

  /**
   * The events of `rows`, in their order (rows that cannot be read are left out). Stops loading
   * batches once `maxLoadBytes` of uncompressed body were decompressed for this call (the rows after
   * that are left out too; at least one batch is always loaded): a page of events each from a
   * different huge batch is cut, not loaded whole.
   */
  async load(rows: readonly EventIndexRow[], maxLoadBytes = Infinity): Promise<{ events: StoredEvent[]; complete: boolean }> {
    const batches = new Map<number, Decoded | null>();
    const needed: number[] = [];
    for (const r of rows) {
      if (r.data !== null || r.log_id === null) continue;
      const id = Number(r.log_id);
      if (batches.has(id)) continue;
      const hit = this.#get(id);
      batches.set(id, hit ?? null);
      if (hit) this.hits++;
      else needed.push(id);
    }
    let loadedBytes = 0;
    let complete = true;
    for (let i = 0; i < needed.length; i += BODY_READ_CHUNK) {
      const chunk = needed.slice(i, i + BODY_READ_CHUNK);
      if (loadedBytes >= maxLoadBytes && loadedBytes > 0) {
        complete = false;
        break;
      }
      const found = await this.#db.selectFrom('batch_log').select(['log_id', 'body']).where('log_id', 'in', chunk).execute();
      for (const f of found) {
        const decoded = this.#decode(f.body);
        if (!decoded) continue;
        loadedBytes += decoded.bytes;
        batches.set(Number(f.log_id), decoded);
        this.#put(Number(f.log_id), decoded);
      }
    }
    const events: StoredEvent[] = [];
    for (const r of rows) {
      if (r.data !== null) {
        events.push({ v: 1, id: r.id, type: r.type, time: r.time, endpointId: r.endpoint_id, data: JSON.parse(r.data) } as StoredEvent);
        continue;
      }
      const batch = r.log_id === null ? undefined : batches.get(Number(r.log_id));
      if (batch === undefined && r.log_id !== null && !complete) break;
      const e = batch?.events[Number(r.pos)];
      // The row must name this very event (a hand-edited log could hold anything at `pos`).
      if (!e || e.id !== r.id) continue;
      events.push({ v: 1, id: r.id, type: r.type, time: r.time, endpointId: r.endpoint_id, data: e.data } as StoredEvent);
    }
    return { events, complete };
  }

  /**
   * The events of the log rows `logIds`, from the cache or decoded from their bodies (read
   * BODY_READ_CHUNK rows per statement); a row that is gone or whose body does not decode is absent.
   */
  async batches(logIds: readonly number[]): Promise<Map<number, McpEvent[]>> {
    const out = new Map<number, McpEvent[]>();
    const needed: number[] = [];
    for (const id of new Set(logIds)) {
      const hit = this.#get(id);
      if (hit) {
        this.hits++;
        out.set(id, hit.events);
      } else needed.push(id);
    }
    for (let i = 0; i < needed.length; i += BODY_READ_CHUNK) {
      const found = await this.#db.selectFrom('batch_log').select(['log_id', 'body']).where('log_id', 'in', needed.slice(i, i + BODY_READ_CHUNK)).execute();
      for (const f of found) {
        const decoded = this.#decode(f.body);
        if (!decoded) continue;
        out.set(Number(f.log_id), decoded.events);
        this.#put(Number(f.log_id), decoded);
      }
    }
    return out;
  }

  /**
   * Keeps the events of log row `logId`, decoded elsewhere (the projector, which has just read them
   * from the body or the ingest hand-off), so the outbox behind it does not decompress that body
   * again. `bytes`: their uncompressed size (or an estimate), what the cache's bound counts.
   */
  remember(logId: number, events: McpEvent[], bytes: number): void {
    this.#put(logId, { events, bytes: Math.max(1, Math.round(bytes)) });
  }

  /** Forgets every decoded batch (retention deleted log rows). */
  clear(): void {
    this.#cache.clear();
    this.#bytes = 0;
  }

  #decode(body: Buffer | Uint8Array | null): Decoded | null {
    if (!body) return null;
    try {
      this.decompressed++;
      return inflateLogBody(body);
    } catch {
      return null;
    }
  }

  #get(logId: number): Decoded | undefined {
    const hit = this.#cache.get(logId);
    if (hit) {
      this.#cache.delete(logId);
      this.#cache.set(logId, hit);
    }
    return hit;
  }

  #put(logId: number, d: Decoded): void {
    if (d.bytes > this.#maxBytes) return;
    this.#cache.delete(logId);
    this.#cache.set(logId, d);
    this.#bytes += d.bytes;
    while (this.#bytes > this.#maxBytes) {
      const [oldest, v] = this.#cache.entries().next().value as [number, Decoded];
      this.#cache.delete(oldest);
      this.#bytes -= v.bytes;
    }
  }
}
