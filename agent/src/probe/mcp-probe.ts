/**
 * Ask one network endpoint whether it speaks MCP, with the official SDK client, and if so what it
 * offers: `initialize`, then `tools/list`, `prompts/list`, `resources/list` (paginated, bounded;
 * a re-probe may ask for tools only: ProbeTarget.lists).
 *
 * Contract (the agent lives on someone's laptop; the listener may be anything):
 * - Never calls a tool, never reads a resource or gets a prompt: only the three list methods.
 * - Never sends credentials: every request goes through `guardedFetch`, which drops
 *   Authorization / Cookie / Proxy-Authorization headers, sends no URL userinfo, and never
 *   follows a redirect (`redirect: 'manual'`; a 3xx answer means "not MCP here").
 * - Contacts only loopback / this machine's own addresses unless `allowRemote` is set (policy
 *   probeRemote); a refused target is an MCPW_ERR_PROBE_TARGET outcome, not a request.
 * - Bounded in time: each request has `requestTimeoutMs` (default 1500 ms), the whole probe
 *   `deadlineMs` (default 4000 ms); a listener that accepts and never answers costs at most that.
 *   These timers are cleared when the probe returns (ProbeTimers), so none fires afterwards.
 * - Bounded in size: at most `maxPages` pages per list and `maxItems` items per list
 *   (`truncated` says when a bound cut the list).
 * - Ends the session it opened (Streamable HTTP DELETE) so repeated probes leave nothing behind,
 *   unless the caller keeps it (ProbeTarget.keep: a ProbeSession, for re-probes that are one
 *   `tools/list`; closing it sends the DELETE then).
 * - Never throws: returns `{ kind: 'mcp' | 'auth-required' | 'not-mcp' | 'refused' }`.
 * - Cheap for what is not MCP: before the SDK, a plain-HTTP target gets one small HTTP/1.1
 *   request per path over node:http (preflight(): a session-less JSON-RPC `ping` POST, or for an
 *   /sse path a GET asking for an event stream; no credentials, no redirect, the same timeouts).
 *   Only a definite "not MCP" answer ends the path there: nothing that speaks HTTP (no-http),
 *   silence (timeout), a redirect, or an answer that is neither 401/403, nor an event stream, nor
 *   a JSON-RPC message in its first 2 KiB (a 404 page, a web page, a JSON API's own error).
 *   Everything else goes on to the SDK exactly as before; a listener known to be MCP skips the
 *   preflight (`ProbeTarget.known`).
 * - The SDK's transports get a fetch over node:http (node-fetch.ts), not Node's built-in fetch,
 *   whose first request loads undici's connection code and WebAssembly parser for good (+17 MB RSS).
 * - The SDK (client, transports, zod, ajv) is imported on first use, so an agent that never
 *   meets an MCP-looking listener never loads it; every client shares one no-op output-schema
 *   validator (the probe never calls a tool, so a server's output schemas are never compiled).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JsonSchemaValidator, jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import { AgentCodes } from '../errors.js';
import { AGENT_VERSION } from '../runtime/agent-version.js';
import { nodeFetch } from './node-fetch.js';
import { LiteHeaders, LiteResponse, type LiteHeadersInit } from './web-lite.js';

export type ProbeTransport = 'streamable-http' | 'sse';

/** One tool as the server listed it (kept on the endpoint; see tools/tool-inventory.ts). */
export interface ProbedTool {
  name: string;
  title: string | null;
  description: string | null;
  inputSchema: unknown;
  annotations: Record<string, unknown> | null;
}

export interface McpProbeResult {
  kind: 'mcp';
  url: string;
  transport: ProbeTransport;
  serverName: string | null;
  serverVersion: string | null;
  protocolVersion: string | null;
  instructions: string | null;
  tools: ProbedTool[];
  prompts: string[];
  resources: string[];
  /** true when a page or item bound cut a list short. */
  truncated: boolean;
  /** What was listed: all three lists, or tools only (ProbeTarget.lists). */
  listed: 'all' | 'tools';
}

