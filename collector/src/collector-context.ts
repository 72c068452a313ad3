/**
 * What every route plugin of the collector shares, decorated on the Fastify instance as
 * `app.collector` (fastify's decorate habit): the frozen config, the store, the CA, metrics, the
 * agent key cache and the clock. Plugins read it; nothing else is global.
 */
import type { CertificateAuthority, ServerCertificateOrigin } from './ca/certificate-authority.js';
import type { AgentCache } from './agent-cache.js';
import type { CollectorConfig } from './config.js';
import type { CollectorMetrics } from './metrics.js';
import type { Store } from './store/types.js';

export interface CollectorContext {
  readonly config: CollectorConfig;
  readonly store: Store;
  readonly ca: CertificateAuthority;
  readonly metrics: CollectorMetrics;
  readonly agentCache: AgentCache;
  /** Milliseconds clock (Date.now unless a test injects one). */
  readonly now: () => number;
  /**
   * How this app serves: protocol and, for embedded TLS, the server certificate (informational:
   * agents pin the CA, never this certificate) and why it was issued or kept at this start.
   */
  readonly tls: {
    mode: 'embedded' | 'files' | 'off';
    serverFingerprint: string | null;
    serverNotAfter?: string | null;
    serverOrigin?: ServerCertificateOrigin | null;
  };
}

/**
 * What the read API's plugins (routes/query.ts, tools/tool-routes.ts) use of the context: the
 * main app hands them its context, the query listener's worker (query-listener/) a read-only
 * store and the same config. Nothing else is there: the worker has no CA, agent cache or outlets.
 */
export type ReadApiContext = Pick<CollectorContext, 'config' | 'store'>;

declare module 'fastify' {
  interface FastifyInstance {
    collector: CollectorContext;
  }
}
