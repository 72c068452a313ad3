/**
 * SQLite ingest on its own thread. better-sqlite3 is synchronous: an ingest transaction (and its
 * commit, which writes the WAL) blocks whichever thread runs it. Run on the main thread, every
 * batch's SQLite work stalls HTTP parsing, signature checks and API queries for its duration.
 * Here a worker thread owns a second connection to the same database file and runs the store's
 * ingest (group commit included) there; the main thread keeps its connection for queries,
 * enrollment and the outbox drainers. WAL lets the main connection read while the worker writes;
 * the main connection's few write transactions wait for the worker's (busy_timeout) and vice versa.
 *
 * Contract: `ingest(input)` resolves or rejects exactly as KyselyStore.ingestBatch does (coded
 * errors keep their code, status and Retry-After). A worker that dies rejects its pending batches
 * with MCPW_ERR_STORE_UNAVAILABLE (503: agents keep and resend them) and is started again on the
 * next batch. `stop()` lets the batches already sent finish, then closes the worker's connection.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CollectorError, Errors } from '../errors.js';
import type { IngestInput, IngestResult } from './types.js';

/** What the worker answers for one batch. */
export type WriterReply =
  | { id: number; ok: IngestResult }
  | { id: number; error: { code?: string; statusCode?: number; message: string; retryAfterS?: number } };

export interface WriterData {
  /** The database file (already migrated by the main connection). */
  file: string;
}

/**
 * The worker's module. Next to this file once compiled; when this module runs from TypeScript
 * sources (ts-jest), the compiled worker in dist/ (the build runs before the tests).
 */
function workerUrl(): URL {
  const here = new URL('./sqlite-ingest-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const built = new URL(here.href.replace('/src/store/', '/dist/store/'));
  if (existsSync(fileURLToPath(built))) return built;
  throw Errors.config(`SQLite ingest worker not found at ${fileURLToPath(here)} (build the collector: npm run build)`);
}

function revive(e: Extract<WriterReply, { error: unknown }>['error']): Error {
  if (e.code && e.statusCode) return new CollectorError(e.code, e.statusCode, e.message, e.retryAfterS !== undefined ? { retryAfterS: e.retryAfterS } : undefined);
  return new Error(e.message);
}

export class SqliteIngestWriter {
  readonly #data: WriterData;
  readonly #onError: (message: string) => void;
  #worker: Worker | undefined;
  #exited: Promise<void> | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, { resolve(r: IngestResult): void; reject(e: unknown): void }>();
  #stopping: Promise<void> | undefined;

  constructor(data: WriterData, opts: { onError?: (message: string) => void } = {}) {
    this.#data = data;
    this.#onError = opts.onError ?? (() => undefined);
  }

  #start(): Worker {
    const worker = new Worker(workerUrl(), { workerData: this.#data });
    worker.on('message', (m: WriterReply) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if ('ok' in m) p.resolve(m.ok);
      else p.reject(revive(m.error));
      if (this.#pending.size === 0) worker.unref();
    });
    worker.on('error', (e) => this.#onError(`SQLite ingest worker failed: ${e.message}`));
    this.#exited = new Promise((resolve) =>
      worker.once('exit', (code) => {
        if (this.#worker === worker) this.#worker = undefined;
        const lost = Errors.storeUnavailable(`SQLite ingest worker exited (code ${code})`, { retryAfterS: 1 });
        for (const p of this.#pending.values()) p.reject(lost);
        this.#pending.clear();
        resolve();
      }),
    );
    worker.unref();
    return worker;
  }

  ingest(input: IngestInput): Promise<IngestResult> {
    if (this.#stopping) return Promise.reject(Errors.storeUnavailable('store is closed'));
    const worker = (this.#worker ??= this.#start());
    const id = this.#nextId++;
    return new Promise<IngestResult>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // Keep the process alive while a batch is in the worker.
      worker.ref();
      worker.postMessage({ id, input });
    });
  }

  /** Lets the batches in the worker finish, then closes its connection and ends it. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const worker = this.#worker;
      if (!worker) return;
      worker.ref();
      worker.postMessage({ close: true });
      const kill = setTimeout(() => void worker.terminate(), 30_000);
      await this.#exited;
      clearTimeout(kill);
    })();
    return this.#stopping;
  }
}