export type ProbeOutcome =
  | McpProbeResult
  | { kind: 'auth-required'; url: string; transport: ProbeTransport; status: number }
  | { kind: 'not-mcp'; reason: string }
  | { kind: 'refused'; code: string; reason: string };

export interface ProbeTarget {
  /** Host to connect to (an IP literal or a name); for an all-interface bind pass the loopback. */
  host: string;
  port: number;
  /** Path from a config URL naming this listener; tried first. A path ending in /sse uses SSE. */
  pathHint?: string | null;
  /** The host is known to be this machine (an address the socket source reported as local). */
  local?: boolean;
  /** http (default) or https (remote servers named by a config URL). */
  scheme?: 'http' | 'https';
  /** The target answered MCP before (a re-probe): straight to the SDK, no preflight. */
  known?: boolean;
  /**
   * Which lists to ask for after `initialize`: all three (default), or `tools` only (a re-probe of
   * a known listener, whose point is a changed tool; see ListenerProber). With `tools`, `prompts`
   * and `resources` come back empty and `listed` says so.
   */
  lists?: 'all' | 'tools';
  /**
   * A session kept from an earlier probe of this listener (`keep`). A tools-only probe asks it for
   * the tools (one `tools/list`, no initialize, no DELETE); if that fails for any reason (the
   * server dropped the session, restarted, wants initialize again) the session is closed and the
   * probe goes on as a fresh one.
   */
  session?: ProbeSession | null;
  /**
   * Keep the Streamable HTTP client open when the probe answers MCP, and hand it over here, instead
   * of ending the session (see ProbeSession). Not for legacy SSE (its GET stream would stay open).
   */
  keep?: (session: ProbeSession) => void;
}

export interface ProbeOptions {
  requestTimeoutMs?: number;
  deadlineMs?: number;
  maxPages?: number;
  maxItems?: number;
  /** Policy probeRemote: contact a host that is not this machine. */
  allowRemote?: boolean;
  /** Paths tried when no hint is given, in order. */
  paths?: readonly string[];
}

export const PROBE_DEFAULTS = {
  requestTimeoutMs: 1500,
  deadlineMs: 4000,
  maxPages: 10,
  maxItems: 500,
  paths: ['/mcp', '/', '/sse'] as readonly string[],
} as const;

/**
 * Timeout signals whose timers are cleared when the probe is done. AbortSignal.timeout's cannot
 * be: each of a probe's (the deadline, one per request) fired seconds after the probe had
 * returned, creating its TimeoutError and dispatching an abort to every signal combined with it,
 * for nothing: CPU of the agent's steady state at every re-probe. A signal aborts with the same
 * reason as AbortSignal.timeout's and its timer does not keep the process alive either.
 */
export class ProbeTimers {
  private readonly timers: ReturnType<typeof setTimeout>[] = [];

  /** A signal that aborts with a TimeoutError after `ms`, unless clear() comes first. */
  signal(ms: number): AbortSignal {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), ms);
    timer.unref();
    this.timers.push(timer);
    return ctl.signal;
  }

  /** Cancel every timer this made: their signals never abort. */
  clear(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.length = 0;
  }
}

/** A path served over legacy SSE (GET stream + POST endpoint) rather than Streamable HTTP. */
const SSE_PATH = /\/sse\/?$/;

const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization', 'x-api-key'];

function isLoopbackLiteral(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\./.test(h) || h === '0:0:0:0:0:0:0:1';
}

function hostForUrl(host: string): string {
  const h = host.replace(/^\[|\]$/g, '');
  return h.includes(':') ? `[${h}]` : h;
}

type Sdk = {
  Client: typeof import('@modelcontextprotocol/sdk/client/index.js').Client;
  SSEClientTransport: typeof import('@modelcontextprotocol/sdk/client/sse.js').SSEClientTransport;
  StreamableHTTPClientTransport: typeof import('@modelcontextprotocol/sdk/client/streamableHttp.js').StreamableHTTPClientTransport;
};
let sdkLoading: Promise<Sdk> | null = null;
let sdkLoaded = false;

