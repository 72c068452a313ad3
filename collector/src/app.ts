/**
 * `buildApp(config, deps?)`: the collector as a Fastify instance, ready for `inject()` or
 * `listen()` (it never listens itself; server-cli.ts does).
 *
 * Every feature is a plugin registered from the PLUGINS list below; a new feature is one line there.
 * Plugins read shared services from `app.collector` (collector-context.ts).
 *
 * Ownership: a store passed in `deps` belongs to the caller; a store buildApp opened (SQLite in
 * dataDir or DATABASE_URL) is closed by `app.close()` after in-flight requests finish — also after
 * a failed `app.ready()`/`listen()` (Fastify runs onClose then too). When buildApp itself fails
 * after opening the store (bad TLS material, a plugin that throws while registering), it closes
 * what it started (the app's onClose hooks, then the store) before rethrowing.
 * TLS: `embedded` serves the server certificate kept in dataDir/ca (issued by the CA on first
 * start, renewed before expiry or when serverNames change: ca/certificate-authority.ts); `files`
 * reads tlsCertFile/tlsKeyFile (unreadable -> MCPW_ERR_CONFIG naming the key); `off` serves HTTP.
 * Listener (http and https alike): idle, keep-alive, headers, request and TLS-handshake timeouts and
 * a connection cap from config (http-listener.ts, shared with the query listener). Before the
 * plugins, the abuse guard (abuse-guard.ts: failed-auth throttling, enrollment caps, load shedding)
 * is installed at the root.
 * Query listener: with config.queryPort, the read API is also served on that port by a worker
 * thread with its own read-only database connection (query-listener/), started when the app is
 * ready (so before `listen()` binds the main port) and stopped by `app.close()`.
 */
import { readFileSync } from 'node:fs';
import type { FastifyBaseLogger, FastifyInstance, FastifyPluginAsync } from 'fastify';
import { installAbuseGuard } from './abuse-guard.js';
import { AgentCache } from './agent-cache.js';
import { loadOrCreateCa, loadOrCreateServerCertificate, type CertificateAuthority, type ServerCertificateOrigin } from './ca/certificate-authority.js';
import type { CollectorContext } from './collector-context.js';
import type { CollectorConfig } from './config.js';
import { Errors } from './errors.js';
import { newListenerApp, type HttpsMaterial } from './http-listener.js';
import { CollectorMetrics } from './metrics.js';
import { outboxPlugin } from './outbox/outbox-plugin.js';
import { retentionPlugin } from './retention.js';
import { batchRoutes } from './routes/batches.js';
import { containmentPlugin } from './containment/containment-plugin.js';
import { dashboardPlugin } from './dashboard/dashboard-plugin.js';
import { toolRoutes } from './tools/tool-routes.js';
import { toolCallsPlugin } from './tool-calls/tool-calls-plugin.js';
import { enrollRoutes } from './routes/enroll.js';
import { healthRoutes } from './routes/health.js';
import { historyRoutes } from './routes/history.js';
import { openapiPlugin } from './openapi.js';
import { queryRoutes } from './routes/query.js';
import { queryListenerPlugin } from './query-listener/query-listener-plugin.js';
import { adminRoutes } from './routes/admin.js';
import { createStore } from './store/index.js';
import type { Store } from './store/types.js';

/** Collaborators tests (or an embedding program) may supply. */
export interface AppDeps {
  /** The store; default: createStore() from config (SQLite in dataDir, or DATABASE_URL). */
  store?: Store;
  /** The CA; default: loaded or created per config. */
  ca?: CertificateAuthority;
  /** Milliseconds clock; default Date.now. */
  now?: () => number;
  /** A pino logger to use; default: a pino logger at config.logLevel on stdout. false: silent. */
  logger?: FastifyBaseLogger | false;
}

/**
 * The plugins, in registration order. Each entry is one feature; add yours here.
 * (H5: query and admin routes; H7: outbox drainers.)
 */
