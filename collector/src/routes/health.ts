/**
 * GET /healthz (the process serves), GET /readyz (the store answers: 200, else 503),
 * GET /metrics (Prometheus text; outbox depth read from the store at scrape time).
 * Unauthenticated: they reveal counts, never identities or secrets.
 */
import type { FastifyPluginAsync } from 'fastify';
import { Errors } from '../errors.js';

export const healthRoutes: FastifyPluginAsync = async (app) => {
  const { store, metrics } = app.collector;

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async () => {
    const up = await store.ping().catch(() => false);
    if (!up) throw Errors.storeUnavailable('store is not reachable');
    return { status: 'ready', store: store.engine };
  });

  app.get('/metrics', async (req, reply) => {
    let depth: Record<string, number> | null = null;
    try {
      depth = await store.outboxDepth();
    } catch (e) {
      req.log.warn({ err: e }, 'metrics: outbox depth unavailable');
    }
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(metrics.render(depth));
  });
};
