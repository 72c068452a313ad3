/**
 * A small real HTTP collector for the agent's pipeline tests: verifies the batch signature over the
 * raw gzip bytes with the agent's public key (shared verifyBatch), gunzips, checks the timestamp
 * window and the seq/prevHash chain, answers a re-sent batch idempotently, and records everything.
 * `forced` lets a test force an answer (status, body, headers) for the next requests; agents in
 * `expired` are answered 401 MCPW_ERR_CERT_EXPIRED (their certificate is past its notAfter), as
 * the collector does; `addAgent` stands for an enrollment; `settings` (and `commands`) are served
 * in every ack. Only POST /v1/batches is served (other routes are 404, as on a collector without
 * them); a body that is not gzipped JSON is a 400, never a crash.
 */
import * as http from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import type { KeyObject } from 'node:crypto';
import { HEADERS, sha256Hex, verifyBatch, type Batch } from '@mcpwatch/shared';

export interface Forced {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export class FakeCollector {
  readonly accepted: Batch[] = [];
  readonly requests: { headers: http.IncomingHttpHeaders; raw: Buffer; status: number }[] = [];
  readonly forced: Forced[] = [];
  readonly expired = new Set<string>();
  windowMs = 5 * 60_000;
  /** Settings every ack carries (what the collector serves to agents), when set. */
  settings: Record<string, unknown> | null = null;
  /** Containment commands every ack carries (as the collector delivers them), when set. */
  commands: unknown[] | null = null;
  now: () => number = Date.now;
  private byAgent = new Map<string, { lastSeq: number; lastHash: string; bodies: Map<number, string> }>();
  private server: http.Server;
  url = '';

  constructor(private readonly keys: Map<string, KeyObject>) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        if ((req.url ?? '').split('?')[0] !== '/v1/batches') {
          // Only the batch route: other routes (the command long-poll, /v1/commands/wait) answer
          // as a collector without them does, and are not recorded as batch requests.
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ code: 'MCPW_ERR_NOT_FOUND', message: `no route ${req.method} ${req.url}` }));
          return;
        }
        const answer = this.handle(req, raw);
        this.requests.push({ headers: req.headers, raw, status: answer.status });
        res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.headers ?? {}) });
        res.end(JSON.stringify(answer.body ?? {}));
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Knows `agentId` from now on (what an enrollment does). */
  addAgent(agentId: string, publicKey: KeyObject): void {
    this.keys.set(agentId, publicKey);
  }

  /** Events accepted, in arrival order. */
  events() {
    return this.accepted.flatMap((b) => b.events);
  }

  private handle(req: http.IncomingMessage, raw: Buffer): Forced {
    const forced = this.forced.shift();
    if (forced) return forced;
    const agentId = String(req.headers[HEADERS.agentId] ?? '');
    const seq = Number(req.headers[HEADERS.seq]);
    const ts = Number(req.headers[HEADERS.timestamp]);
    const sig = String(req.headers[HEADERS.signature] ?? '');
    const key = this.keys.get(agentId);
    if (!key) return { status: 401, body: { code: 'MCPW_ERR_UNKNOWN_AGENT', message: 'unknown agent' } };
    if (this.expired.has(agentId)) return { status: 401, body: { code: 'MCPW_ERR_CERT_EXPIRED', message: 'agent certificate has expired: enroll again' } };
    if (!verifyBatch(key, agentId, seq, ts, raw, sig)) return { status: 401, body: { code: 'MCPW_ERR_SIGNATURE_INVALID', message: 'bad signature' } };
    if (Math.abs(this.now() - ts) > this.windowMs) return { status: 401, body: { code: 'MCPW_ERR_TIMESTAMP_SKEW', message: 'timestamp outside window' } };
    let body: string;
    let batch: Batch;
    try {
      body = gunzipSync(raw).toString('utf8');
      batch = JSON.parse(body) as Batch;
    } catch (e) {
      return { status: 400, body: { code: 'MCPW_ERR_MALFORMED', message: `not a gzipped JSON batch: ${(e as Error).message}` } };
    }
    if (batch.seq !== seq || batch.agentId !== agentId) return { status: 400, body: { code: 'MCPW_ERR_MALFORMED', message: 'header/body mismatch' } };
    let st = this.byAgent.get(agentId);
    if (!st) this.byAgent.set(agentId, (st = { lastSeq: 0, lastHash: '', bodies: new Map() }));
    const seen = st.bodies.get(seq);
    if (seen !== undefined) return seen === body ? { status: 200, body: { acked: seq } } : { status: 409, body: { code: 'MCPW_ERR_SEQ_CONFLICT', message: 'conflict' } };
    if (batch.prevHash !== st.lastHash) return { status: 400, body: { code: 'MCPW_ERR_CHAIN', message: `prevHash ${batch.prevHash} != ${st.lastHash}` } };
    st.bodies.set(seq, body);
    st.lastSeq = seq;
    st.lastHash = sha256Hex(body);
    this.accepted.push(batch);
    return { status: 200, body: { acked: seq, ...(this.settings ? { settings: this.settings } : {}), ...(this.commands ? { commands: this.commands } : {}) } };
  }
}
