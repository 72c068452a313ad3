/**
 * A programmatic mcpwatch agent for tests and benchmarks: it enrolls like the real agent (RSA key,
 * node-forge CSR, `Authorization: Bearer <enroll secret>`), then builds, signs, gzips and sends
 * batches of valid events (shared schemas) with a correct seq / prevHash chain, over real HTTP(S)
 * or through a Fastify `inject()`.
 *
 * Knobs (`BatchKnobs`) break exactly one thing at a time: forged signature, tampered bytes,
 * timestamp skew, wrong seq / prevHash / headers / content type / encoding, a raw body of your own.
 * The chain only advances when the collector answers 200 for the batch at the expected seq, so a
 * re-send (`send(prepared)` twice) is a replay.
 *
 * Wire contract: collector/src/routes/batches.ts (header comment).
 */
import { generateKeyPairSync, createPrivateKey, type KeyObject } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { gzipSync } from 'node:zlib';
import forge from 'node-forge';
import {
  HEADERS,
  NativeRsaSigner,
  computeFingerprint,
  computeServerKey,
  makeEvent,
  sha256Hex,
  signBatch,
  type AgentSettings,
  type Batch,
  type EnrollResponse,
  type HostInfo,
  type McpEvent,
  type ServerEntry,
} from '@mcpwatch/shared';

// ---- transport --------------------------------------------------------------------------------

export interface WireRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: Buffer | string;
}

export interface WireResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** body parsed as JSON when it is JSON, else undefined. */
  json: unknown;
}

/** Sends one request and resolves with the response (never rejects on an HTTP status). */
export type Transport = (req: WireRequest) => Promise<WireResponse>;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A keep-alive HTTP(S) transport to `baseUrl`. `ca`: PEM to trust (the collector CA). */
export function httpTransport(baseUrl: string, opts: { ca?: string; maxSockets?: number } = {}): Transport & { close(): void } {
  const url = new URL(baseUrl);
  const isHttps = url.protocol === 'https:';
  const agent = isHttps
    ? new https.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 8, ...(opts.ca ? { ca: opts.ca } : {}) })
    : new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 8 });
  const send: Transport = (req) =>
    new Promise((resolve, reject) => {
      const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
      const r = (isHttps ? https : http).request(
        {
          host: url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port,
          method: req.method,
          path: req.path,
          agent,
          headers: { ...req.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: parseJson(text) });
          });
          res.on('error', reject);
        },
      );
      r.on('error', reject);
      r.end(body);
    });
  return Object.assign(send, { close: () => agent.destroy() });
}

/** Anything with Fastify's `inject()`. */
export interface Injectable {
  inject(opts: { method: 'GET' | 'POST'; url: string; headers: Record<string, string>; payload?: Buffer | string }): PromiseLike<{
    statusCode: number;
    headers: Record<string, string | string[] | number | undefined>;
    body: string;
  }>;
}

/** A transport through `app.inject()` (no socket). */
export function injectTransport(app: Injectable): Transport {
  return async (req) => {
    const res = await app.inject({ method: req.method, url: req.path, headers: req.headers, ...(req.body !== undefined ? { payload: req.body } : {}) });
    const headers: Record<string, string | string[] | undefined> = {};
    for (const [k, v] of Object.entries(res.headers)) headers[k] = typeof v === 'number' ? String(v) : v;
    return { status: res.statusCode, headers, body: res.body, json: parseJson(res.body) };
  };
}

// ---- keys and enrollment ------------------------------------------------------------------------

export interface KeyMaterial {
  privateKey: KeyObject;
  privateKeyPem: string;
  publicKeyPem: string;
}

