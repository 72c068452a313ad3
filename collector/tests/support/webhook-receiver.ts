/**
 * A local HTTP webhook receiver for the webhook tests: answers each POST as `answer(n)` says (n
 * counts requests from 0) and keeps what it accepted (200): the parsed body, the raw body text
 * and the request headers (signature checks need the bytes as sent). A body that is not JSON (a
 * post the sender cut short) is answered 400 and neither counted nor kept.
 */
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
  server: Server;
  close(): Promise<void>;
}

export async function webhookReceiver(answer: (n: number) => { status: number; headers?: Record<string, string> } = () => ({ status: 200 })): Promise<WebhookReceiver> {
  const got: ReceivedPost[] = [];
  let n = 0;
  const server = createServer((req: IncomingMessage, res) => {
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
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    got,
    server,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
