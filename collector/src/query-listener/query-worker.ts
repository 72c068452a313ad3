/**
 * Worker thread of the query listener (query-listener.ts starts it): opens the collector's
 * database read-only (its own connection: no migrations, no projector, no checkpointer), builds
 * the read-API app (query-app.ts) and listens on config.queryPort of the main listener's host.
 *
 * Messages to the parent: `{ type: 'listening', port }` once the port is bound, or
 * `{ type: 'failed', code, message }` when the store or the port cannot be had (then it exits).
 * `{ type: 'token-used', tokenHash }` when an API token's use is due to be recorded (at most once a
 * minute per token; this connection cannot write it: the parent's store does).
 * From the parent: `{ type: 'close' }` finishes in-flight requests, closes the app and the store,
 * and lets the thread end; `{ type: 'tls', https }` swaps the certificate for new connections
 * (renewal of the embedded server certificate).
 */
import type { TlsOptions, Server as TlsServer } from 'node:tls';
import { parentPort, workerData } from 'node:worker_threads';
import type { FastifyInstance } from 'fastify';
import type { CollectorConfig, LogLevel } from '../config.js';
import type { HttpsMaterial } from '../http-listener.js';
import { openReadOnlyStore, type ReadOnlyStoreTarget } from '../store/index.js';
import type { KyselyStore } from '../store/kysely-store.js';
import { buildQueryApp } from './query-app.js';

/** What the parent hands the worker (structured clone). */
export interface QueryWorkerInit {
  config: CollectorConfig;
  https: HttpsMaterial;
  target: ReadOnlyStoreTarget;
  /** pino level of the worker's log (the main app's; 'silent' for none). */
  logLevel: LogLevel;
}

export type QueryWorkerMessage = { type: 'listening'; port: number } | { type: 'failed'; code: string; message: string } | { type: 'token-used'; tokenHash: string };
export type QueryParentMessage = { type: 'close' } | { type: 'tls'; https: NonNullable<HttpsMaterial> };

const init = workerData as QueryWorkerInit;
const port = parentPort!;
let store: KyselyStore | undefined;
let app: FastifyInstance | undefined;

async function start(): Promise<void> {
  try {
    store = openReadOnlyStore(init.target, { recordTokenUse: (tokenHash) => port.postMessage({ type: 'token-used', tokenHash } satisfies QueryWorkerMessage) });
    // The main app's logger level (silent when it logs nothing, as in tests), with its redaction.
    app = await buildQueryApp({ ...init.config, logLevel: init.logLevel }, store, init.https);
    await app.listen({ host: init.config.listen.host, port: init.config.queryPort });
    const address = app.server.address();
    port.postMessage({ type: 'listening', port: typeof address === 'object' && address ? address.port : init.config.queryPort } satisfies QueryWorkerMessage);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    port.postMessage({ type: 'failed', code: err.code ?? 'error', message: err.message } satisfies QueryWorkerMessage);
    await close();
  }
}

async function close(): Promise<void> {
  await app?.close().catch(() => undefined);
  await store?.close().catch(() => undefined);
  // Nothing else holds the thread: it ends once the port is closed.
  port.close();
}

const started = start();
port.on('message', (m: QueryParentMessage) => {
  if (m.type === 'close') void started.then(close);
  else if (m.type === 'tls' && app) (app.server as unknown as TlsServer).setSecureContext(m.https as TlsOptions);
});
