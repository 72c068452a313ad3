/**
 * The query listener (config.queryPort): the read API served by a worker thread of the collector
 * process (query-worker.ts) with its own read-only database connection, so fleet queries never
 * wait behind ingest and the projector's transactions on the main event loop (issue 15: a query's
 * SQL takes ~0.4 ms; behind 1,667 heartbeat batches/s its p95 was ~80 ms on the main port).
 *
 * Promises:
 * - `start()` resolves once the worker has bound its port, and rejects with the worker's error
 *   when it cannot (EADDRINUSE, store unreadable): a startup error of the collector.
 * - A worker that dies later (crash, out of memory, terminated) is logged and started again after
 *   a capped, jittered backoff (shared backoffDelayMs), on the same port; attempts start over once
 *   a worker has served for STABLE_MS. The main loop (ingest, projection) is not touched by it.
 * - `stop()` (app close) asks the worker to finish in-flight requests and close its app and its
 *   connection, and resolves once the thread has ended (terminated after STOP_TIMEOUT_MS); a
 *   pending restart is cancelled. Idempotent.
 * The worker runs the compiled JavaScript: next to this file in dist, or, when this module runs
 * from the TypeScript sources (jest), the build of the same path in dist (build first).
 */
import { existsSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FastifyBaseLogger } from 'fastify';
import { backoffDelayMs } from '@mcpwatch/shared';
import type { CollectorConfig, LogLevel } from '../config.js';
import { Errors } from '../errors.js';
import type { HttpsMaterial } from '../http-listener.js';
import type { ReadOnlyStoreTarget } from '../store/index.js';
import type { QueryParentMessage, QueryWorkerInit, QueryWorkerMessage } from './query-worker.js';

/** A worker that served this long before dying restarts from the first backoff step. */
const STABLE_MS = 30_000;
/** Restart backoff: 100 ms doubling to 30 s, at least half of each step waited. */
const RESTART_BACKOFF = { baseMs: 100, maxMs: 30_000, floorFraction: 0.5 };
/** How long stop() lets the worker finish before terminating it. */
const STOP_TIMEOUT_MS = 10_000;
/** Token uses are recorded at most this often per token (agent-store.ts writes at most once a minute). */
const TOKEN_USE_INTERVAL_MS = 60_000;
/** Most tokens whose last recorded use is remembered (cleared past it: a token is then asked again). */
const MAX_TOKENS_REMEMBERED = 10_000;

export interface QueryListenerOptions {
  config: CollectorConfig;
  https: HttpsMaterial;
  target: ReadOnlyStoreTarget;
  /** Where the supervisor logs (the main app's logger). */
  log: FastifyBaseLogger;
  /** The worker's own log level (the main app's; 'silent' for none). */
  workerLogLevel: LogLevel;
  /**
   * Records an API token's use the worker reported (its connection cannot write): the main
   * store's findApiToken, which writes last_used_at when due. Asked at most once a minute per token.
   */
  recordTokenUse: (tokenHash: string) => Promise<unknown>;
}

/** The compiled worker (see module comment). */
function workerFile(): string {
  const built = fileURLToPath(new URL('./query-worker.js', import.meta.url));
  if (existsSync(built)) return built;
  const fromSources = built.replace(`${sep}src${sep}query-listener${sep}`, `${sep}dist${sep}query-listener${sep}`);
  if (existsSync(fromSources)) return fromSources;
  throw Errors.internal(`query listener: the compiled worker ${built} is missing: build the collector (npm run build)`);
}

/** The error of a worker that could not listen, as listen() would have thrown it (code kept). */
function listenError(host: string, port: number, m: { code: string; message: string }): Error {
  return Object.assign(new Error(`query listener: cannot listen on ${host}:${port}: ${m.message}`), { code: m.code });
}

export class QueryListener {
  readonly #o: QueryListenerOptions;
  readonly #file = workerFile();
  #https: HttpsMaterial;
  #worker: Worker | null = null;
  #upSinceMs = 0;
  #attempt = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | undefined;
  #port = 0;
  #restarts = 0;
  /** When each token's use was last handed to the main store (the worker reports until it is written). */
  readonly #tokenUses = new Map<string, number>();

