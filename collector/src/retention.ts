/**
 * Event-history retention: every hour (first run one minute after start) events older than
 * `eventRetentionDays` are pruned through `store.pruneEvents`. 0 days keeps everything. The timer is
 * unref()'d and cleared on close; a failed run is logged and retried at the next tick.
 */
import type { FastifyPluginAsync } from 'fastify';

const HOUR_MS = 3_600_000;
const FIRST_RUN_MS = 60_000;

export const retentionPlugin: FastifyPluginAsync = async (app) => {
  const { config, store, now } = app.collector;
  if (config.eventRetentionDays === 0) return;
  let running = false;
  const prune = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      const cutoff = new Date(now() - config.eventRetentionDays * 24 * HOUR_MS);
      const n = await store.pruneEvents(cutoff);
      if (n > 0) app.log.info({ pruned: n, cutoff: cutoff.toISOString() }, 'retention: pruned old events');
    } catch (e) {
      app.log.warn({ err: e }, 'retention: prune failed; will retry');
    } finally {
      running = false;
    }
  };
  let interval: NodeJS.Timeout | undefined;
  const first = setTimeout(() => {
    void prune();
    interval = setInterval(() => void prune(), HOUR_MS);
    interval.unref();
  }, FIRST_RUN_MS);
  first.unref();
  app.addHook('onClose', async () => {
    clearTimeout(first);
    if (interval) clearInterval(interval);
  });
};
