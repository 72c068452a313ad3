/**
 * The query listener as a plugin of the main app (app.ts registers it last): with config.queryPort
 * set, it decorates the root app with `queryListener` (query-listener.ts), starts the worker when
 * the app is ready (onReady: before listen() binds the main port, so the collector reports ready
 * only once both ports are bound; a port that cannot be bound fails ready()/listen()) and stops it
 * on close. Without queryPort, `queryListener` is null and nothing runs.
 *
 * The worker opens the database the main store has opened and migrated: the SQLite file of the
 * store, or DATABASE_URL with the store's schema; a store that is neither (a test double) is a
 * configuration error.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { CollectorConfig, LogLevel } from '../config.js';
import { Errors } from '../errors.js';
import type { HttpsMaterial } from '../http-listener.js';
import type { ReadOnlyStoreTarget, Store } from '../store/index.js';
import { QueryListener } from './query-listener.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The read-only query listener (null when config.queryPort is 0). */
    queryListener: QueryListener | null;
  }
}

/** Where the worker opens the main store's database read-only. */
function readOnlyTarget(store: Store, config: CollectorConfig): ReadOnlyStoreTarget {
  const s = store as Store & { sqliteFile?: string; pgSchema?: string };
  if (s.engine === 'sqlite' && s.sqliteFile) return { sqliteFile: s.sqliteFile };
  if (s.engine === 'postgres' && config.databaseUrl) return { databaseUrl: config.databaseUrl, ...(s.pgSchema ? { pgSchema: s.pgSchema } : {}) };
  throw Errors.config('invalid configuration: queryPort: the query listener needs the SQLite file in dataDir or DATABASE_URL (the store in use has neither)');
}

/** The plugin; `https` is the main listener's TLS material (null: plain HTTP). */
export const queryListenerPlugin = (https: HttpsMaterial): FastifyPluginAsync => {
  const plugin: FastifyPluginAsync = async (app) => {
    const { config, store } = app.collector;
    if (config.queryPort === 0) {
      app.decorate('queryListener', null);
      return;
    }
    const listener = new QueryListener({
      config,
      https,
      target: readOnlyTarget(store, config),
      log: app.log,
      // The main logger's level (a disabled logger has none): the worker logs as much, or nothing.
      workerLogLevel: (app.log.level as LogLevel | undefined) ?? 'silent',
      recordTokenUse: (tokenHash) => store.findApiToken(tokenHash),
    });
    app.decorate('queryListener', listener);
    app.addHook('onReady', async () => listener.start());
    app.addHook('onClose', async () => listener.stop());
  };
  // fastify-plugin's habit: the decoration and hooks belong to the root app (server-cli reads it).
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return plugin;
};
