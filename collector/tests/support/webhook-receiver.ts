/**
 * A local HTTP webhook receiver for the webhook tests: answers each POST as `answer(n)` says (n
 * counts requests from 0) and keeps what it accepted (200): the parsed body, the raw body text
 * and the request headers (signature checks need the bytes as sent).
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
      const a = answer(n++);
      const raw = Buffer.concat(chunks).toString('utf8');
      if (a.status === 200) got.push({ body: JSON.parse(raw) as Record<string, unknown>, raw, headers: req.headers, at: Date.now() });
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