/** The SDK's client and transports, imported once on first use (a failed import is retried next time). */
function loadSdk(): Promise<Sdk> {
  // One after the other: the three share most of their modules.
  sdkLoading ??= (async () => {
    const c = await import('@modelcontextprotocol/sdk/client/index.js');
    const sse = await import('@modelcontextprotocol/sdk/client/sse.js');
    const http = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
    return { Client: c.Client, SSEClientTransport: sse.SSEClientTransport, StreamableHTTPClientTransport: http.StreamableHTTPClientTransport };
  })().then(
    (sdk) => {
      sdkLoaded = true;
      return sdk;
    },
    (e: unknown) => {
      sdkLoading = null;
      throw e;
    },
  );
  return sdkLoading;
}

/** Output schemas are for validating tool results; the probe never calls a tool, so none is compiled. */
const NO_OUTPUT_VALIDATION: jsonSchemaValidator = {
  getValidator<T>(): JsonSchemaValidator<T> {
    return (input: unknown) => ({ valid: true, data: input as T, errorMessage: undefined });
  },
};

/** What the preflight concluded about one path: not MCP (with the probe's reason), or ask the SDK. */
export type PreflightVerdict = { kind: 'not-mcp'; reason: string } | { kind: 'ask-sdk' };

/** How much of an untyped answer's body the preflight reads to look for a JSON-RPC message. */
const PREFLIGHT_BODY_BYTES = 2048;

function verdictOf(status: number, head: string): PreflightVerdict {
  return /"jsonrpc"\s*:/.test(head.slice(0, PREFLIGHT_BODY_BYTES)) ? { kind: 'ask-sdk' } : { kind: 'not-mcp', reason: `http-${status}` };
}

const PING = JSON.stringify({ jsonrpc: '2.0', id: 'mcpwatch-preflight', method: 'ping' });

/**
 * One plain HTTP/1.1 request to `url` (see the module comment): a session-less JSON-RPC ping POST
 * (`sse` false) or a GET for an event stream (`sse` true). Reads the status line and headers only,
 * then drops the connection. Never throws.
 */
export function preflight(url: URL, sse: boolean, requestTimeoutMs: number, deadline: AbortSignal): Promise<PreflightVerdict> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (v: PreflightVerdict): void => {
      if (settled) return;
      settled = true;
      resolve(v);
    };
    if (deadline.aborted) return done({ kind: 'not-mcp', reason: 'timeout' });
    const signal = AbortSignal.any([deadline, AbortSignal.timeout(requestTimeoutMs)]);
    const headers: Record<string, string> = sse
      ? { accept: 'text/event-stream' }
      : { accept: 'application/json, text/event-stream', 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(PING)) };
    let req: ReturnType<typeof httpRequest>;
    try {
      req = httpRequest(
        { protocol: 'http:', hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || 80, path: url.pathname + url.search, method: sse ? 'GET' : 'POST', headers, agent: false, signal },
        (res: IncomingMessage) => {
          const status = res.statusCode ?? 0;
          const type = String(res.headers['content-type'] ?? '').toLowerCase();
          const finish = (v: PreflightVerdict): void => {
            res.destroy();
            req.destroy();
            done(v);
          };
          if (status >= 300 && status < 400) return finish({ kind: 'not-mcp', reason: `http-${status}` }); // never followed
          if (status === 401 || status === 403 || type.includes('text/event-stream')) return finish({ kind: 'ask-sdk' });
          // MCP answers a ping with a JSON-RPC message (result or error), typed or not; a JSON API's
          // own 404 ({"error":"Not Found"}) is not one.
          let head = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            head += chunk;
            if (head.length >= PREFLIGHT_BODY_BYTES) finish(verdictOf(status, head));
          });
          res.once('end', () => finish(verdictOf(status, head)));
          res.once('error', () => finish(verdictOf(status, head)));
        },
      );
    } catch {
      return done({ kind: 'ask-sdk' }); // a URL node:http will not take: leave it to the SDK as before
    }
    req.once('error', () => done({ kind: 'not-mcp', reason: signal.aborted ? 'timeout' : 'no-http' }));
    req.end(sse ? undefined : PING);
  });
}

