/**
 * The agent's one HTTP(S) client for talking to the collector.
 *
 * Contract:
 * - https: the collector is pinned by its CA, never by its server certificate (the leaf: the
 *   collector renews it under the same CA). With a pin (SHA-256 fingerprint, hex, colons and case
 *   ignored) and/or a pinned CA certificate (the one stored at enrollment), a connection is
 *   accepted only if the presented chain reaches the pinned CA: a certificate ABOVE the leaf with
 *   that fingerprint, or a top certificate issued by the pinned CA certificate; every link from the
 *   leaf up to it must verify and the leaf must be within its validity. A pin that matches the
 *   leaf itself is refused with MCPW_ERR_CERT_PIN_IS_LEAF (the message names the CA to pin
 *   instead), except a self-signed leaf, which is its own CA. `pinnedAnchor` says which CA
 *   fingerprint the last connection was accepted under (enrollment stores it). The check happens
 *   after the handshake and BEFORE any request byte is written (custom Agent.createConnection): a
 *   wrong server never sees a secret. Without either, the system CAs (plus an optional CA PEM)
 *   validate the chain as usual.
 * - http is allowed only to loopback hosts (127.0.0.0/8, ::1, localhost); anything else is refused
 *   with MCPW_ERR_INSECURE_URL before connecting.
 * - Bounded: a request timeout and a response size limit. A request in flight holds the process
 *   (a CLI command waits for its answer); idle keep-alive sockets do not (Node unrefs free sockets).
 * - Never throws for HTTP statuses: the caller gets {status, headers, body}. Network failures reject
 *   with PipelineError MCPW_ERR_NETWORK (or MCPW_ERR_CERT_PIN_MISMATCH / MCPW_ERR_CERT_PIN_IS_LEAF).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { isLoopbackHost } from '@mcpwatch/shared/protocol';
import { AgentCodes, PipelineError, type AgentCode } from '../errors.js';

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpClientOptions {
  /** SHA-256 fingerprint of the collector's CA (hex, with or without colons): never the leaf's. */
  pinSha256?: string | null;
  /** The collector CA certificate (PEM) stored at enrollment: pinned as well (see the contract). */
  pinnedCaPem?: string | null;
  /** Extra trusted CA (PEM) when nothing is pinned. */
  caPem?: string | null;
  timeoutMs?: number;
  maxResponseBytes?: number;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Aborts the request (the long-poll's shutdown); it then rejects with MCPW_ERR_NETWORK. */
  signal?: AbortSignal;
}

/** Normalises a fingerprint to lower-case hex without separators (an optional `sha256:` prefix dropped). */
export function normalizeFingerprint(fp: string): string {
  return fp
    .trim()
    .replace(/^sha-?256\s*[:=]\s*/i, '')
    .replace(/[^0-9a-fA-F]/g, '')
    .toLowerCase();
}

/** Validates a collector URL: https anywhere, http only on loopback. Throws MCPW_ERR_INSECURE_URL. */
export function checkCollectorUrl(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch (e) {
    throw new PipelineError(AgentCodes.insecureUrl, `collector URL is not a valid URL: ${raw}`, { cause: e });
  }
  if (u.username || u.password) {
    throw new PipelineError(AgentCodes.insecureUrl, 'collector URL must not carry credentials');
  }
  if (u.protocol === 'https:') return u;
  if (u.protocol === 'http:' && isLoopbackHost(u.hostname)) return u;
  throw new PipelineError(
    AgentCodes.insecureUrl,
    `collector URL ${u.origin} must use https (plain http is allowed only for loopback addresses)`,
  );
}

/** An HTTP client bound to one pin / CA setting. */
export class HttpClient {
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly httpsAgent: https.Agent;
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  private anchor: string | null = null;

  constructor(opts: HttpClientOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.maxResponseBytes = opts.maxResponseBytes ?? 1024 * 1024;
    const pin: PinnedTrust = { pin: opts.pinSha256 ? normalizeFingerprint(opts.pinSha256) || null : null, caPem: opts.pinnedCaPem || null };
    const agentOpts: https.AgentOptions = { keepAlive: true, maxSockets: 2 };
    if (opts.caPem) agentOpts.ca = opts.caPem;
    this.httpsAgent = new https.Agent(agentOpts);
    if (pin.pin || pin.caPem) {
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
          const verdict = checkPinnedChain(socket.getPeerCertificate(true), pin);
          if (!verdict.ok) {
            socket.destroy();
            settle(new PipelineError(verdict.code, verdict.message));
            return;
          }
          this.anchor = verdict.anchor;
          settle(null);
        });
        socket.once('error', (err) => settle(err));
        return undefined;
      };
    }
  }

  /** The CA fingerprint (lower-case hex) the last pinned connection was accepted under; null before one. */
  get pinnedAnchor(): string | null {
    return this.anchor;
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
        { method: req.method, headers, agent: isHttps ? this.httpsAgent : this.httpAgent, timeout: this.timeoutMs, ...(req.signal ? { signal: req.signal } : {}) },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > this.maxResponseBytes) {
              res.destroy();
              reject(new PipelineError(AgentCodes.network, `response from ${url.origin} exceeds ${this.maxResponseBytes} bytes`));
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', (e) => reject(wrapNetwork(url, e)));
        },
      );
      r.on('timeout', () => r.destroy(new PipelineError(AgentCodes.network, `request to ${url.origin} timed out after ${this.timeoutMs} ms`)));
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
  return new PipelineError(AgentCodes.network, `cannot reach the collector at ${url.origin}: ${code}`, { cause: e });
}

