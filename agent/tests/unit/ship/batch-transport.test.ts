import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { generateKeyPairSync } from 'node:crypto';
import { verifyBatch } from '@mcpwatch/shared';
import { HttpClient } from '../../../src/ship/http-client.js';
import { gzipBody, httpBatchTransport, SYNC_GZIP_MAX_BYTES } from '../../../src/ship/batch-transport.js';
import type { PendingBatch } from '../../../src/ship/batch-builder.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const batch: PendingBatch = { agentId: 'a1', seq: 3, prevHash: '', end: { segment: 1, offset: 10 }, count: 0, body: '{"agentId":"a1","seq":3,"events":[]}' };

describe('httpBatchTransport (ship/batch-transport): one signed POST, the answer as a value', () => {
  let server: http.Server;
  let url: string;
  let answer: (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) => void;
  const client = new HttpClient({ timeoutMs: 5000 });
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => answer(req, Buffer.concat(chunks), res));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    client.close();
    await new Promise((r) => server.close(r));
  });
  const send = () => httpBatchTransport(client, () => 1_700_000_000_000).send({ agentId: 'a1', privateKey, server: url }, batch);
  const reply = (status: number, json: unknown, headers: Record<string, string> = {}) => (_req: http.IncomingMessage, _b: Buffer, res: http.ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(json));
  };

  it('sends the gzip body signed over the bytes as sent, and returns the ack with settings and commands', async () => {
    let seen: { path?: string; signed?: boolean; body?: string } = {};
    answer = (req, body, res) => {
      const h = req.headers as Record<string, string>;
      seen = { path: req.url!, signed: verifyBatch(publicKey, 'a1', 3, Number(h['x-mcpwatch-timestamp']), body, h['x-mcpwatch-signature']!), body: gunzipSync(body).toString() };
      reply(200, { acked: 3, settings: { heartbeatMs: 1000 }, commands: [{ id: 'c1' }] })(req, body, res);
    };
    expect(await send()).toEqual({ ok: true, settings: { heartbeatMs: 1000 }, commands: [{ id: 'c1' }] });
    expect(seen).toEqual({ path: '/v1/batches', signed: true, body: batch.body });
  });

  it('calls an ack for another seq a retryable failure', async () => {
    answer = reply(200, { acked: 2 });
    expect(await send()).toMatchObject({ ok: false, retryable: true, status: 200 });
  });

  it('keeps the wire code and Retry-After of a refusal, retryable or not', async () => {
    answer = reply(429, { code: 'MCPW_ERR_RATE_LIMITED', message: 'slow down' }, { 'retry-after': '3' });
    expect(await send()).toEqual({ ok: false, retryable: true, status: 429, code: 'MCPW_ERR_RATE_LIMITED', retryAfterMs: 3000, error: '429 MCPW_ERR_RATE_LIMITED slow down' });
    answer = reply(400, { code: 'MCPW_ERR_SCHEMA', message: 'bad' });
    expect(await send()).toMatchObject({ ok: false, retryable: false, status: 400, code: 'MCPW_ERR_SCHEMA' });
  });

  it('turns a refused connection into a retryable network failure, never a throw', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const r = await httpBatchTransport(client).send({ agentId: 'a1', privateKey, server: `http://127.0.0.1:${port}` }, batch);
    expect(r).toMatchObject({ ok: false, retryable: true, code: 'MCPW_ERR_NETWORK' });
  });
  it('gzips a small body inline and a big one on the thread pool, both as valid gzip of the UTF-8 body', async () => {
    const small = '{"agentId":"a1","seq":1,"events":[{"note":"h\u00e9llo \u2603"}]}';
    const big = JSON.stringify({ pad: 'x\u00e9'.repeat(SYNC_GZIP_MAX_BYTES) });
    expect(Buffer.byteLength(big)).toBeGreaterThan(SYNC_GZIP_MAX_BYTES);
    for (const body of [small, big, '']) expect(gunzipSync(await gzipBody(body)).toString('utf8')).toBe(body);
  });
});
