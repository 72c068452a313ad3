/**
 * `mcpwatch-collector`: parses the configuration (flags, env, optional --config file), builds the
 * app, listens, prints where and the CA fingerprint agents pin (the only fingerprint it prints:
 * the embedded server certificate is kept in the data dir and renewed under the same CA, so agents
 * must never pin it; its validity is printed for information; while running it is checked every
 * 12 hours and renewed in place, under the same CA, before it expires), and shuts down gracefully on
 * SIGTERM/SIGINT (stop accepting, finish in-flight batches, close the store; exit anyway after
 * shutdownTimeoutMs). With queryPort, the read-only query listener (query-listener/) is bound
 * before the main port and printed after it; a query port that cannot be bound is a startup error.
 *
 *   MCPWATCH_ENROLL_SECRET=... MCPWATCH_ADMIN_TOKEN=... npx mcpwatch-collector --data-dir DIR --listen 127.0.0.1:PORT
 *
 * Exit codes: 0 after a clean shutdown, 1 when the collector cannot start (store, CA, port),
 * 2 for invalid configuration (the message names the key). Human-readable lines go to stderr; pino
 * JSON logs to stdout. Neither ever contains a secret.
 */
import { mkdirSync } from 'node:fs';
import pino from 'pino';
import { colonFingerprint } from '@mcpwatch/shared';
import { buildApp, LOG_REDACT_PATHS } from './app.js';
import type { Server as TlsServer } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { loadOrCreateServerCertificate, type ServerCertificateOrigin } from './ca/certificate-authority.js';
import { configHelp, loadConfig, redactedConfig, type CollectorConfig } from './config.js';
import { Errors, isCollectorError } from './errors.js';

const USAGE = `usage: mcpwatch-collector [--data-dir DIR] [--listen HOST:PORT] [--config FILE] [options]

Runs the mcpwatch collector: agents enroll (POST /v1/enroll) and send signed batches (POST /v1/batches).
Secrets come from the environment only: MCPWATCH_ENROLL_SECRET ("name:secret,name2:secret2" or one
secret) and MCPWATCH_ADMIN_TOKEN. DATABASE_URL=postgres://... uses PostgreSQL instead of SQLite in DIR.
`;

export interface CliIo {
  env: Record<string, string | undefined>;
  stderr: (line: string) => void;
  /** Where to install SIGTERM/SIGINT handlers (process by default). */
  signals: Pick<NodeJS.Process, 'once' | 'removeListener'>;
}

const SERVER_ORIGIN_TEXT: Record<ServerCertificateOrigin, string> = {
  kept: 'kept from the data dir',
  created: 'created',
  renewed: 'renewed before expiry',
  'names-changed': 'issued again: serverNames changed',
  'ca-changed': 'issued again: the CA changed',
  unreadable: 'issued again: the stored one was unusable',
};

/** How often a running collector checks its embedded server certificate for renewal. */
const SERVER_CERT_CHECK_MS = 12 * 3600_000;

/**
 * Renews the embedded server certificate of a running app in place when it is due (fewer than 30
 * days left, names or CA changed; see loadOrCreateServerCertificate): the listeners' secure
 * contexts (main port and query port) are swapped, so new connections get the new certificate and
 * open ones are not cut.
 * Returns why it was (or was not) issued. Throws MCPW_ERR_CA when the data dir cannot be written.
 */
