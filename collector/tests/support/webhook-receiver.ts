/**
 * A local HTTP webhook receiver for the webhook tests: answers each POST to its URL as `answer(n)`
 * says (n counts those posts from 0) and keeps what it accepted (200): the parsed body, the raw
 * body text and the request headers (signature checks need the bytes as sent). A body that is not
 * JSON (a post the sender cut short) is answered 400 and neither counted nor kept.
 *
 * Its URL carries a random path, like a real incoming-webhook URL's token, and only a POST to that
 * exact path is a delivery. Anything else that reaches the port is answered 404, neither counted
 * nor kept, and listed in `strays` (method and path): a listening port on 127.0.0.1 is visible to
 * every process on the machine, and an mcpwatch agent running with the sockets source (a bench or
 * another test run) sends its MCP preflight — a JSON-RPC ping POSTed to /mcp and / — to every
 * listener it finds; a receiver that kept those recorded unsigned "deliveries" the collector never
 * made.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedPost {
  body: Record<string, unknown>;
  raw: string;
  headers: IncomingHttpHeaders;
  at: number;
}

export interface WebhookReceiver {
  url: string;
  got: ReceivedPost[];
  /** Requests that were not a POST to `url` (answered 404, not counted). */
  strays: Array<{ method: string; path: string }>;
  server: Server;
  close(): Promise<void>;
}

export async function webhookReceiver(answer: (n: number) => { status: number; headers?: Record<string, string> } = () => ({ status: 200 })): Promise<WebhookReceiver> {
  const got: ReceivedPost[] = [];
  const strays: WebhookReceiver['strays'] = [];
  const path = `/hook/${randomBytes(16).toString('hex')}`;
  let n = 0;
  const server = createServer((req: IncomingMessage, res) => {
    if (req.method !== 'POST' || req.url !== path) {
      strays.push({ method: req.method ?? '', path: req.url ?? '' });
      req.resume();
      res.writeHead(404).end('not the webhook');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        // A post cut short (the sender gave up at its deadline on a loaded machine): not a delivery.
        res.writeHead(400).end('not JSON');
        return;
      }
      const a = answer(n++);
      if (a.status === 200) got.push({ body, raw, headers: req.headers, at: Date.now() });
      res.writeHead(a.status, a.headers ?? {}).end(a.status === 200 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    got,
    strays,
    server,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
