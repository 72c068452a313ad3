/**
 * The in-memory hand-off of parsed events from ingest to the projector, for batches THIS process
 * just appended: the request path has already gunzipped, parsed and validated each body; the
 * projector would otherwise gunzip and parse it again from the log (measured: ~15 % of the
 * projection's CPU on SQLite).
 *
 * Contract: only an optimisation, never a source of truth. An entry is offered only after the
 * COMMIT that holds its log row, and taken only for the very log row it was offered for (log id,
 * agent and seq must all match: a log id reused after a rollback or a retention delete cannot
 * pick up another batch's events). Anything not found here (after a restart, another collector's
 * batch, an entry dropped at the bound) is read from the log as before, so what is projected is
 * the same either way: the events handed over are the ones the route parsed from the very body
 * the log row holds (IngestInput.events), after the same NUL replacement the log reader applies.
 * The cursor (projection_pending) is untouched by all this.
 *
 * Bounded: at most `maxEvents` events and `maxBytes` bytes of body (uncompressed JSON; the parsed
 * objects take about 1.3 times that in V8) are held. When full, a new batch is NOT held (counted as
 * dropped; the log serves it), rather than evicting the oldest: the projector works in log order,
 * so the oldest entries are the next it needs, and evicting them would make every read miss
 * exactly while projection is behind. An entry older than `maxAgeMs` (one the projector will never
 * take: another collector projected it, or it was projected before it was offered) is evicted to
 * make room. Callers must not modify the events they hand over or take.
 */
import type { McpEvent } from '@mcpwatch/shared';

/** A batch as the ingest path committed it. */
export interface AppendedBatch {
  logId: number;
  agentId: string;
  seq: number;
  /** Projection partition of its endpoint. */
  partition: number;
  events: McpEvent[];
  /** The body's uncompressed size in bytes (what the bound counts). */
  bytes: number;
}

/** Events held by default: about two seconds of ingest at 25,000 events/s (tens of MB). */
export const DEFAULT_HANDOFF_MAX_EVENTS = 50_000;
/** Uncompressed body bytes held by default (32 MiB: ~45 MB of parsed objects). */
export const DEFAULT_HANDOFF_MAX_BYTES = 32 * 1024 * 1024;
/** Age past which a held entry is taken for one the projector will never read (default 60 s). */
export const DEFAULT_HANDOFF_MAX_AGE_MS = 60_000;

export class ProjectionHandOff {
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  /** In insertion (commit) order, which is also roughly log order. */
  readonly #entries = new Map<number, AppendedBatch & { heldAtMs: number }>();
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  #events = 0;
  #bytes = 0;
  /** Counters (tests, metrics): batches taken from here, dropped at the bound. */
  hits = 0;
  dropped = 0;

  constructor(maxEvents = DEFAULT_HANDOFF_MAX_EVENTS, opts: { maxBytes?: number; maxAgeMs?: number; now?: () => number } = {}) {
    this.#maxEvents = Math.max(0, maxEvents);
    this.#maxBytes = Math.max(0, opts.maxBytes ?? DEFAULT_HANDOFF_MAX_BYTES);
    this.#maxAgeMs = opts.maxAgeMs ?? DEFAULT_HANDOFF_MAX_AGE_MS;
    this.#now = opts.now ?? Date.now;
  }

  /** Batches held now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Holds `batch` for the projector (after its COMMIT), unless full (see the header). */
  offer(batch: AppendedBatch): void {
    this.#remove(batch.logId);
    const now = this.#now();
    // Make room from stale entries only; otherwise the new batch is the one left to the log.
    const full = (): boolean => this.#events + batch.events.length > this.#maxEvents || this.#bytes + batch.bytes > this.#maxBytes;
    while (full() && this.#entries.size > 0) {
      const [oldest, entry] = this.#entries.entries().next().value as [number, { heldAtMs: number }];
      if (now - entry.heldAtMs < this.#maxAgeMs) break;
      this.#remove(oldest);
      this.dropped++;
    }
    if (full()) {
      this.dropped++;
      return;
    }
    this.#entries.set(batch.logId, { ...batch, heldAtMs: now });
    this.#events += batch.events.length;
    this.#bytes += batch.bytes;
  }

  /**
   * The batch held for log row `logId`, if held for exactly this (agent, seq). The entry stays until
   * forget(): the projector may read a row and then leave it for its next transaction.
   */
  get(logId: number, agentId: string, seq: number): AppendedBatch | undefined {
    const hit = this.#entries.get(logId);
    if (!hit) return undefined;
    if (hit.agentId !== agentId || hit.seq !== seq) {
      this.#remove(logId);
      return undefined;
    }
    return hit;
  }

  /** Drops the entry of `logId` (projected); `used`: it was projected from here (counted). */
  forget(logId: number, used: boolean): void {
    if (used) this.hits++;
    this.#remove(logId);
  }

  /** Forgets everything (e.g. the projector stops owning partitions). */
  clear(): void {
    this.#entries.clear();
    this.#events = 0;
    this.#bytes = 0;
  }

  #remove(logId: number): void {
    const e = this.#entries.get(logId);
    if (!e) return;
    this.#entries.delete(logId);
    this.#events -= e.events.length;
    this.#bytes -= e.bytes;
  }
}
