/**
 * The prober's Headers and Response (probe/web-lite.ts) against Node's own (undici's): the same
 * operations give the same answers, so the SDK's transports behave the same with either.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LiteHeaders, LiteResponse } from '../../../src/probe/web-lite.js';

type AnyHeaders = LiteHeaders | Headers;

/** The class name of what `fn` throws (Node's classes throw from another realm than jest's). */
function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).constructor.name;
  }
  return 'nothing';
}

/** Applies one script of operations and records every answer (or the error's class). */
function run(h: AnyHeaders, ops: Array<[string, ...string[]]>): unknown[] {
  const out: unknown[] = [];
  for (const [op, ...args] of ops) {
    try {
      const fn = (h as unknown as Record<string, (...a: string[]) => unknown>)[op]!;
      const r = fn.apply(h, args);
      out.push(r === undefined ? 'ok' : r);
    } catch (e) {
      out.push((e as Error).constructor.name);
    }
    out.push([...h.entries()]);
  }
  return out;
}

const INITS: unknown[] = [
  undefined,
  { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
  [['X-A', '1'], ['x-a', '2'], ['Set-Cookie', 'a=1'], ['set-cookie', 'b=2']],
  new Headers({ 'mcp-session-id': 'abc', 'MCP-Protocol-Version': '2025-06-18' }),
];

test.each(INITS.map((init, i) => [i, init]))('init #%i gives the same entries as Headers', (_i, init) => {
  const real = new Headers(init as HeadersInit);
  const lite = new LiteHeaders(init as never);
  expect([...lite]).toEqual([...real]);
  expect([...lite.keys()]).toEqual([...real.keys()]);
  expect([...lite.values()]).toEqual([...real.values()]);
});

test('a LiteHeaders is a valid init for both classes', () => {
  const lite = new LiteHeaders({ b: '2', a: '1' });
  expect([...new LiteHeaders(lite)]).toEqual([['a', '1'], ['b', '2']]);
  expect([...new Headers(lite as unknown as HeadersInit)]).toEqual([['a', '1'], ['b', '2']]);
});

test('set, append, get, has, delete and getSetCookie answer as Headers does', () => {
  const ops: Array<[string, ...string[]]> = [
    ['set', 'Content-Type', 'application/json'],
    ['append', 'accept', 'application/json'],
    ['append', 'Accept', 'text/event-stream'],
    ['get', 'ACCEPT'],
    ['has', 'content-type'],
    ['get', 'missing'],
    ['append', 'set-cookie', 'a=1'],
    ['append', 'Set-Cookie', 'b=2'],
    ['get', 'set-cookie'],
    ['getSetCookie'],
    ['set', 'x-padded', '  \tvalue with spaces \t '],
    ['get', 'x-padded'],
    ['delete', 'Accept'],
    ['has', 'accept'],
    ['set', 'bad name', 'x'],
    ['set', 'x-bad', 'a\r\nb'],
    ['set', 'x-nul', 'a\0b'],
    ['append', '', 'x'],
    ['get', 'bad:name'],
  ];
  expect(run(new LiteHeaders(), ops)).toEqual(run(new Headers(), ops));
});

test('forEach visits name/value pairs in sorted order with the headers as third argument', () => {
  const lite = new LiteHeaders([['b', '2'], ['a', '1'], ['a', '3']]);
  const seen: unknown[] = [];
  lite.forEach((v, n, h) => seen.push([n, v, h === lite]));
  expect(seen).toEqual([['a', '1, 3', true], ['b', '2', true]]);
  expect(Object.prototype.toString.call(lite)).toBe('[object Headers]');
});

test('a malformed init throws a TypeError, as Headers does', () => {
  for (const init of [[['only-name']], [['a', 'b', 'c']], ['ab'], 42]) {
    expect(thrown(() => new Headers(init as HeadersInit))).toBe('TypeError');
    expect(thrown(() => new LiteHeaders(init as never))).toBe('TypeError');
  }
});

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const s of chunks) c.enqueue(new TextEncoder().encode(s));
      c.close();
    },
  });
}

test('a response has the status fields and reads its body once, as text, JSON or bytes', async () => {
  const lite = new LiteResponse(streamOf('{"a":', '"é"}'), { status: 201, statusText: 'Created', headers: { 'Content-Type': 'application/json' } });
  const real = new Response(streamOf('{"a":', '"é"}'), { status: 201, statusText: 'Created', headers: { 'Content-Type': 'application/json' } });
  for (const k of ['status', 'statusText', 'ok', 'redirected', 'url', 'bodyUsed'] as const) expect(lite[k]).toEqual(real[k]);
  expect(lite.type).toBe('basic'); // what fetch answers with (a Response built by hand says 'default')
  expect(lite.headers.get('content-type')).toBe(real.headers.get('content-type'));
  expect(await lite.json()).toEqual(await real.json());
  expect(lite.bodyUsed).toBe(true);
  await expect(lite.text()).rejects.toThrow(TypeError);
  expect(new TextDecoder().decode(await new LiteResponse(streamOf('ab', 'c')).arrayBuffer())).toBe('abc');
  expect(await new LiteResponse(null, { status: 204 }).text()).toBe('');
  expect(new LiteResponse(null, { status: 404 }).ok).toBe(false);
});

test('a status outside 200..599 is refused with a RangeError, as Response does', () => {
  for (const status of [0, 101, 199, 600]) {
    expect(thrown(() => new Response(null, { status }))).toBe('RangeError');
    expect(thrown(() => new LiteResponse(null, { status }))).toBe('RangeError');
  }
});

test('a body that errors rejects the read', async () => {
  const body = new ReadableStream<Uint8Array>({ pull: (c) => c.error(new Error('connection lost')) });
  await expect(new LiteResponse(body).text()).rejects.toThrow('connection lost');
});

describe('installWebLiteGlobals: a process without WebAssembly (run is relaunched with --jitless)', () => {
  const WEB_LITE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist/probe/web-lite.js');
  const script = `
    import { installWebLiteGlobals } from ${JSON.stringify(pathToFileURL(WEB_LITE).href)};
    const installed = installWebLiteGlobals();
    const h = new Headers({ 'Mcp-Session-Id': 's1' });
    const r = new Response(null, { status: 204, headers: h });
    setTimeout(() => {
      const undici = process.moduleLoadList.some((m) => m.includes('undici'));
      process.stdout.write(JSON.stringify({ installed, session: h.get('mcp-session-id'), status: r.status, undici }));
    }, 300);
  `;
  const runChild = (flags: string[]) => spawnSync(process.execPath, [...flags, '--input-type=module', '-e', script], { encoding: 'utf8' });

  it('replaces Headers and Response there: they work and undici is never loaded', () => {
    const out = runChild(['--jitless']);
    expect(out.status).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual({ installed: true, session: 's1', status: 204, undici: false });
  });

  it("leaves Node's own alone where WebAssembly is there", () => {
    const out = runChild([]);
    expect(out.status).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual({ installed: false, session: 's1', status: 204, undici: true });
  });

  it("Node's own Headers ends a process without WebAssembly (why they are replaced)", () => {
    const out = spawnSync(process.execPath, ['--jitless', '-e', "new Headers({ a: '1' }); setTimeout(() => process.stdout.write('alive'), 300)"], { encoding: 'utf8' });
    expect(out.stdout).not.toContain('alive');
    expect(out.stderr).toContain('WebAssembly is not defined');
  });
});