/**
 * The probe's fetch: no redirects, no credentials, a per-request timeout tied to the probe deadline.
 * `streamable`: the target speaks Streamable HTTP, whose client opens an optional GET event stream
 * for server-initiated messages once initialized. The probe never waits for any (it lists and
 * leaves), so that GET is answered here with the 405 a server without such a stream gives (the
 * SDK's documented no-stream case) and never sent: one connection, one request and its abort less
 * per probe. A GET that resumes a stream (Last-Event-ID) still goes out.
 */
/** What one probe (or one use of a kept session) gives the fetch: its deadline, its timers, and what it saw. */
interface FetchContext {
  deadline: AbortSignal;
  timers: ProbeTimers;
  statuses: number[];
  timedOut: { value: boolean };
}

function guardedFetch(ctx: { current: FetchContext }, requestTimeoutMs: number, agent: HttpAgent, streamable: boolean) {
  return async (input: string | URL, init?: RequestInit): Promise<LiteResponse> => {
    const { deadline, timers, statuses, timedOut } = ctx.current;
    const headers = new LiteHeaders(init?.headers as LiteHeadersInit | undefined);
    if (streamable && (init?.method ?? 'GET').toUpperCase() === 'GET' && !headers.has('last-event-id')) {
      return new LiteResponse(null, { status: 405, statusText: 'not opened by the probe' });
    }
    const url = new URL(String(input));
    url.username = '';
    url.password = '';
    for (const h of CREDENTIAL_HEADERS) headers.delete(h);
    const signals = [deadline, timers.signal(requestTimeoutMs)];
    if (init?.signal) signals.push(init.signal);
    // A long-lived SSE stream (GET) may outlive one request timeout: it is bounded by the deadline only.
    const isStream = (init?.method ?? 'GET').toUpperCase() === 'GET';
    const signal = AbortSignal.any(isStream ? [deadline, ...(init?.signal ? [init.signal] : [])] : signals);
    let res: LiteResponse;
    try {
      // node:http underneath, never Node's built-in fetch (node-fetch.ts: -10 MB RSS); redirects never followed.
      res = await nodeFetch(url, { ...init, headers, redirect: 'manual', signal, credentials: 'omit' }, agent);
    } catch (e) {
      if (signal.aborted) timedOut.value = true;
      throw e;
    }
    statuses.push(res.status);
    if (isStream && res.ok && !(res.headers.get('content-type') ?? '').includes('text/event-stream')) {
      // An SSE endpoint must answer with an event stream; anything else is not MCP (and must not hang us).
      await res.body?.cancel().catch(() => undefined);
      throw new Error(`not an event stream (${res.headers.get('content-type') ?? 'no content-type'})`);
    }
    return res;
  };
}

async function listAll<T>(
  fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string | undefined }>,
  maxPages: number,
  maxItems: number,
): Promise<{ items: T[]; truncated: boolean }> {
  const items: T[] = [];
  let cursor: string | undefined;
  const seen = new Set<string>();
  for (let page = 0; page < maxPages; page++) {
    const res = await fetchPage(cursor);
    for (const it of res.items) {
      if (items.length >= maxItems) return { items, truncated: true };
      items.push(it);
    }
    if (!res.nextCursor) return { items, truncated: false };
    if (seen.has(res.nextCursor)) return { items, truncated: true }; // a server that loops its cursor
    seen.add(res.nextCursor);
    cursor = res.nextCursor;
  }
  return { items, truncated: true };
}

function str(v: unknown, max: number): string | null {
  return typeof v === 'string' ? v.slice(0, max) : null;
}

/** A probe connection idle this long is closed (a kept session's between re-probes, a minute apart). */
const IDLE_SOCKET_MS = 2000;

type ProbeLimits = Required<Omit<ProbeOptions, 'allowRemote' | 'paths'>>;
type SdkClient = InstanceType<Sdk['Client']>;
type ListedTool = Awaited<ReturnType<SdkClient['listTools']>>['tools'][number];