  constructor(opts: QueryListenerOptions) {
    this.#o = opts;
    this.#https = opts.https;
  }

  /** The port the worker listens on (0 before the first start). */
  get port(): number {
    return this.#port;
  }

  /** Workers started again after one died. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Starts the worker; resolves once its port is bound (see module comment). */
  start(): Promise<void> {
    return this.#spawn();
  }

  /** New TLS material (the renewed embedded certificate) for the worker's new connections, and for later restarts. */
  setCertificate(https: NonNullable<HttpsMaterial>): void {
    this.#https = https;
    this.#worker?.postMessage({ type: 'tls', https } satisfies QueryParentMessage);
  }

  /** Ends the worker thread at once, as a crash would (tests; an operator's last resort): it is restarted. */
  async terminateWorker(): Promise<void> {
    await this.#worker?.terminate();
  }

  /** Stops the worker and any pending restart (see module comment). */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      clearTimeout(this.#restartTimer);
      const w = this.#worker;
      if (!w) return;
      const exited = new Promise((resolve) => w.once('exit', resolve));
      w.postMessage({ type: 'close' } satisfies QueryParentMessage);
      const timer = setTimeout(() => {
        this.#o.log.warn({ timeoutMs: STOP_TIMEOUT_MS }, 'query listener: worker did not close in time; terminating it');
        void w.terminate();
      }, STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    })();
    return this.#stopping;
  }

  #spawn(): Promise<void> {
    const { config, target, workerLogLevel } = this.#o;
    const init: QueryWorkerInit = { config, https: this.#https, target, logLevel: workerLogLevel };
    const worker = new Worker(this.#file, { workerData: init });
    this.#worker = worker;
    return new Promise<void>((resolve, reject) => {
      let listening = false;
      worker.on('message', (m: QueryWorkerMessage) => {
        if (m.type === 'token-used') this.#recordTokenUse(m.tokenHash);
        else if (m.type === 'listening') {
          listening = true;
          this.#port = m.port;
          this.#upSinceMs = Date.now();
          resolve();
        } else {
          reject(listenError(config.listen.host, config.queryPort, m));
        }
      });
      worker.on('error', (e) => {
        if (listening) this.#o.log.error({ err: e }, 'query listener: worker failed');
        else reject(e);
      });
      worker.on('exit', (code) => {
        if (this.#worker === worker) this.#worker = null;
        if (!listening) reject(new Error(`query listener: worker exited with code ${code} before listening`));
        else if (!this.#stopping) {
          if (Date.now() - this.#upSinceMs >= STABLE_MS) this.#attempt = 0;
          this.#scheduleRestart(`worker exited with code ${code}`);
        }
      });
    });
  }

  #recordTokenUse(tokenHash: string): void {
    const nowMs = Date.now();
    if (nowMs - (this.#tokenUses.get(tokenHash) ?? -Infinity) < TOKEN_USE_INTERVAL_MS) return;
    if (this.#tokenUses.size >= MAX_TOKENS_REMEMBERED) this.#tokenUses.clear();
    this.#tokenUses.set(tokenHash, nowMs);
    this.#o.recordTokenUse(tokenHash).catch((e: unknown) => this.#o.log.warn({ err: e }, 'query listener: cannot record an API token\'s use'));
  }

  #scheduleRestart(why: string): void {
    const delayMs = backoffDelayMs(this.#attempt++, RESTART_BACKOFF);
    this.#o.log.error({ delayMs, port: this.#o.config.queryPort }, `query listener: ${why}; starting it again in ${delayMs} ms (ingest is not affected)`);
    this.#restartTimer = setTimeout(() => {
      if (this.#stopping) return;
      this.#restarts++;
      this.#spawn().then(
        () => this.#o.log.info({ port: this.#port, restarts: this.#restarts }, 'query listener: worker listening again'),
        (e: unknown) => {
          // Not listening (port taken meanwhile, store unreadable): try again, later each time.
          if (!this.#stopping) this.#scheduleRestart(`restart failed: ${(e as Error).message}`);
        },
      );
    }, delayMs);
    this.#restartTimer.unref();
  }
}
