/**
 * Fastify plugin of the outbox drainers: builds the configured sinks, starts one drainer per sink
 * when the app is ready (onReady) and stops them — finishing the send in flight, then shutting
 * each sink down once — when the app closes (onClose, before the store closes). Exposes the
 * drainers and their metrics through `outletsOf(app)` and adds their metrics to /metrics.
 *
 * Bad outlet configuration (e.g. no AWS account id obtainable) fails app construction with
 * MCPW_ERR_SINK_CONFIG, so the collector refuses to start instead of silently not publishing.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { CollectorContext } from '../collector-context.js';
import { createSinks, type SinkFactoryDeps } from '../sinks/sink-factory.js';
import { OutboxDrainer } from './drainer.js';
import { OutletMetrics } from './outlet-metrics.js';

export interface Outlets {
  drainers: OutboxDrainer[];
  metrics: OutletMetrics;
  owner: string;
}

const OUTLETS = new WeakMap<CollectorContext, Outlets>();

/** The drainers of an app built with the outbox plugin (undefined before registration). */
export function outletsOf(app: FastifyInstance): Outlets | undefined {
  return OUTLETS.get(app.collector);
}

/** Builds the plugin; `deps` lets tests inject AWS clients or the account lookup. */
export function outboxPlugin(deps: SinkFactoryDeps = {}): FastifyPluginAsync {
  return async (app) => {
    const { config, store, metrics } = app.collector;
    const owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    const outletMetrics = new OutletMetrics();
    metrics.addSection(() => outletMetrics.render());
    const sinks = await createSinks(config, {
      hostOf: async (row) => (await store.getAgent(row.agentId))?.hostname ?? null,
      onOversize: (i) => app.log.warn({ rowId: i.rowId, eventId: i.eventId, bytes: i.bytes, action: i.action }, 'outlet: record over the size limit'),
      onRejected: (i) => app.log.error({ findingId: i.id, errorCode: i.errorCode, error: i.errorMessage }, 'outlet: Security Hub refused a finding'),
      ...deps,
    });
    const drainers = sinks.map(
      (sink) =>
        new OutboxDrainer({
          store,
          sink,
          owner,
          batchSize: config.outboxBatchSize,
          leaseMs: config.outboxLeaseMs,
          idlePollMs: config.outboxPollMs,
          // Half the process's shutdown budget: a slow send must not make the whole shutdown overrun;
          // rows of a cycle cut short stay leased and are sent again after the lease.
          stopTimeoutMs: Math.max(500, Math.floor(config.shutdownTimeoutMs / 2)),
          metrics: outletMetrics,
          log: app.log,
        }),
    );
    OUTLETS.set(app.collector, { drainers, metrics: outletMetrics, owner });
    app.addHook('onReady', async () => {
      for (const d of drainers) d.start();
    });
    app.addHook('onClose', async () => {
      await Promise.all(drainers.map((d) => d.stop()));
    });
  };
}
