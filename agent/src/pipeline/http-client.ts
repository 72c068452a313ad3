/**
 * The agent's one HTTP(S) client for talking to the collector.
 *
 * Contract:
 * - https: when a pin (SHA-256 fingerprint of the collector's TLS certificate, hex, colons and
 *   case ignored) is configured, the connection is accepted only if the presented leaf certificate
 *   has that fingerprint; the check happens after the handshake and BEFORE any request byte is
 *   written (custom Agent.createConnection), so a wrong server never sees a secret or a batch.
 *   Without a pin the system CAs (plus an optional CA PEM) validate the chain as usual.
 * - http is allowed only to loopback hosts (127.0.0.0/8, ::1, localhost); anything else is refused
 *   with MCPW_ERR_INSECURE_URL before connecting.
 * - Bounded: a request timeout and a response size limit. A request in flight holds the process
 *   (a CLI command waits for its answer); idle keep-alive sockets do not (Node unrefs free sockets).
 * - Never throws for HTTP statuses: the caller gets {status, headers, body}. Network failures reject
 *   with PipelineError MCPW_ERR_NETWORK (or MCPW_ERR_CERT_PIN_MISMATCH).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { PipelineCodes, PipelineError } from './pipeline-errors.js';

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpClientOptions {
  /** SHA-256 fingerprint of the collector's TLS certificate (hex, with or without colons). */
  pinSha256?: string | null;
  /** Extra trusted CA (PEM) when no pin is set. */
  caPem?: string | null;
  timeoutMs?: number;
  maxResponseBytes?: number;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
}

/** Normalises a fingerprint to lower-case hex without separators. */
export function normalizeFingerprint(fp: string): string {
  return fp.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
}

/** true for hosts that never leave this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  return false;
}

/** Validates a collector URL: https anywhere, http only on loopback. Throws MCPW_ERR_INSECURE_URL. */
export function checkCollectorUrl(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch (e) {
    throw new PipelineError(PipelineCodes.insecureUrl, `collector URL is not a valid URL: ${raw}`, { cause: e });
  }
  if (u.username || u.password) {
    throw new PipelineError(PipelineCodes.insecureUrl, 'collector URL must not carry credentials');
  }
  if (u.protocol === 'https:') return u;
  if (u.protocol === 'http:' && isLoopbackHost(u.hostname)) return u;
  throw new PipelineError(
    PipelineCodes.insecureUrl,
    `collector URL ${u.origin} must use https (plain http is allowed only for loopback addresses)`,
  );
}

/** An HTTP client bound to one pin / CA setting. */
export class HttpClient {
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly httpsAgent: https.Agent;
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 2 });

  constructor(opts: HttpClientOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.maxResponseBytes = opts.maxResponseBytes ?? 1024 * 1024;
    const pin = opts.pinSha256 ? normalizeFingerprint(opts.pinSha256) : null;
    const agentOpts: https.AgentOptions = { keepAlive: true, maxSockets: 2 };
    if (opts.caPem) agentOpts.ca = opts.caPem;
    this.httpsAgent = new https.Agent(agentOpts);
    if (pin) {
      // Verify the pin after the handshake and before the socket is handed to the request.
      (this.httpsAgent as unknown as { createConnection: unknown }).createConnection = (
        options: tls.ConnectionOptions,
        callback: (err: Error | null, socket?: net.Socket) => void,
      ): undefined => {
        const socket = tls.connect({ ...options, rejectUnauthorized: false });
        let settled = false;
        const settle = (err: Error | null) => {
          if (settled) return; // a later socket error belongs to the request, not to the connect
          settled = true;
          if (err) callback(err);
          else callback(null, socket);
        };
        socket.once('secureConnect', () => {
          const cert = socket.getPeerCertificate();
          const got = cert && cert.fingerprint256 ? normalizeFingerprint(cert.fingerprint256) : '';
          if (got !== pin) {
            socket.destroy();
            settle(new PipelineError(PipelineCodes.pinMismatch, `collector certificate fingerprint ${got || '(none)'} does not match the pinned ${pin}`));
            return;
          }
          settle(null);
        });
        socket.once('error', (err) => settle(err));
        return undefined;
      };
    }
  }

  /** Sends one request. Rejects only on network / TLS failures (coded), never on HTTP status. */
  request(req: HttpRequest): Promise<HttpResponse> {
    const url = checkCollectorUrl(req.url);
    const isHttps = url.protocol === 'https:';
    const lib = isHttps ? https : http;
    return new Promise<HttpResponse>((resolve, reject) => {
      const headers: Record<string, string> = { ...(req.headers ?? {}) };
      if (req.body) headers['content-length'] = String(req.body.length);
      const r = lib.request(
        url,
        { method: req.method, headers, agent: isHttps ? this.httpsAgent : this.httpAgent, timeout: this.timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > this.maxResponseBytes) {
              res.destroy();
              reject(new PipelineError(PipelineCodes.network, `response from ${url.origin} exceeds ${this.maxResponseBytes} bytes`));
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', (e) => reject(wrapNetwork(url, e)));
        },
      );
      r.on('timeout', () => r.destroy(new PipelineError(PipelineCodes.network, `request to ${url.origin} timed out after ${this.timeoutMs} ms`)));
      r.on('error', (e) => reject(wrapNetwork(url, e)));
      r.end(req.body ? Buffer.from(req.body) : undefined);
    });
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    this.httpsAgent.destroy();
    this.httpAgent.destroy();
  }
}

function wrapNetwork(url: URL, e: unknown): PipelineError {
  if (e instanceof PipelineError) return e;
  const code = (e as NodeJS.ErrnoException).code ?? 'error';
  return new PipelineError(PipelineCodes.network, `cannot reach the collector at ${url.origin}: ${code}`, { cause: e });
}

/** Parses a JSON response body; null when it is not JSON. */
export function jsonBody<T>(res: HttpResponse): T | null {
  try {
    return JSON.parse(res.body.toString('utf8')) as T;
  } catch {
    return null;
  }
}