/** What a pinned connection must reach: a CA fingerprint and/or the CA certificate stored at enrollment. */
export interface PinnedTrust {
  pin: string | null;
  caPem?: string | null;
}

export type PinVerdict = { ok: true; anchor: string } | { ok: false; code: AgentCode; message: string };

const fp256 = (c: X509Certificate): string => normalizeFingerprint(c.fingerprint256);

function selfSigned(c: X509Certificate): boolean {
  try {
    return c.checkIssued(c) && c.verify(c.publicKey);
  } catch {
    return false;
  }
}

/** Every link of `certs[0..top]` verifies and the leaf is valid now; else why not. */
function chainProblem(certs: X509Certificate[], top: number, nowMs: number): string | null {
  for (let i = 0; i < top; i++) {
    if (!certs[i]!.verify(certs[i + 1]!.publicKey)) return `collector certificate chain is broken below the pinned CA (link ${i})`;
  }
  const validFrom = Date.parse(certs[0]!.validFrom);
  const validTo = Date.parse(certs[0]!.validTo);
  if (!(nowMs >= validFrom && nowMs <= validTo)) return `collector certificate is not valid now (valid ${certs[0]!.validFrom} to ${certs[0]!.validTo})`;
  return null;
}

/**
 * Checks a presented chain (leaf first, as getPeerCertificate(true) links it) against the pinned
 * CA (see the module contract). Never throws.
 */
export function checkPinnedChain(leaf: tls.DetailedPeerCertificate | undefined, trust: PinnedTrust, nowMs = Date.now()): PinVerdict {
  const mismatch = (message: string): PinVerdict => ({ ok: false, code: AgentCodes.pinMismatch, message });
  const raw: Buffer[] = [];
  for (let c = leaf; c && c.raw && raw.length < 10; c = c.issuerCertificate) {
    raw.push(c.raw);
    if (c.issuerCertificate === c) break; // self-signed root links to itself
  }
  if (raw.length === 0) return mismatch('the collector presented no certificate');
  let certs: X509Certificate[];
  let stored: X509Certificate | null = null;
  try {
    certs = raw.map((r) => new X509Certificate(r));
  } catch (e) {
    return mismatch(`collector certificate chain cannot be read: ${(e as Error).message}`);
  }
  try {
    stored = trust.caPem ? new X509Certificate(trust.caPem) : null;
  } catch {
    stored = null;
  }
  const fps = certs.map(fp256);
  try {
    // 1. The CA stored at enrollment: in the chain above the leaf, or the issuer of its top.
    if (stored) {
      const storedFp = fp256(stored);
      const at = fps.indexOf(storedFp);
      if (at > 0 || (at === 0 && selfSigned(certs[0]!))) {
        const problem = chainProblem(certs, at, nowMs);
        if (!problem) return { ok: true, anchor: storedFp };
      }
      const top = certs[certs.length - 1]!;
      if (at === -1 && top.checkIssued(stored) && top.verify(stored.publicKey)) {
        const problem = chainProblem(certs, certs.length - 1, nowMs);
        if (!problem) return { ok: true, anchor: storedFp };
      }
    }
    // 2. The configured pin: a CA above the leaf (or a self-signed leaf, its own CA).
    const pin = trust.pin;
    if (pin) {
      const at = fps.indexOf(pin);
      if (at > 0 || (at === 0 && selfSigned(certs[0]!))) {
        const problem = chainProblem(certs, at, nowMs);
        return problem ? mismatch(problem) : { ok: true, anchor: pin };
      }
      if (at === 0) {
        const root = certs.length > 1 ? fps[fps.length - 1] : null;
        return {
          ok: false,
          code: AgentCodes.pinIsLeaf,
          message:
            `the pinned fingerprint ${pin} is the collector's server certificate, which the collector renews: pin its CA instead ` +
            `(the fingerprint the collector prints as "CA fingerprint (sha256, pin this in agents)")` +
            (root ? `; the CA this collector presented is ${root} (compare it with the collector's output before using it)` : ''),
        };
      }
    }
  } catch (e) {
    return mismatch(`collector certificate chain cannot be checked: ${(e as Error).message}`);
  }
  const wanted = [trust.pin, stored ? fp256(stored) : null].filter((v): v is string => !!v);
  return mismatch(`collector certificate fingerprint ${fps[0]} (and its chain) does not match the pinned CA ${[...new Set(wanted)].join(' / ')}`);
}

/** Parses a JSON response body; null when it is not JSON. */
export function jsonBody<T>(res: HttpResponse): T | null {
  try {
    return JSON.parse(res.body.toString('utf8')) as T;
  } catch {
    return null;
  }
}
