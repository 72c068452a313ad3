/**
 * The probe's fetch over node:http / node:https instead of Node's built-in fetch (undici).
 *
 * Why: the built-in fetch, on its first request, loads undici's connection machinery and compiles
 * its WebAssembly HTTP parser: +17 MB RSS for the life of the process (node 20, measured after GC;
 * node:http's parser is the native one already in the binary). The agent sends HTTP only from the
 * prober (the shipper uses node:http), so that cost was the prober's alone. The SDK client and its
 * transports stay exactly what speaks MCP: they accept a `fetch` option, and get this one, which
 * answers with a `LiteResponse` (web-lite.ts: the WHATWG Response's fields and body readers, its body
 * a web stream over the node response). Node's own `Response` and `Headers` would load undici's
 * bundle as well (web-lite.ts).
 *
 * Contract (only what the probe's guarded fetch and the SDK's transports use):
 * - `input` is an absolute http: or https: URL; `init` gives method, headers (any HeadersInit),
 *   body (string, Uint8Array, ArrayBuffer, URLSearchParams, or nothing) and signal. Redirects are
 *   never followed (a 3xx is returned as is, as with `redirect: 'manual'`); no cookies, no proxy.
 *   Connections are reused only through the `agent` the caller passes (the probe passes one
 *   keep-alive agent per probed path and destroys it when done: a probe's five or six requests
 *   share one or two connections, and none outlives the probe); without one, one per request.
 * - Rejects with the signal's reason when aborted before the answer's head arrived (fetch's
 *   behaviour), else with TypeError('fetch failed', { cause }) for a network error. An abort after
 *   that errors the body stream. Cancelling the body destroys the connection unless the answer had
 *   already arrived whole (then the connection goes back to the caller's keep-alive agent: the
 *   SDK cancels every 202's empty body, and the probe's next request reuses that connection);
 *   an abort of the signal always destroys it.
 * - 204 / 205 / 304 (and HEAD) answers have a null body, like fetch; a status the Response class
 *   refuses (outside 200..599) is a network error.
 * - Request headers may be any HeadersInit (a real `Headers` too); response headers are a
 *   `LiteHeaders`, repeated ones joined as fetch joins them.
 */
import { request as httpRequest, type Agent, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { LiteHeaders, LiteResponse, type LiteHeadersInit } from './web-lite.js';

/** What nodeFetch takes: fetch's RequestInit, its headers any HeadersInit or a LiteHeaders. */
export type NodeFetchInit = Omit<RequestInit, 'headers'> & { headers?: LiteHeadersInit | RequestInit['headers'] };

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

function bodyBytes(body: unknown): Buffer | null {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof URLSearchParams) return Buffer.from(body.toString(), 'utf8');
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError('node-fetch: unsupported request body type');
}

function headersOf(init: NodeFetchInit['headers'], body: Buffer | null): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  // The probe's guarded fetch passes the LiteHeaders it already built and filtered: read, not copied again.
  if (init) (init instanceof LiteHeaders ? init : new LiteHeaders(init as LiteHeadersInit)).forEach((value, name) => (out[name] = value));
  if (body && out['content-length'] === undefined) out['content-length'] = String(body.length);
  return out;
}

/** Headers of a node response, repeated ones kept (from rawHeaders). */
function responseHeaders(res: IncomingMessage): LiteHeaders {
  const h = new LiteHeaders();
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      h.append(raw[i]!, raw[i + 1]!);
    } catch {
      // a header value Headers will not hold (control characters): dropped, as fetch does
    }
  }
  return h;
}

/** Queued chunks of a body before the node response is paused (until the reader pulls). */
const BODY_CHUNKS_QUEUED = 16;

/**
 * The node response as a web stream (what Readable.toWeb gives, less its machinery): chunks in
 * order, paused while the reader lags, an error or a connection lost before the end errors it.
 * A cancel drains an answer that is already complete (its connection stays reusable) and destroys
 * one still arriving.
 */
function bodyStream(res: IncomingMessage): ReadableStream<Uint8Array> {
  let ended = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const fail = (e: unknown): void => {
          if (ended) return;
          ended = true;
          controller.error(e);
        };
        res.on('data', (chunk: Buffer) => {
          if (ended) return;
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 0) <= 0) res.pause();
        });
        res.once('end', () => {
          if (ended) return;
          ended = true;
          controller.close();
        });
        res.once('error', fail);
        res.once('close', () => {
          if (!res.complete) fail(new TypeError('terminated: the connection closed before the body ended'));
        });
      },
      pull() {
        res.resume();
      },
      cancel() {
        ended = true;
        if (res.complete) res.resume();
        else res.destroy();
      },
    },
    new CountQueuingStrategy({ highWaterMark: BODY_CHUNKS_QUEUED }),
  );
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** fetch(input, init) over node:http / node:https; see the module comment. `agent` must suit the URL's scheme. */
export function nodeFetch(input: string | URL, init: NodeFetchInit = {}, agent?: Agent): Promise<LiteResponse> {
  return new Promise<LiteResponse>((resolve, reject) => {
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return reject(abortReason(signal));
    let url: URL;
    let body: Buffer | null;
    try {
      url = new URL(String(input));
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`node-fetch: ${url.protocol} is not http or https`);
      body = bodyBytes(init.body);
    } catch (e) {
      return reject(new TypeError('fetch failed', { cause: e }));
    }
    const method = (init.method ?? 'GET').toUpperCase();
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const req = request({
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || (url.protocol === 'https:' ? 443 : 80),
      path: url.pathname + url.search,
      method,
      headers: headersOf(init.headers, body),
      agent: agent ?? false,
    });
    const onAbort = (): void => {
      const reason = abortReason(signal!);
      req.destroy(reason instanceof Error ? reason : new Error(String(reason)));
      if (!settled) {
        settled = true;
        reject(reason);
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const release = (): void => signal?.removeEventListener('abort', onAbort);
    req.once('error', (e) => {
      if (settled) return;
      settled = true;
      release();
      reject(new TypeError('fetch failed', { cause: e }));
    });
    req.once('response', (res: IncomingMessage) => {
      if (settled) {
        res.destroy();
        return;
      }
      const status = res.statusCode ?? 0;
      const headers = responseHeaders(res);
      let response: LiteResponse;
      try {
        if (NULL_BODY.has(status) || method === 'HEAD') {
          res.resume();
          response = new LiteResponse(null, { status, statusText: res.statusMessage ?? '', headers });
        } else {
          // The body stream ends the connection when it is done (kept), cancelled early, or the signal aborts.
          res.once('close', release);
          response = new LiteResponse(bodyStream(res), { status, statusText: res.statusMessage ?? '', headers });
        }
      } catch (e) {
        settled = true;
        release();
        res.destroy();
        return reject(new TypeError('fetch failed', { cause: e }));
      }
      if (NULL_BODY.has(status) || method === 'HEAD') release();
      settled = true;
      resolve(response);
    });
    req.end(body ?? undefined);
  });
}
