/**
 * GET /healthz (the process serves), GET /readyz (the store is really there and readable: 200,
 * else 503 + Retry-After), GET /metrics (Prometheus text; outbox depth and store health read at
 * scrape time).
 * Readiness is the store's deep health check (store.health({deep: true})): for SQLite the file at
 * its path is still the one opened (same dev+ino), and a fresh read-only connection reads the
 * schema, a row of every table and (small databases) passes quick_check; for PostgreSQL `select 1`
 * and a read of a table. `mcpwatch_store_up` is the same check. Both carry the projection's lag
 * (/readyz: `projection` {lagBatches, lagSeconds, completeUpTo}; /metrics:
 * mcpwatch_projection_lag_seconds and mcpwatch_projection_lag_batches); a lagging projection does
 * not make the collector unready (ingest still works; queries say how fresh they are).
 * Unauthenticated: they reveal counts, never identities or secrets.
 */
import type { FastifyPluginAsync } from 'fastify';
import { Errors } from '../errors.js';

export const healthRoutes: FastifyPluginAsync = async (app) => {
  const { store, metrics } = app.collector;

  const storeHealth = async (): Promise<{ ok: true } | { ok: false; reason: string }> => {
    if (!(await store.ping().catch(() => false))) return { ok: false, reason: 'store is not reachable' };
    return store.health({ deep: true }).catch((e: unknown) => ({ ok: false as const, reason: (e as Error)?.message ?? String(e) }));
  };

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (req) => {
    const health = await storeHealth();
    if (!health.ok) {
      req.log.warn({ reason: health.reason }, 'readyz: store not ready');
      throw Errors.storeUnavailable(`store is not ready: ${health.reason}`);
    }
    const projection = await store.projectionStatus().catch(() => null);
    return { status: 'ready', store: store.engine, ...(projection ? { projection } : {}) };
  });

  app.get('/metrics', async (req, reply) => {
    let depth: Record<string, number> | null = null;
    const health = await storeHealth();
    try {
      depth = await store.outboxDepth();
    } catch (e) {
      req.log.warn({ err: e }, 'metrics: outbox depth unavailable');
    }
    const projection = await store.projectionStatus().catch(() => null);
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(metrics.render(depth, health.ok && depth !== null, projection));
  });
};
