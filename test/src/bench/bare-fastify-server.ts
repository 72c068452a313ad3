/**
 * The baseline of the collector benchmark: a bare Fastify server that does only what any HTTP
 * service must do with a batch — read the body, gunzip it, JSON.parse it, answer — with no
 * signature verification, no schema validation and no store. Run as a child process:
 *   node dist/bench/bare-fastify-server.js   (prints "listening PORT" on stdout; SIGTERM stops it)
 */
import { gunzipSync } from 'node:zlib';
import fastify from 'fastify';

const app = fastify({ logger: false, bodyLimit: 5 * 1024 * 1024 });
app.removeAllContentTypeParsers();
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
app.post<{ Body: Buffer }>('/v1/batches', async (req) => {
  const doc = JSON.parse(gunzipSync(req.body).toString('utf8')) as { seq: number };
  return { acked: doc.seq };
});
await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening ${(app.server.address() as { port: number }).port}\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
