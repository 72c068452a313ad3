/**
 * The query listener's Fastify app (run by query-worker.ts on its own thread): the read API only,
 * the same plugins the main app registers for it (routes/query.ts, tools/tool-routes.ts) over a
 * read-only store, so a request answers with the same bytes and headers on either port.
 *
 * What it has of the main app: the listener options, logger redaction, error replies and graceful
 * close (http-listener.ts), the abuse guard (abuse-guard.ts: failed-auth throttling per source
 * address and load shedding, counted apart from the main port's: each port has its own budget),
 * bearer tokens (read from the store, and the bootstrap token from config), and containment
 * states for the views that show them (read only: this app never starts the containment service,
 * so it holds no timers, and it signs nothing). Anything else (ingest, enrollment, admin, the
 * dashboard, health, metrics) answers 404 here.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { installAbuseGuard } from '../abuse-guard.js';
import type { CollectorConfig } from '../config.js';
import { Containment } from '../containment/containment-service.js';
import { ContainmentStore } from '../containment/containment-store.js';
import { Errors } from '../errors.js';
import { newListenerApp, type HttpsMaterial } from '../http-listener.js';
import { CollectorMetrics } from '../metrics.js';
import { queryRoutesOver } from '../routes/query.js';
import type { KyselyStore } from '../store/kysely-store.js';
import { toolRoutesOver } from '../tools/tool-routes.js';

/** Name of the query listener's log lines. */
export const QUERY_LISTENER_LOG_NAME = 'query-listener';

/** Builds the read-API app over `store` (owned by the caller, which closes it after the app). */
export async function buildQueryApp(config: CollectorConfig, store: KyselyStore, https: HttpsMaterial, logger?: FastifyBaseLogger | false): Promise<FastifyInstance> {
  const app = newListenerApp(config, https, logger, QUERY_LISTENER_LOG_NAME);
  try {
    const containment = new Containment(new ContainmentStore(store.db), {
      sign: () => {
        throw Errors.internal('the query listener issues no containment commands');
      },
      now: Date.now,
    });
    app.decorate('containment', containment);
    await installAbuseGuard(app, config, new CollectorMetrics());
    const read = { config, store };
    await app.register(queryRoutesOver(read));
    await app.register(toolRoutesOver(read));
    return app;
  } catch (e) {
    await app.close().catch(() => undefined);
    throw e;
  }
}