/** The tools of a connected client, paginated and bounded. */
function listToolsOf(client: SdkClient, opts: ProbeLimits, reqOpts: { timeout: number; signal: AbortSignal }): Promise<{ items: ListedTool[]; truncated: boolean }> {
  return listAll(async (cursor) => {
    const r = await client.listTools(cursor ? { cursor } : undefined, reqOpts);
    return { items: r.tools, nextCursor: r.nextCursor };
  }, opts.maxPages, opts.maxItems);
}

function probedTools(items: readonly ListedTool[]): ProbedTool[] {
  return items.map((t) => ({
    name: String(t.name).slice(0, 256),
    title: str(t.title ?? t.annotations?.title, 512),
    description: str(t.description, 65_536),
    inputSchema: t.inputSchema ?? null,
    annotations: t.annotations ? { ...t.annotations } : null,
  }));
}

/** What `initialize` said, carried by a kept session into every result it gives. */
type ServerIdentity = Pick<McpProbeResult, 'url' | 'transport' | 'serverName' | 'serverVersion' | 'protocolVersion' | 'instructions'>;

/**
 * A Streamable HTTP client left open after a probe that answered MCP (ProbeTarget.keep), so that a
 * known listener's re-probe is ONE `tools/list` on it instead of initialize, initialized, tools/list
 * and DELETE with a new client and transport each time: the steady-state cost of tool probing with
 * local HTTP MCP servers. Holds no timer and no open request between uses (the standalone GET
 * stream is never opened: guardedFetch); its keep-alive connection is the server's to close.
 * The identity (name, version, protocol, instructions) is the one `initialize` gave; the owner
 * re-probes with a fresh session now and then (ListenerProber: at every full listing) so a change
 * there is seen too. `close()` ends the session at the server (DELETE) and is idempotent.
 */
export class ProbeSession {
  #closed = false;
  #uses = 0;

  constructor(
    private readonly client: SdkClient,
    private readonly transport: Transport & { sessionId?: string | undefined; terminateSession?: () => Promise<void> },
    private readonly agent: HttpAgent,
    private readonly ctx: { current: FetchContext },
    private readonly identity: ServerIdentity,
    private readonly hasTools: boolean,
  ) {}

  get closed(): boolean {
    return this.#closed;
  }

  /** Successful tools-only re-probes made on this session. */
  get uses(): number {
    return this.#uses;
  }

  /** A tools-only re-probe on this session, within the probe's deadline. Throws on any failure (the caller closes it). */
  async listTools(opts: ProbeLimits): Promise<McpProbeResult> {
    if (this.#closed) throw new Error('probe session closed');
    const timers = new ProbeTimers();
    const deadline = timers.signal(opts.deadlineMs);
    this.ctx.current = { deadline, timers, statuses: [], timedOut: { value: false } };
    try {
      const tools = this.hasTools ? await listToolsOf(this.client, opts, { timeout: opts.requestTimeoutMs, signal: deadline }) : { items: [], truncated: false };
      this.#uses++;
      return { kind: 'mcp', ...this.identity, tools: probedTools(tools.items), prompts: [], resources: [], truncated: tools.truncated, listed: 'tools' };
    } finally {
      timers.clear();
    }
  }

  /** Ends the session at the server (DELETE, within `requestTimeoutMs`) and closes the client. Never throws. */
  async close(requestTimeoutMs: number = PROBE_DEFAULTS.requestTimeoutMs): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const timers = new ProbeTimers();
    this.ctx.current = { deadline: timers.signal(requestTimeoutMs), timers, statuses: [], timedOut: { value: false } };
    try {
      await endClient(this.client, this.transport, this.agent, true);
    } finally {
      timers.clear();
    }
  }
}

/**
 * Ends a probe's client: DELETE of its session when `deleteSession` and it has one (Streamable
 * HTTP), close, its connections dropped. Bounded by the deadline its fetch context holds.
 */
