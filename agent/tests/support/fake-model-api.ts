/**
 * The HTTP part shared by the local stand-ins for model APIs (fake-anthropic-api.ts,
 * fake-gemini-api.ts): a server on 127.0.0.1 on a free port that reads each request's body as
 * JSON (an unparsable body reads as {}) and hands it to the stand-in's `handle`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Json = Record<string, unknown>;

export abstract class FakeModelApi {
  private server: http.Server | null = null;

  protected abstract handle(method: string, url: string, body: Json, res: http.ServerResponse): void;

  /** Starts listening; resolves to the base URL (http://127.0.0.1:<port>). */
  async listen(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        let json: Json = {};
        try {
          json = JSON.parse(body || '{}') as Json;
        } catch {
          json = {};
        }
        this.handle(req.method ?? '', req.url ?? '', json, res);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  protected sendJson(res: http.ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
