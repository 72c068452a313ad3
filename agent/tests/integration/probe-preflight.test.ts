/**
 * The probe's plain-HTTP preflight (probe/mcp-probe.ts) against real HTTP services: what it
 * settles alone (a JSON API's own 404, a web page, a redirect: one small request per path, no
 * SDK session) and what it hands to the SDK as before (a JSON-RPC answer typed or not, an event
 * stream, 401/403).
 */
import { createServer, type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';
import { preflight, probeMcp } from '../../src/probe/mcp-probe.js';

const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

async function serve(handler: RequestListener): Promise<{ port: number; seen: { method: string; url: string; headers: IncomingHttpHeaders }[] }> {
  const seen: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];
  const srv = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    handler(req, res);
  });
  servers.push(srv);
  const port = await new Promise<number>((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as { port: number }).port)));
  return { port, seen };
}

const verdict = (port: number, path: string) => preflight(new URL(`http://127.0.0.1:${port}${path}`), /\/sse$/.test(path), 1500, AbortSignal.timeout(4000));

test('a JSON API\'s own 404 is settled by one request per path, without credentials or an MCP session', async () => {
  const api = await serve((_req, res) => res.writeHead(404, { 'content-type': 'application/json' }).end('{"statusCode":404,"error":"Not Found","message":"Route POST:/mcp not found"}'));
  expect(await verdict(api.port, '/mcp')).toEqual({ kind: 'not-mcp', reason: 'http-404' });
  api.seen.length = 0;
  expect(await probeMcp({ host: '127.0.0.1', port: api.port })).toEqual({ kind: 'not-mcp', reason: 'http-404' });
  expect(api.seen.map((s) => `${s.method} ${s.url}`)).toEqual(['POST /mcp', 'POST /', 'GET /sse']);
  for (const s of api.seen) {
    expect(s.headers.authorization).toBeUndefined();
    expect(s.headers.cookie).toBeUndefined();
    expect(s.headers['mcp-session-id']).toBeUndefined();
  }
});

test('a JSON-RPC answer (typed or untyped), an event stream and 401/403 go on to the SDK', async () => {
  const untyped = await serve((_req, res) => res.writeHead(400).end('{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: Server not initialized"},"id":null}'));
  expect(await verdict(untyped.port, '/mcp')).toEqual({ kind: 'ask-sdk' });
  const stream = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('event: endpoint\ndata: /messages\n\n');
  });
  expect(await verdict(stream.port, '/sse')).toEqual({ kind: 'ask-sdk' });
  const locked = await serve((_req, res) => res.writeHead(401, { 'www-authenticate': 'Bearer' }).end());
  expect(await verdict(locked.port, '/mcp')).toEqual({ kind: 'ask-sdk' });
  expect(await probeMcp({ host: '127.0.0.1', port: locked.port })).toMatchObject({ kind: 'auth-required', status: 401, url: `http://127.0.0.1:${locked.port}/mcp` });
});

test('a web page, a redirect (not followed) and a closed port are settled without the SDK', async () => {
  const page = await serve((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hello</html>'));
  expect(await verdict(page.port, '/mcp')).toEqual({ kind: 'not-mcp', reason: 'http-200' });
  const redirect = await serve((_req, res) => res.writeHead(307, { location: 'http://198.51.100.1/mcp' }).end());
  expect(await verdict(redirect.port, '/mcp')).toEqual({ kind: 'not-mcp', reason: 'http-307' });
  const gone = await serve((_req, res) => res.end());
  const port = gone.port;
  await new Promise<void>((r) => servers.pop()!.close(() => r()));
  expect(await verdict(port, '/mcp')).toEqual({ kind: 'not-mcp', reason: 'no-http' });
});