async function endClient(client: SdkClient, transport: Transport & { sessionId?: string | undefined; terminateSession?: () => Promise<void> }, agent: HttpAgent, deleteSession: boolean): Promise<void> {
  try {
    if (deleteSession && transport.sessionId && transport.terminateSession) await transport.terminateSession().catch(() => undefined);
    await client.close().catch(() => undefined);
  } finally {
    agent.destroy();
  }
}

async function probePath(
  base: string,
  path: string,
  opts: ProbeLimits,
  deadline: AbortSignal,
  lists: 'all' | 'tools',
  keep?: (session: ProbeSession) => void,
): Promise<ProbeOutcome> {
  const url = new URL(path, base);
  const transportKind: ProbeTransport = SSE_PATH.test(url.pathname) ? 'sse' : 'streamable-http';
  const statuses: number[] = [];
  const timedOut = { value: false };
  // One keep-alive agent per probed path: its requests share connections; destroyed when done. A
  // kept session's agent closes a connection idle for IDLE_SOCKET_MS (Node destroys free sockets on
  // their timeout), so no connection stays open to the server between re-probes.
  const agentOptions = { keepAlive: true, maxSockets: 4, timeout: IDLE_SOCKET_MS };
  const agent = url.protocol === 'https:' ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  // The per-request timeouts: cleared once the path is done (its connections are closed then too).
  const timers = new ProbeTimers();
  const ctx = { current: { deadline, timers, statuses, timedOut } };
  // The SDK types its fetch option with the DOM's Response; LiteResponse has every part its transports read (web-lite.ts).
  const fetchFn = guardedFetch(ctx, opts.requestTimeoutMs, agent, transportKind === 'streamable-http') as unknown as typeof fetch;
  const { Client, SSEClientTransport, StreamableHTTPClientTransport } = await loadSdk();
  const transport: Transport =
    transportKind === 'sse'
      ? new SSEClientTransport(url, { fetch: fetchFn, eventSourceInit: { fetch: fetchFn } })
      : new StreamableHTTPClientTransport(url, { fetch: fetchFn, reconnectionOptions: { maxRetries: 0, initialReconnectionDelay: 1e9, maxReconnectionDelay: 1e9, reconnectionDelayGrowFactor: 1 } });
  const client = new Client({ name: 'mcpwatch-agent-probe', version: AGENT_VERSION }, { capabilities: {}, jsonSchemaValidator: NO_OUTPUT_VALIDATION });
  const reqOpts = { timeout: opts.requestTimeoutMs, signal: deadline };
  let kept = false;
  try {
    await client.connect(transport, reqOpts);
    const info = client.getServerVersion();
    const caps = client.getServerCapabilities() ?? {};
    const tools = caps.tools ? await listToolsOf(client, opts, reqOpts) : { items: [], truncated: false };
    const prompts = caps.prompts && lists === 'all'
      ? await listAll(async (cursor) => {
          const r = await client.listPrompts(cursor ? { cursor } : undefined, reqOpts);
          return { items: r.prompts.map((p) => p.name), nextCursor: r.nextCursor };
        }, opts.maxPages, opts.maxItems)
      : { items: [], truncated: false };
    const resources = caps.resources && lists === 'all'
      ? await listAll(async (cursor) => {
          const r = await client.listResources(cursor ? { cursor } : undefined, reqOpts);
          return { items: r.resources.map((x) => x.uri), nextCursor: r.nextCursor };
        }, opts.maxPages, opts.maxItems)
      : { items: [], truncated: false };
    const identity: ServerIdentity = {
      url: url.toString(),
      transport: transportKind,
      serverName: str(info?.name, 512),
      serverVersion: str(info?.version, 128),
      protocolVersion: str((transport as { protocolVersion?: unknown }).protocolVersion, 64),
      instructions: str(client.getInstructions(), 65_536),
    };
    if (keep && transport instanceof StreamableHTTPClientTransport) {
      keep(new ProbeSession(client, transport, agent, ctx, identity, Boolean(caps.tools)));
      kept = true;
    }
    return {
      kind: 'mcp',
      ...identity,
      tools: probedTools(tools.items),
      prompts: prompts.items.map((p) => String(p).slice(0, 256)),
      resources: resources.items.map((r) => String(r).slice(0, 2048)),
      truncated: tools.truncated || prompts.truncated || resources.truncated,
      listed: lists,
    };
  } catch (e) {
    const auth = statuses.find((s) => s === 401 || s === 403);
    if (auth !== undefined) return { kind: 'auth-required', url: url.toString(), transport: transportKind, status: auth };
    const last = statuses.at(-1);
    const reason = last !== undefined ? `http-${last}` : timedOut.value || deadline.aborted || (e instanceof Error && /abort|timeout|timed out/i.test(`${e.name} ${e.message}`)) ? 'timeout' : 'no-http';
    return { kind: 'not-mcp', reason };
  } finally {
    // End the session the probe opened (DELETE), so a server that keeps sessions does not keep ours
    // after every re-probe; then close. Both bounded by the probe's deadline. A kept session stays open.
    if (!kept) await endClient(client, transport, agent, !deadline.aborted);
    timers.clear();
  }
}

