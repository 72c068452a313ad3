/**
 * One outbox drainer per sink: claims rows with a lease, sends them, completes them only after the
 * sink says the service accepted them, and releases the rest with backoff (at-least-once; the
 * row id `${eventId}:${sink}` and the event id inside every record make a resend recognisable).
 *
 * Failure contract:
 * - A retryable failure releases the rows with jittered exponential backoff on their attempt
 *   count (500 ms doubling, at most 30 s; at least the service's Retry-After). A non-retryable one releases them with the maximum
 *   backoff and reports it: rows are never dropped, they stay visible in the outbox depth.
 * - A store failure (claim/complete/release) is logged and retried after a backoff; rows whose
 *   completion failed are sent again after their lease (duplicates, not loss).
 * - A process killed mid-send leaves its rows leased; after `leaseMs` any drainer takes them.
 * `stop()` ends the loop after the cycle in flight (bounded by `stopTimeoutMs`), then shuts the
 * sink down once. Timers are unref()'d.
 */
import { backoffDelayMs } from '@mcpwatch/shared';
import type { OutboxRow, Store } from '../store/types.js';
import { asError, type SendResult, type Sink } from '../sinks/types.js';
import type { OutletMetrics } from './outlet-metrics.js';

export interface DrainerLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface DrainerOptions {
  store: Pick<Store, 'claimOutbox' | 'completeOutbox' | 'releaseOutbox'>;
  sink: Sink;
  /** Lease owner id (unique per process). */
  owner: string;
  batchSize?: number;
  leaseMs?: number;
  idlePollMs?: number;
  /** First retry delay of a failed row; doubles per attempt (default 500 ms). */
  baseBackoffMs?: number;
  /** Longest delay before a retryable failure is tried again (default 30 s). */
  maxRetryBackoffMs?: number;
  /** Delay before rows the sink rejected as not retryable are tried again (default 5 min). */
  maxBackoffMs?: number;
  stopTimeoutMs?: number;
  metrics?: OutletMetrics;
  log?: DrainerLog;
  now?: () => number;
  random?: () => number;
}

export interface CycleResult {
  claimed: number;
  completed: number;
  released: number;
}

const quietLog: DrainerLog = { warn: () => undefined, error: () => undefined };

export class OutboxDrainer {
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private stopping: Promise<void> | undefined;
  private storeFailures = 0;
  private readonly o: Required<Omit<DrainerOptions, 'metrics'>> & { metrics?: OutletMetrics };

  constructor(opts: DrainerOptions) {
    this.o = {
      batchSize: 500,
      leaseMs: 60_000,
      idlePollMs: 250,
      baseBackoffMs: 500,
      maxRetryBackoffMs: 30_000,
      maxBackoffMs: 300_000,
      stopTimeoutMs: 30_000,
      log: quietLog,
      now: Date.now,
      random: Math.random,
      ...opts,
    };
    this.o.metrics?.track(opts.sink.name, (opts.sink as { counters?: never }).counters);
  }

  get sinkName(): string {
    return this.o.sink.name;
  }

  /** One claim -> send -> complete/release cycle. Throws only when the store fails. */
  async drainOnce(): Promise<CycleResult> {
    const { store, sink, metrics } = this.o;
    const rows = await store.claimOutbox(sink.name, this.o.batchSize, this.o.leaseMs, this.o.owner);
    if (rows.length === 0) {
      metrics?.lag(sink.name, 0);
      return { claimed: 0, completed: 0, released: 0 };
    }
    const oldest = Math.min(...rows.map((r) => Date.parse(r.createdAt)).filter(Number.isFinite));
    if (Number.isFinite(oldest)) metrics?.lag(sink.name, (this.o.now() - oldest) / 1000);

    const result: SendResult = await sink.send(rows).catch((e: unknown) => ({ ok: false as const, retryable: true, error: asError(e) }));
    if (result.ok) {
      await store.completeOutbox(sink.name, rows.map((r) => r.id));
      metrics?.rowsSent(sink.name, rows.length);
      return { claimed: rows.length, completed: rows.length, released: 0 };
    }
    const failedSet = new Set(result.failedIds ?? rows.map((r) => r.id));
    const done = rows.filter((r) => !failedSet.has(r.id));
    const failed = rows.filter((r) => failedSet.has(r.id));
    if (done.length > 0) {
      await store.completeOutbox(sink.name, done.map((r) => r.id));
      metrics?.rowsSent(sink.name, done.length);
    }
    const wait = this.releaseDelay(failed, result.retryable, result.retryAfterMs);
    const code = (result.error as { code?: string }).code ?? 'error';
    await store.releaseOutbox(sink.name, failed.map((r) => r.id), `${code}: ${result.error.message}`, wait);
    metrics?.failure(sink.name, result.retryable ? 'retryable' : 'rejected', failed.length);
    const log = result.retryable ? this.o.log.warn.bind(this.o.log) : this.o.log.error.bind(this.o.log);
    log({ sink: sink.name, code, rows: failed.length, retryInMs: wait, err: result.error.message }, result.retryable ? 'outbox: send failed; rows kept for retry' : 'outbox: sink rejected rows; kept in the outbox, retried at the slowest pace');
    return { claimed: rows.length, completed: done.length, released: failed.length };
  }

  private releaseDelay(rows: OutboxRow[], retryable: boolean, retryAfterMs?: number): number {
    if (!retryable) return this.o.maxBackoffMs;
    const attempts = Math.min(...rows.map((r) => r.attempts));
    // Floor of half the cap so consecutive failures really slow down (jitter spreads the rest).
    return backoffDelayMs(attempts, { baseMs: this.o.baseBackoffMs, maxMs: this.o.maxRetryBackoffMs, floorFraction: 0.5, random: this.o.random }, retryAfterMs);
  }

  /** Starts the background loop (idempotent). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Ends an idle wait early (new rows were enqueued). */
  wake(): void {
    this.wakeUp?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      t.unref();
      this.wakeUp = () => {
        clearTimeout(t);
        this.wakeUp = undefined;
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      let r: CycleResult;
      try {
        r = await this.drainOnce();
        this.storeFailures = 0;
      } catch (e) {
        this.storeFailures++;
        this.o.metrics?.failure(this.o.sink.name, 'store');
        const wait = backoffDelayMs(this.storeFailures, { baseMs: 200, maxMs: 10_000, random: this.o.random }) + 100;
        this.o.log.warn({ sink: this.o.sink.name, err: (e as Error).message, retryInMs: wait }, 'outbox: store unavailable to the drainer');
        if (this.running) await this.sleep(wait);
        continue;
      }
      // A full batch means more may be waiting: go again at once. Otherwise idle-poll.
      if (this.running && (r.claimed < this.o.batchSize || r.released === r.claimed)) await this.sleep(this.o.idlePollMs);
    }
  }

  /** Stops the loop after the cycle in flight, then shuts the sink down (once). */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.running = false;
      this.wake();
      if (this.loop) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            this.o.log.warn({ sink: this.o.sink.name, timeoutMs: this.o.stopTimeoutMs }, 'outbox: drainer did not stop in time; its leased rows will be retried after the lease');
            resolve();
          }, this.o.stopTimeoutMs);
          timer.unref();
        });
        await Promise.race([this.loop, timeout]);
        clearTimeout(timer);
      }
      await this.o.sink.shutdown();
    })();
    return this.stopping;
  }
}