const PLUGINS: ReadonlyArray<readonly [string, FastifyPluginAsync]> = [
  ['openapi', openapiPlugin],
  ['health', healthRoutes],
  ['enroll', enrollRoutes],
  // Before batches: it decorates `containment`, which the ack reads (commands) and feeds (results).
  ['containment', containmentPlugin],
  // Before batches too: it decorates `toolPolicy`, which the ack serves as settings.toolPolicy.
  ['tool-calls', toolCallsPlugin],
  ['batches', batchRoutes],
  ['retention', retentionPlugin],
  ['outbox', outboxPlugin()],
  ['query', queryRoutes],
  ['admin', adminRoutes],
  ['history', historyRoutes],
  // The dashboard at /ui (static app + session API), in its own scope with cookie/CSRF/helmet.
  ['dashboard', dashboardPlugin()],
  ['tools', toolRoutes],
];

export { LOG_REDACT_PATHS } from './http-listener.js';

interface TlsSetup {
  https: HttpsMaterial;
  fingerprint: string | null;
  notAfter?: string;
  origin?: ServerCertificateOrigin;
}

function tlsOptions(config: CollectorConfig, ca: CertificateAuthority): TlsSetup {
  if (config.tls === 'off') return { https: null, fingerprint: null };
  if (config.tls === 'files') {
    const read = (path: string, keyName: string): string => {
      try {
        return readFileSync(path, 'utf8');
      } catch (e) {
        throw Errors.config(`invalid configuration: ${keyName}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
      }
    };
    return { https: { cert: read(config.tlsCertFile, 'tlsCertFile'), key: read(config.tlsKeyFile, 'tlsKeyFile') }, fingerprint: null };
  }
  const server = loadOrCreateServerCertificate(ca, config.dataDir, config.serverNames);
  return { https: { cert: `${server.certificatePem}${ca.certificatePem}`, key: server.keyPem }, fingerprint: server.fingerprint, notAfter: server.notAfter, origin: server.origin };
}

/** Builds the collector app (see module comment). The returned instance is ready to inject or listen. */
export async function buildApp(config: CollectorConfig, deps: AppDeps = {}): Promise<FastifyInstance> {
  const now = deps.now ?? Date.now;
  const ca = deps.ca ?? loadOrCreateCa(config);
  const tls = tlsOptions(config, ca);
  const ownStore = deps.store === undefined;
  const store = deps.store ?? (await createStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl }));
  let app: FastifyInstance | undefined;
  try {
    app = newApp(config, deps, { now, ca, tls, store, ownStore });
    // Root scope, before the routes: failed-auth throttling, enrollment caps, load shedding.
    await installAbuseGuard(app, config, app.collector.metrics);
    // Each plugin is its own encapsulated scope (batches replaces the content-type parsers in its own).
    for (const [, plugin] of PLUGINS) await app.register(plugin);
    // Last: it is handed the TLS material itself (the context holds no private key).
    await app.register(queryListenerPlugin(tls.https));
    return app;
  } catch (e) {
    // Close what was started, then report the startup error itself (not a close error).
    await app?.close().catch(() => undefined);
    if (ownStore) await store.close().catch(() => undefined);
    throw e;
  }
}

/** The Fastify instance around an open store: logger, TLS, context and lifecycle hooks (no plugins yet). */
function newApp(
  config: CollectorConfig,
  deps: AppDeps,
  parts: { now: () => number; ca: CertificateAuthority; tls: ReturnType<typeof tlsOptions>; store: Store; ownStore: boolean },
): FastifyInstance {
  const { now, ca, tls, store, ownStore } = parts;
  const app = newListenerApp(config, tls.https, deps.logger);

  const context: CollectorContext = {
    config,
    store,
    ca,
    metrics: new CollectorMetrics(),
    agentCache: new AgentCache(store, { ttlMs: config.agentCacheTtlMs, max: config.agentCacheMax, now }),
    now,
    tls: {
      mode: config.tls === 'off' ? 'off' : config.tls === 'files' ? 'files' : 'embedded',
      serverFingerprint: tls.fingerprint,
      serverNotAfter: tls.notAfter ?? null,
      serverOrigin: tls.origin ?? null,
    },
  };
  app.decorate('collector', context);
  if (ownStore) app.addHook('onClose', async () => store.close());
  return app;
}