/** Probe one target; never throws. */
export async function probeMcp(target: ProbeTarget, options: ProbeOptions = {}): Promise<ProbeOutcome> {
  const opts = {
    requestTimeoutMs: options.requestTimeoutMs ?? PROBE_DEFAULTS.requestTimeoutMs,
    deadlineMs: options.deadlineMs ?? PROBE_DEFAULTS.deadlineMs,
    maxPages: options.maxPages ?? PROBE_DEFAULTS.maxPages,
    maxItems: options.maxItems ?? PROBE_DEFAULTS.maxItems,
  };
  if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) {
    return { kind: 'refused', code: AgentCodes.probeTarget, reason: `port ${String(target.port)} is not a TCP port` };
  }
  if (!target.local && !isLoopbackLiteral(target.host) && !options.allowRemote) {
    return { kind: 'refused', code: AgentCodes.probeTarget, reason: `${target.host} is not this machine and policy probeRemote is off` };
  }
  const base = `${target.scheme ?? 'http'}://${hostForUrl(target.host)}:${target.port}/`;
  const hinted = target.pathHint ? [target.pathHint] : [];
  const paths = [...new Set([...hinted, ...(options.paths ?? PROBE_DEFAULTS.paths)])];
  const lists = target.lists ?? 'all';
  if (target.session && !target.session.closed) {
    // A kept session answers a tools-only re-probe; anything else (or its failure) starts afresh.
    if (lists === 'tools') {
      try {
        return await target.session.listTools(opts);
      } catch {
        // the server dropped the session, restarted or wants initialize again: a fresh probe below
      }
    }
    await target.session.close(opts.requestTimeoutMs);
  }
  const deadlines = new ProbeTimers();
  let deadline = deadlines.signal(opts.deadlineMs);
  let last: ProbeOutcome = { kind: 'not-mcp', reason: 'no-path' };
  try {
    for (const path of paths) {
      if (deadline.aborted) return { kind: 'not-mcp', reason: 'timeout' };
      if (!target.known && (target.scheme ?? 'http') === 'http') {
        const url = new URL(path, base);
        const verdict = await preflight(url, SSE_PATH.test(url.pathname), opts.requestTimeoutMs, deadline);
        if (verdict.kind === 'not-mcp') {
          last = verdict;
          if (last.reason === 'no-http' || last.reason === 'timeout') return last;
          continue;
        }
      }
      if (!sdkLoaded) {
        // Importing the SDK is this agent's cost, not the listener's: the deadline starts after it.
        await loadSdk();
        deadline = deadlines.signal(opts.deadlineMs);
      }
      last = await probePath(base, path, opts, deadline, lists, target.keep);
      if (last.kind !== 'not-mcp') return last;
      // Nothing speaks HTTP there (raw TCP, closed, silent): other paths would only cost time.
      if (last.reason === 'no-http' || last.reason === 'timeout') return last;
    }
    return last;
  } catch (e) {
    return { kind: 'not-mcp', reason: e instanceof Error ? e.name : 'error' };
  } finally {
    deadlines.clear();
  }
}