export function refreshServerCertificate(app: FastifyInstance, config: CollectorConfig, now: Date = new Date()): ServerCertificateOrigin {
  const { ca } = app.collector;
  const server = loadOrCreateServerCertificate(ca, config.dataDir, config.serverNames, now);
  if (server.origin !== 'kept') {
    const material = { cert: `${server.certificatePem}${ca.certificatePem}`, key: server.keyPem };
    (app.server as unknown as TlsServer).setSecureContext(material);
    app.queryListener?.setCertificate(material);
  }
  return server.origin;
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Runs the collector until a signal stops it; resolves with the exit code. */
export async function main(argv: string[], io: Partial<CliIo> = {}): Promise<number> {
  const env = io.env ?? process.env;
  const stderr = io.stderr ?? ((line: string) => process.stderr.write(`${line}\n`));
  const signals = io.signals ?? process;
  if (argv.includes('--help') || argv.includes('-h')) {
    stderr(`${USAGE}\n${configHelp()}`);
    return 0;
  }

  let config: CollectorConfig;
  try {
    config = loadConfig({ argv, env });
  } catch (e) {
    stderr(`mcpwatch-collector: ${(e as Error).message}`);
    return 2;
  }

  const logger = pino({ level: config.logLevel, redact: { paths: LOG_REDACT_PATHS, censor: '[REDACTED]' } });
  if (config.enrollSecrets.length === 0) stderr('mcpwatch-collector: warning: MCPWATCH_ENROLL_SECRET is not set; no agent can enroll');

  let app: Awaited<ReturnType<typeof buildApp>>;
  let built: typeof app | undefined;
  try {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    app = built = await buildApp(config, { logger });
    await app.listen({ host: config.listen.host, port: config.listen.port });
  } catch (e) {
    const code = isCollectorError(e) ? e.code : ((e as NodeJS.ErrnoException).code ?? 'error');
    stderr(`mcpwatch-collector: cannot start: ${code}: ${(e as Error).message}`);
    logger.error({ err: e }, 'startup failed');
    // A port that could not be bound (main or query): close what did start (store, query worker).
    await built?.close().catch(() => undefined);
    return isCollectorError(e) && e.code === Errors.config.code ? 2 : 1;
  }

  const { ca, tls, store } = app.collector;
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.listen.port;
  const url = `${tls.mode === 'off' ? 'http' : 'https'}://${urlHost(config.listen.host)}:${port}`;
  logger.info(
    { url, store: store.engine, config: redactedConfig(config), caOrigin: ca.origin, serverCertificate: tls.serverFingerprint ? { fingerprint: tls.serverFingerprint, notAfter: tls.serverNotAfter, origin: tls.serverOrigin } : null },
    'collector listening',
  );
  stderr(`mcpwatch-collector listening on ${url} (store: ${store.engine}, tls: ${tls.mode})`);
  if (app.queryListener) {
    const queryUrl = `${tls.mode === 'off' ? 'http' : 'https'}://${urlHost(config.listen.host)}:${app.queryListener.port}`;
    logger.info({ url: queryUrl }, 'query listener listening (read API, own thread)');
    stderr(`query listener (read API only, own thread and read-only database connection) on ${queryUrl}`);
  }
  stderr(`CA fingerprint (sha256, pin this in agents): ${ca.fingerprint}`);
  stderr(`CA fingerprint (colon form): ${colonFingerprint(ca.fingerprint)}`);
  if (tls.mode === 'embedded' && tls.serverNotAfter) {
    stderr(`server certificate: issued by this CA, valid until ${tls.serverNotAfter} (${SERVER_ORIGIN_TEXT[tls.serverOrigin ?? 'kept']}); renewed automatically, do not pin it`);
  }

  let renewTimer: NodeJS.Timeout | null = null;
  if (tls.mode === 'embedded') {
    renewTimer = setInterval(() => {
      try {
        const origin = refreshServerCertificate(app, config);
        if (origin !== 'kept') logger.warn({ origin }, 'embedded server certificate issued again under the same CA');
      } catch (e) {
        logger.error({ err: e }, 'cannot renew the embedded server certificate; still serving the current one');
      }
    }, SERVER_CERT_CHECK_MS);
    renewTimer.unref();
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      if (renewTimer) clearInterval(renewTimer);
      signals.removeListener('SIGTERM', onTerm);
      signals.removeListener('SIGINT', onInt);
      logger.info({ signal }, 'shutting down: finishing in-flight requests');
      const timer = setTimeout(() => {
        logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out; exiting');
        resolve(1);
      }, config.shutdownTimeoutMs);
      timer.unref();
      app.close().then(
        () => {
          clearTimeout(timer);
          logger.info('collector stopped');
          resolve(0);
        },
        (e: unknown) => {
          clearTimeout(timer);
          logger.error({ err: e }, 'error while shutting down');
          resolve(1);
        },
      );
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    signals.once('SIGTERM', onTerm);
    signals.once('SIGINT', onInt);
  });
}
