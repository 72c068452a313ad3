/**
 * The probe's fetch over node:http (probe/node-fetch.ts) against real HTTP services: what the
 * SDK's transports and the probe's guard rely on (status, headers, streamed body, request body
 * and headers sent, redirects not followed, null-body statuses, abort and network errors).
 */
import { Agent, createServer, type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { nodeFetch } from '../../src/probe/node-fetch.js';
import { LiteResponse } from '../../src/probe/web-lite.js';

const servers: { close: () => void }[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

async function serve(handler: RequestListener): Promise<{ url: string; seen: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] }> {
  const seen: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];
  const srv: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res);
    });
  });
  servers.push(srv);
  const port = await new Promise<number>((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as { port: number }).port)));
  return { url: `http://127.0.0.1:${port}`, seen };
}

test('a POST sends its method, headers and body, and the answer is a LiteResponse with status, headers and body', async () => {
  const s = await serve((_req, res) => {
    res.setHeader('set-cookie', ['a=1', 'b=2']);
    res.writeHead(200, 'Fine', { 'content-type': 'application/json', 'mcp-session-id': 'sess-1' }).end('{"jsonrpc":"2.0","id":1,"result":{}}');
  });
  const res = await nodeFetch(`${s.url}/mcp?x=1`, { method: 'POST', headers: new Headers({ 'content-type': 'application/json', accept: 'application/json, text/event-stream' }), body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
  expect(res).toBeInstanceOf(LiteResponse);
  expect(res.status).toBe(200);
  expect(res.ok).toBe(true);
  expect(res.statusText).toBe('Fine');
  expect(res.headers.get('mcp-session-id')).toBe('sess-1');
  expect(res.headers.get('set-cookie')).toBe('a=1, b=2');
  expect(await res.json()).toEqual({ jsonrpc: '2.0', id: 1, result: {} });
  expect(s.seen).toHaveLength(1);
  expect(s.seen[0]).toMatchObject({ method: 'POST', url: '/mcp?x=1', body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
  expect(s.seen[0]!.headers['content-type']).toBe('application/json');
  expect(s.seen[0]!.headers['content-length']).toBe(String(Buffer.byteLength('{"jsonrpc":"2.0","id":1,"method":"ping"}')));
});

test('a redirect is returned as it is, never followed', async () => {
  const s = await serve((_req, res) => res.writeHead(302, { location: 'http://203.0.113.9/elsewhere' }).end());
  const res = await nodeFetch(`${s.url}/mcp`, { method: 'GET' });
  expect(res.status).toBe(302);
  expect(res.headers.get('location')).toBe('http://203.0.113.9/elsewhere');
  expect(s.seen.map((x) => x.url)).toEqual(['/mcp']);
});

test('a 204 or 202 answer: 204 has a null body, 202 an empty one', async () => {
  const s = await serve((req, res) => res.writeHead(req.url === '/204' ? 204 : 202).end());
  const r204 = await nodeFetch(`${s.url}/204`, { method: 'DELETE' });
  expect(r204.status).toBe(204);
  expect(r204.body).toBeNull();
  const r202 = await nodeFetch(`${s.url}/202`, { method: 'POST', body: '{}' });
  expect(r202.status).toBe(202);
  expect(await r202.text()).toBe('');
});

test('an event stream is readable while it is open, and cancelling it closes the connection', async () => {
  let closed!: () => void;
  const gone = new Promise<void>((r) => (closed = r));
  const s = await serve((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('event: endpoint\ndata: /messages?session=1\n\n');
    req.socket.once('close', () => closed());
  });
  const res = await nodeFetch(`${s.url}/sse`, { method: 'GET', headers: { accept: 'text/event-stream' } });
  const reader = res.body!.getReader();
  const first = await reader.read();
  expect(Buffer.from(first.value!).toString()).toBe('event: endpoint\ndata: /messages?session=1\n\n');
  await reader.cancel();
  await gone;
});

test('an abort before the answer rejects with the signal\'s reason; a timeout the same', async () => {
  const s = await serve(() => undefined); // never answers
  const ctl = new AbortController();
  const pending = nodeFetch(`${s.url}/slow`, { method: 'POST', body: '{}', signal: ctl.signal });
  setTimeout(() => ctl.abort(new Error('stop here')), 50);
  await expect(pending).rejects.toThrow('stop here');
  await expect(nodeFetch(`${s.url}/slow`, { signal: AbortSignal.timeout(50) })).rejects.toMatchObject({ name: 'TimeoutError' });
  const done = new AbortController();
  done.abort();
  await expect(nodeFetch(`${s.url}/slow`, { signal: done.signal })).rejects.toMatchObject({ name: 'AbortError' });
});

test('nothing listening, or a listener that is not HTTP: TypeError fetch failed with the cause', async () => {
  const raw = createTcpServer((sock) => sock.end('SSH-2.0-OpenSSH_9.6\r\n'));
  servers.push(raw);
  const port = await new Promise<number>((r) => raw.listen(0, '127.0.0.1', () => r((raw.address() as { port: number }).port)));
  const err = await nodeFetch(`http://127.0.0.1:${port}/mcp`).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(TypeError);
  expect((err as Error).message).toBe('fetch failed');
  expect((err as { cause?: { code?: string } }).cause?.code).toMatch(/^HPE_/); // node:http's parser refused the answer
  raw.close();
  await new Promise((r) => setTimeout(r, 20));
  const refused = await nodeFetch(`http://127.0.0.1:${port}/mcp`).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(TypeError);
  expect(((refused as { cause?: { code?: string } }).cause)?.code).toBe('ECONNREFUSED');
  await expect(nodeFetch('file:///etc/passwd')).rejects.toThrow('fetch failed');
});

test('requests through one keep-alive agent share a connection; without an agent each has its own', async () => {
  let connections = 0;
  const s = await serve((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  const srv = (servers.at(-1) as Server);
  srv.on('connection', () => connections++);
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  for (let i = 0; i < 3; i++) expect(await (await nodeFetch(`${s.url}/mcp`, { method: 'POST', body: '{}' }, agent)).json()).toEqual({});
  expect(connections).toBe(1);
  agent.destroy();
  for (let i = 0; i < 2; i++) await (await nodeFetch(`${s.url}/mcp`, { method: 'POST', body: '{}' })).text();
  expect(connections).toBe(3);
});

test('cancelling a body that arrived whole (the SDK does so with every 202) keeps the keep-alive connection; one still arriving is closed', async () => {
  let connections = 0;
  let closedEarly!: () => void;
  const early = new Promise<void>((r) => (closedEarly = r));
  const s = await serve((req, res) => {
    if (req.url === '/partial') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100000' });
      res.write('{"part":');
      req.socket.once('close', () => closedEarly());
      return;
    }
    res.writeHead(req.url === '/202' ? 202 : 200, { 'content-type': 'application/json' }).end(req.url === '/202' ? '' : '{}');
  });
  (servers.at(-1) as Server).on('connection', () => connections++);
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const accepted = await nodeFetch(`${s.url}/202`, { method: 'POST', body: '{}' }, agent);
  expect(accepted.status).toBe(202);
  await accepted.body?.cancel();
  expect(await (await nodeFetch(`${s.url}/mcp`, { method: 'POST', body: '{}' }, agent)).json()).toEqual({});
  expect(connections).toBe(1);
  const partial = await nodeFetch(`${s.url}/partial`, { method: 'POST', body: '{}' }, agent);
  await partial.body!.cancel();
  await early;
  agent.destroy();
});

test('a body larger than the queued chunks is read whole, in order (the node response paused and resumed)', async () => {
  const big = Buffer.alloc(4 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = i % 251;
  const s = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    let off = 0;
    const more = (): void => {
      while (off < big.length) {
        const ok = res.write(big.subarray(off, off + 1024));
        off += 1024;
        if (!ok) return void res.once('drain', more);
      }
      res.end();
    };
    more();
  });
  const res = await nodeFetch(`${s.url}/big`);
  const reader = res.body!.getReader();
  await new Promise((r) => setTimeout(r, 50)); // the reader lags: the node response must pause, not drop
  const got: Buffer[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    got.push(Buffer.from(value));
  }
  expect(Buffer.concat(got).equals(big)).toBe(true);
});

test('an abort while the body streams errors the body and closes the connection', async () => {
  let closed!: () => void;
  const gone = new Promise<void>((r) => (closed = r));
  const s = await serve((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: 1\n\n');
    req.socket.once('close', () => closed());
  });
  const ctl = new AbortController();
  const res = await nodeFetch(`${s.url}/sse`, { signal: ctl.signal });
  const reader = res.body!.getReader();
  expect(Buffer.from((await reader.read()).value!).toString()).toBe('data: 1\n\n');
  ctl.abort(new Error('deadline'));
  await expect(reader.read()).rejects.toBeDefined();
  await gone;
});
