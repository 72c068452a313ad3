/**
 * The Fastify instance every collector listener is built on: the main app (app.ts) and the
 * read-only query listener (query-listener/query-app.ts) alike, so both ports have the same
 * timeouts, connection cap, logger redaction, error replies and graceful close.
 *
 * Listener (http and https alike): idle, keep-alive, headers, request and TLS-handshake timeouts and
 * a connection cap from config. Errors: every thrown value becomes the collector's error reply
 * (http-errors.ts). Closing: responses finished while closing carry `connection: close`, and
 * requests arriving then get 503.
 */
import fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { CollectorConfig } from './config.js';
import { installErrorHandlers } from './http-errors.js';

/** Paths pino must never print (secrets in headers; enroll secrets are only ever in headers). */
export const LOG_REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  `req.headers["x-mcpwatch-signature"]`,
  'headers.authorization',
  'authorization',
  'enrollSecrets',
  'adminToken',
  'databaseUrl',
];

/** TLS material of a listener (PEM); null serves plain HTTP. */
export type HttpsMaterial = { key: string; cert: string } | null;

/**
 * Timeouts and caps for the listener, http and https alike (issue 10 item 14): idle sockets are
 * reaped (connectionTimeout = socket inactivity; keepAliveTimeout between requests), headers and
 * whole requests are bounded in time (slowloris), and Node checks those deadlines often enough for
 * small values to take effect. The https options object is also what https.createServer reads.
 */
export function listenerOptions(config: CollectorConfig, https: HttpsMaterial): Record<string, unknown> {
  const headersTimeout = Math.min(config.httpHeadersTimeoutMs, config.httpRequestTimeoutMs);
  const server = {
    headersTimeout,
    requestTimeout: config.httpRequestTimeoutMs,
    keepAliveTimeout: config.httpKeepAliveTimeoutMs,
    // How often Node looks for connections past headersTimeout/requestTimeout (default 30 s).
    connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(headersTimeout / 4))),
  };
  return {
    // TLS: a client that connects and never completes the handshake is cut after headersTimeout too.
    ...(https ? { https: { ...https, ...server, handshakeTimeout: headersTimeout } } : { http: server }),
    connectionTimeout: config.httpIdleTimeoutMs,
    keepAliveTimeout: config.httpKeepAliveTimeoutMs,
    requestTimeout: config.httpRequestTimeoutMs,
    ...(config.httpMaxRequestsPerSocket > 0 ? { maxRequestsPerSocket: config.httpMaxRequestsPerSocket } : {}),
    // Behind a load balancer, the client address (per-source throttling) comes from X-Forwarded-For.
    ...(config.trustProxy.length > 0 ? { trustProxy: [...config.trustProxy] } : {}),
  };
}

/**
 * A Fastify instance with the collector's listener options, logger, error handlers and graceful
 * close; no routes. `logger`: a pino logger to use, false for none, or undefined for pino at
 * config.logLevel on stdout (with `name` when given, to tell listeners apart in the log).
 */
export function newListenerApp(config: CollectorConfig, https: HttpsMaterial, logger?: FastifyBaseLogger | false, name?: string): FastifyInstance {
  const loggerOpts =
    logger === false
      ? { logger: false }
      : logger
        ? { loggerInstance: logger }
        : { logger: { level: config.logLevel, redact: { paths: LOG_REDACT_PATHS, censor: '[REDACTED]' }, ...(name ? { name } : {}) } };
  const app = fastify({
    ...loggerOpts,
    logController: new LogController({ disableRequestLogging: true }),
    ...listenerOptions(config, https),
    return503OnClosing: true,
  }) as unknown as FastifyInstance;
  // A cap on concurrent connections: past it the listener refuses at accept, before descriptors run out.
  app.server.maxConnections = config.httpMaxConnections;
  installErrorHandlers(app);
  // Graceful shutdown: responses finished while closing tell keep-alive clients to hang up, so the
  // server's close is not held open by idle sockets until keepAliveTimeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_req, reply) => {
    if (closing) void reply.header('connection', 'close');
  });
  return app;
}
