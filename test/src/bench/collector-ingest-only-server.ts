/**
 * The collector with its projector paused, for bench:collector's "projection paused" target: the
 * same buildApp, config (environment and argv as mcpwatch-collector reads them) and SQLite store,
 * opened with `project: false`, so the timed rounds measure the ingest request path alone (every
 * check, the append transaction and the ack). The log is projected only after the rounds, when the
 * bench asks (GET /readyz shows the pending rows; this server projects on SIGUSR2).
 * Run as a child process:
 *   node dist/bench/collector-ingest-only-server.js --data-dir DIR --listen 127.0.0.1:0 --tls off
 * prints "listening on URL" on stderr; SIGTERM stops it.
 */
import { mkdirSync } from 'node:fs';
import { buildApp, createStore, loadConfig } from '@mcpwatch/collector';

const config = loadConfig({ argv: process.argv.slice(2), env: process.env });
mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
const store = await createStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, project: false });
const app = await buildApp(config, { store });
await app.listen({ host: config.listen.host, port: config.listen.port });
const address = app.server.address() as { port: number };
process.stderr.write(`listening on http://${config.listen.host}:${address.port}\n`);
process.on('SIGUSR2', () => void (store as typeof store & { awaitProjection(t?: number): Promise<void> }).awaitProjection(600_000));
process.once('SIGTERM', () => void app.close().then(() => store.close()).then(() => process.exit(0)));