/** A fresh RSA key pair (Node crypto; node-forge's pure-JS keygen is far slower). */
export function makeKeyPair(bits = 2048): KeyMaterial {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const privateKeyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
  return { privateKey: createPrivateKey(privateKeyPem), privateKeyPem, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

const pool: KeyMaterial[] = [];

/**
 * The `index`-th key of a process-wide pool, generated on first use. RSA key generation takes
 * ~1 s on a small machine; tests that do not care about key identity reuse pooled keys.
 * Distinct indexes are distinct keys.
 */
export function pooledKeyPair(index: number): KeyMaterial {
  while (pool.length <= index) pool.push(makeKeyPair());
  return pool[index] as KeyMaterial;
}

let forgery: KeyMaterial | undefined;

/** A PEM PKCS#10 CSR for `keys`, made with node-forge as the real agent does. */
export function makeCsr(keys: KeyMaterial, commonName = 'mcpwatch-agent'): string {
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  csr.setSubject([{ name: 'commonName', value: commonName }]);
  csr.sign(new NativeRsaSigner(keys.privateKey) as unknown as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

/** Host facts for enrollment; `overrides` replace fields. */
export function makeHost(overrides: Partial<HostInfo> = {}): HostInfo {
  return {
    hostname: 'test-host',
    platform: 'linux',
    osName: 'Test Linux',
    osRelease: '6.0',
    arch: 'x64',
    hardwareUuid: `hw-${Math.random().toString(16).slice(2, 14)}`,
    users: ['alice'],
    ...overrides,
  };
}

export interface EnrollOptions {
  enrollSecret: string;
  host?: Partial<HostInfo>;
  agentVersion?: string;
  keys?: KeyMaterial;
  /** Replace the CSR sent (bad-CSR tests). */
  csr?: string;
}

/** POSTs /v1/enroll and returns the raw response (for tests of refusals). */
export async function enrollRequest(transport: Transport, opts: EnrollOptions): Promise<{ response: WireResponse; keys: KeyMaterial; host: HostInfo }> {
  const keys = opts.keys ?? makeKeyPair();
  const host = makeHost(opts.host);
  const body = JSON.stringify({ csr: opts.csr ?? makeCsr(keys), host, agentVersion: opts.agentVersion ?? 'test-agent/0.1.0' });
  const response = await transport({
    method: 'POST',
    path: '/v1/enroll',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${opts.enrollSecret}` },
    body,
  });
  return { response, keys, host };
}

/** A failed enrollment. */
export class EnrollFailedError extends Error {
  constructor(readonly response: WireResponse) {
    super(`enroll failed: HTTP ${response.status} ${response.body.slice(0, 300)}`);
    this.name = 'EnrollFailedError';
  }
}

// ---- events -------------------------------------------------------------------------------------

/** A valid ServerEntry (ids computed as the agent computes them). */
export function makeServerEntry(name: string, overrides: Partial<ServerEntry> = {}): ServerEntry {
  const base = {
    client: 'claude-desktop',
    scope: 'user' as const,
    configPath: '/home/alice/.config/Claude/claude_desktop_config.json',
    user: 'alice',
    projectPath: null,
    name,
    transport: 'stdio' as const,
    command: 'npx',
    args: ['-y', `@example/${name}@1.0.0`],
    url: null,
    envKeys: ['GITHUB_TOKEN'],
    headerKeys: [],
    cwd: null,
    disabled: false,
    package: { ecosystem: 'npm' as const, name: `@example/${name}`, version: '1.0.0', pinned: true, runner: 'npx' },
    ...overrides,
  };
  return {
    ...base,
    serverKey: overrides.serverKey ?? computeServerKey(base),
    fingerprint: overrides.fingerprint ?? computeFingerprint(base),
  } as ServerEntry;
}

/** `count` valid events of mixed types for `endpointId` (server.added, process.started, finding.raised, heartbeat). */
export function makeEvents(endpointId: string, count: number, now: Date = new Date()): McpEvent[] {
  const out: McpEvent[] = [];
  for (let i = 0; i < count; i++) {
    const k = i % 4;
    const name = `srv-${i % 50}`;
    if (k === 0) out.push(makeEvent('server.added', endpointId, makeServerEntry(name), now));
    else if (k === 1) {
      out.push(
        makeEvent('process.started', endpointId, { pid: 1000 + i, ppid: 1, name: 'node', cmd: `node /opt/${name}/index.js`, user: 'alice', kind: 'server', client: 'claude-desktop', serverKey: null, match: 'pattern', startedAt: now.toISOString() }, now),
      );
    } else if (k === 2) {
      out.push(
        makeEvent('finding.raised', endpointId, {
          id: `f-${name}`,
          ruleId: 'secret-in-env',
          severity: 'high',
          title: 'Secret in server environment',
          description: 'A token is configured in the environment of an MCP server.',
          subject: { serverName: name, client: 'claude-desktop' },
          evidence: { field: 'env.GITHUB_TOKEN', kind: 'github-token' },
        }, now),
      );
    } else {
      out.push(
        makeEvent('agent.heartbeat', endpointId, { version: '0.1.0', uptimeS: i, cpuPercent: 0.1, rssBytes: 50_000_000, spoolBytes: 0, spoolDepth: 0, droppedCount: 0, lastError: null, intervalsMs: { process: 5000 }, throttled: false }, now),
      );
    }
  }
  return out;
}

// ---- batches ------------------------------------------------------------------------------------

/** Knobs that break one thing in a prepared batch. */
export interface BatchKnobs {
  /** seq in header and body (default: the next seq). */
  seq?: number;
  /** seq in the header only. */
  headerSeq?: number;
  prevHash?: string;
  /** agentId in the header only / in the body only. */
  headerAgentId?: string;
  bodyAgentId?: string;
  /** Signed timestamp offset from now (ms). */
  skewMs?: number;
  /** Sign with a different key (a forgery). */
  forgeSignature?: boolean;
  /** Flip one byte of the gzip body after signing. */
  tamperAfterSigning?: boolean;
  /** Send these bytes as the (signed) body instead of gzip(JSON batch). */
  rawBody?: Buffer;
  contentType?: string;
  /** Content-Encoding header; null omits it. */
  contentEncoding?: string | null;
  /** Omit the signature header. */
  omitSignature?: boolean;
  /** Override the uncompressed JSON text (still gzipped and signed). */
  jsonText?: string;
  /** Replace `sentAt`. */
  sentAt?: string;
}

/** A batch ready to send: its uncompressed JSON, the gzip bytes as sent, and the headers. */
export interface PreparedBatch {
  seq: number;
  json: Buffer;
  body: Buffer;
  /** sha256 hex of `json`: the next batch's prevHash. */
  bodyHash: string;
  headers: Record<string, string>;
  eventCount: number;
}

/** An enrolled test agent. */
export class TestAgent {
  /** Next seq to send. */
  nextSeq = 1;
  /** prevHash for the next batch. */
  prevHash = '';

  constructor(
    readonly transport: Transport,
    readonly agentId: string,
    readonly endpointId: string,
    readonly keys: KeyMaterial,
    readonly certificate: string,
    readonly caCertificate: string,
    readonly settings: AgentSettings,
    readonly host: HostInfo,
    /** Milliseconds clock used for signing timestamps and event times. */
    readonly now: () => number = Date.now,
  ) {}

  /** Enrolls over `transport`; throws EnrollFailedError on any non-200. */
  static async enroll(transport: Transport, opts: EnrollOptions & { now?: () => number }): Promise<TestAgent> {
    const { response, keys, host } = await enrollRequest(transport, opts);
    if (response.status !== 200) throw new EnrollFailedError(response);
    const r = response.json as EnrollResponse;
    return new TestAgent(transport, r.agentId, r.endpointId, keys, r.certificate, r.caCertificate, r.settings, host, opts.now);
  }

  /** Valid events for this agent's endpoint. */
  events(count: number): McpEvent[] {
    return makeEvents(this.endpointId, count, new Date(this.now()));
  }

  /** Builds, signs and gzips a batch of `events` (does not advance the chain). */
  prepare(events: McpEvent[], knobs: BatchKnobs = {}): PreparedBatch {
    const seq = knobs.seq ?? this.nextSeq;
    const batch: Batch = {
      agentId: knobs.bodyAgentId ?? this.agentId,
      seq,
      prevHash: knobs.prevHash ?? this.prevHash,
      sentAt: knobs.sentAt ?? new Date(this.now()).toISOString(),
      events,
    };
    const json = Buffer.from(knobs.jsonText ?? JSON.stringify(batch));
    const body = knobs.rawBody ?? gzipSync(json);
    const timestampMs = this.now() + (knobs.skewMs ?? 0);
    const headerAgent = knobs.headerAgentId ?? this.agentId;
    const headerSeq = knobs.headerSeq ?? seq;
    let key = this.keys.privateKey;
    if (knobs.forgeSignature) key = (forgery ??= makeKeyPair()).privateKey;
    const headers: Record<string, string> = {
      'content-type': knobs.contentType ?? 'application/json',
      [HEADERS.agentId]: headerAgent,
      [HEADERS.seq]: String(headerSeq),
      [HEADERS.timestamp]: String(timestampMs),
    };
    if (knobs.contentEncoding !== null) headers['content-encoding'] = knobs.contentEncoding ?? 'gzip';
    if (!knobs.omitSignature) headers[HEADERS.signature] = signBatch(key, headerAgent, headerSeq, timestampMs, body);
    let sent = body;
    if (knobs.tamperAfterSigning) {
      sent = Buffer.from(body);
      const i = sent.length - 5; // inside the deflate stream / trailer, past the gzip header
      sent[i] = (sent[i] as number) ^ 0xff;
    }
    return { seq, json, body: sent, bodyHash: sha256Hex(json), headers, eventCount: events.length };
  }

  /** Sends a prepared batch. A 200 for the expected seq advances the chain. */
  async send(prepared: PreparedBatch): Promise<WireResponse> {
    const res = await this.transport({ method: 'POST', path: '/v1/batches', headers: prepared.headers, body: prepared.body });
    if (res.status === 200 && prepared.seq === this.nextSeq) {
      this.nextSeq = prepared.seq + 1;
      this.prevHash = prepared.bodyHash;
    }
    return res;
  }

  /** Prepares and sends `events` (or `count` generated events). */
  async sendEvents(events: McpEvent[] | number, knobs: BatchKnobs = {}): Promise<WireResponse> {
    return this.send(this.prepare(typeof events === 'number' ? this.events(events) : events, knobs));
  }
}
