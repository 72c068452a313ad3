/**
 * The agent's one HTTP(S) client for talking to the collector.
 *
 * Contract:
 * - https: when a pin (SHA-256 fingerprint, hex, colons and case ignored) is configured, the
 *   connection is accepted only if the presented chain holds a certificate with that fingerprint —
 *   the collector's TLS certificate itself, or the collector CA that issued it (what the collector
 *   prints as "pin this in agents"), in which case every link from the leaf up to it must verify
 *   and the leaf must be within its validity. The check happens after the handshake and BEFORE any
 *   request byte is written (custom Agent.createConnection): a wrong server never sees a secret.
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
import { X509Certificate } from 'node:crypto';
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

/** Normalises a fingerprint to lower-case hex without separators (an optional `sha256:` prefix dropped). */
export function normalizeFingerprint(fp: string): string {
  return fp
    .trim()
    .replace(/^sha-?256\s*[:=]\s*/i, '')
    .replace(/[^0-9a-fA-F]/g, '')
    .toLowerCase();
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
          const problem = checkPinnedChain(socket.getPeerCertificate(true), pin);
          if (problem) {
            socket.destroy();
            settle(new PipelineError(PipelineCodes.pinMismatch, problem));
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

/**
 * Checks a presented chain (leaf first, as getPeerCertificate(true) links it) against a pin.
 * Returns null when it is acceptable, else a message saying why not.
 */
export function checkPinnedChain(leaf: tls.DetailedPeerCertificate | undefined, pin: string, nowMs = Date.now()): string | null {
  const chain: tls.DetailedPeerCertificate[] = [];
  for (let c = leaf; c && c.raw && chain.length < 10; c = c.issuerCertificate) {
    chain.push(c);
    if (c.issuerCertificate === c) break; // self-signed root links to itself
  }
  const first = chain[0];
  if (!first) return 'the collector presented no certificate';
  const at = chain.findIndex((c) => normalizeFingerprint(c.fingerprint256 ?? '') === pin);
  if (at === -1) {
    return `collector certificate fingerprint ${normalizeFingerprint(first.fingerprint256 ?? '')} (and its chain) does not match the pinned ${pin}`;
  }
  if (at === 0) return null;
  try {
    const certs = chain.slice(0, at + 1).map((c) => new X509Certificate(c.raw));
    for (let i = 0; i < at; i++) {
      if (!certs[i]!.verify(certs[i + 1]!.publicKey)) return `collector certificate chain is broken below the pinned certificate (link ${i})`;
    }
    const validFrom = Date.parse(certs[0]!.validFrom);
    const validTo = Date.parse(certs[0]!.validTo);
    if (!(nowMs >= validFrom && nowMs <= validTo)) return `collector certificate is not valid now (valid ${certs[0]!.validFrom} to ${certs[0]!.validTo})`;
  } catch (e) {
    return `collector certificate chain cannot be checked: ${(e as Error).message}`;
  }
  return null;
}

/** Parses a JSON response body; null when it is not JSON. */
export function jsonBody<T>(res: HttpResponse): T | null {
  try {
    return JSON.parse(res.body.toString('utf8')) as T;
  } catch {
    return null;
  }
}
