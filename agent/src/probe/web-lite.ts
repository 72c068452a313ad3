/**
 * Headers and Response for the probe's fetch (node-fetch.ts) and the MCP SDK's client transports,
 * without Node's own: in Node, the global `Headers`, `Response`, `Request` and `FormData` are lazy
 * getters over undici's bundle, and the first touch of any of them loads all of it and keeps it
 * resident for the life of the process. The agent touches them only in the prober, where the SDK's
 * Streamable HTTP transport builds `new Headers(...)` for every request. The agent's bundle maps
 * the SDK's global `Headers` to this class (esbuild `inject`, scripts/bundle-cli.mjs), so a probe
 * loads no undici at all.
 *
 * Contract, the parts of the WHATWG classes the probe and the SDK use:
 * - `LiteHeaders(init)`: init is a Headers-like (anything iterable as [name, value] pairs: a real
 *   `Headers` too), an array of pairs, or a record. Names are case-insensitive (kept lowercase);
 *   `append` joins repeated values with ", " (`set-cookie` is kept as separate values); `get`
 *   answers null when absent; iteration is sorted by name, as Headers' is. An invalid name (not an
 *   HTTP token) or value (NUL, CR or LF) throws a TypeError, as Headers does; values are trimmed of
 *   leading and trailing HTTP whitespace.
 * - `installWebLiteGlobals()`: in a process without WebAssembly (`run` is relaunched with --jitless,
 *   runtime/launch.ts), Node's undici cannot load: the first touch of the global `Headers` or
 *   `Response` starts loading its WebAssembly HTTP parser, which rejects unhandled and ends the
 *   process. There, and only there, those two globals become LiteHeaders and LiteResponse, so the
 *   SDK works unbundled too (the bundle maps its `Headers` anyway). Returns whether it did.
 * - `LiteResponse(body, init)`: status (200..599, else RangeError), statusText, ok, headers,
 *   redirected false, type 'basic', url '', body (a web ReadableStream or null), bodyUsed, and
 *   text(), json(), arrayBuffer(), which read the body once (a second read is a TypeError).
 */

/** An HTTP token (RFC 9110 field-name). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\0\r\n]/;
/** HTTP whitespace at either end of a value (tab, space, CR, LF). */
const EDGE_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;

type HeaderPairs = Iterable<readonly [string, string]> | Iterable<readonly string[]>;
export type LiteHeadersInit = HeaderPairs | Record<string, string | readonly string[] | undefined> | LiteHeaders;

function headerName(name: string): string {
  const n = String(name);
  if (!TOKEN.test(n)) throw new TypeError(`invalid header name: ${JSON.stringify(n)}`);
  return n.toLowerCase();
}

function headerValue(value: string): string {
  const v = String(value).replace(EDGE_WHITESPACE, '');
  if (BAD_VALUE.test(v)) throw new TypeError('invalid header value');
  return v;
}

export class LiteHeaders implements Iterable<[string, string]> {
  /** Lowercased name → values in the order appended. */
  readonly #map = new Map<string, string[]>();

  constructor(init?: LiteHeadersInit | null) {
    if (init === undefined || init === null) return;
    if (typeof (init as Iterable<unknown>)[Symbol.iterator] === 'function') {
      for (const pair of init as Iterable<readonly string[]>) {
        if (!pair || typeof pair === 'string' || pair.length !== 2) throw new TypeError('a header pair must have exactly a name and a value');
        this.append(pair[0]!, pair[1]!);
      }
      return;
    }
    if (typeof init !== 'object') throw new TypeError('headers must be an object, an iterable of pairs or a Headers');
    for (const [name, value] of Object.entries(init)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) this.append(name, v as string);
      else this.append(name, value as string);
    }
  }

  append(name: string, value: string): void {
    const n = headerName(name);
    const v = headerValue(value);
    const values = this.#map.get(n);
    if (values) values.push(v);
    else this.#map.set(n, [v]);
  }

  set(name: string, value: string): void {
    this.#map.set(headerName(name), [headerValue(value)]);
  }

  get(name: string): string | null {
    const values = this.#map.get(headerName(name));
    return values ? values.join(', ') : null;
  }

  has(name: string): boolean {
    return this.#map.has(headerName(name));
  }

  delete(name: string): void {
    this.#map.delete(headerName(name));
  }

  getSetCookie(): string[] {
    return [...(this.#map.get('set-cookie') ?? [])];
  }

  forEach(callback: (value: string, name: string, headers: this) => void, thisArg?: unknown): void {
    for (const [name, value] of this) callback.call(thisArg, value, name, this);
  }

  *entries(): IterableIterator<[string, string]> {
    for (const name of [...this.#map.keys()].sort()) {
      const values = this.#map.get(name)!;
      if (name === 'set-cookie') for (const v of values) yield [name, v];
      else yield [name, values.join(', ')];
    }
  }

  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'Headers';
  }
}

export interface LiteResponseInit {
  status?: number;
  statusText?: string;
  headers?: LiteHeadersInit;
}

export class LiteResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: LiteHeaders;
  readonly redirected = false;
  readonly type = 'basic';
  readonly url = '';
  readonly body: ReadableStream<Uint8Array> | null;
  #used = false;

  constructor(body: ReadableStream<Uint8Array> | null = null, init: LiteResponseInit = {}) {
    const status = init.status ?? 200;
    if (!Number.isInteger(status) || status < 200 || status > 599) throw new RangeError(`status ${status} is outside 200..599`);
    this.status = status;
    this.statusText = init.statusText ?? '';
    this.headers = init.headers instanceof LiteHeaders ? init.headers : new LiteHeaders(init.headers);
    this.body = body;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  /** The whole body as bytes (empty without one); the body can be read once. */
  async arrayBuffer(): Promise<ArrayBuffer> {
    if (this.#used) throw new TypeError('the body has already been read');
    this.#used = true;
    if (!this.body) return new ArrayBuffer(0);
    const chunks: Uint8Array[] = [];
    let length = 0;
    const reader = this.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      length += value.byteLength;
    }
    const out = new Uint8Array(length);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out.buffer;
  }

  async text(): Promise<string> {
    return new TextDecoder().decode(await this.arrayBuffer());
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }
}

/** See the module comment: Headers and Response globals that work where undici cannot load. */
export function installWebLiteGlobals(scope: Record<string, unknown> = globalThis as unknown as Record<string, unknown>): boolean {
  if (typeof scope.WebAssembly !== 'undefined') return false;
  for (const [name, value] of [['Headers', LiteHeaders], ['Response', LiteResponse]] as const) {
    Object.defineProperty(scope, name, { value, writable: true, configurable: true, enumerable: false });
  }
  return true;
}
