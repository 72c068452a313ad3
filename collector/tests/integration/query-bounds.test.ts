/**
 * The query API under hostile cursors and big events, through the real routes on both engines:
 * every tampered or garbage cursor is a coded 400 (never a 500 from the database), and a page of
 * big events stops at the page byte budget and hands back a cursor that walks the rest.
 */
import { makeEvent, type McpEvent } from '@mcpwatch/shared';
import { makeFixture, type Fixture } from '../support/collector-fixture.js';
import { engineCases } from '../support/pg.js';
import { makeServerEntry, type TestAgent } from '@mcpwatch/testkit';
import { MAX_PAGE_BYTES } from '../../src/store/inventory-queries.js';

const ADMIN_TOKEN = 'bootstrap-admin-token-0123456789';
const b64 = (text: string): string => Buffer.from(text).toString('base64url');
const json = (v: unknown): string => b64(JSON.stringify(v));

/** Cursors no page ever hands out: tampered values, wrong types, garbage. */
const OFFSET_CURSORS: Array<[string, string]> = [
  ['an offset of 1e300', b64('{"o":1e300}')],
  ['an offset of 2^53', json({ o: 2 ** 53 })],
  ['an offset of 2^63', b64('{"o":9223372036854775808}')],
  ['an offset past int4', json({ o: 2 ** 31 })],
  ['an infinite offset', b64('{"o":1e999}')],
  ['a negative offset', json({ o: -1 })],
  ['a fractional offset', json({ o: 1.5 })],
  ['a string offset', json({ o: '5' })],
  ['a null offset', json({ o: null })],
  ['an extra member', json({ o: 1, x: 2 })],
  ['an array', json([1])],
  ['a bare number', json(7)],
  ['NaN', b64('{"o":NaN}')],
];
const ID_CURSORS: Array<[string, string]> = [
  ['a number', json(12345)],
  ['an object', json({ o: 1 })],
  ['a NUL character', json('ep_\u0000x')],
  ['control characters', json('\u001b[31m')],
  ['a lone surrogate', b64('"\\ud800"')],
  ['an empty id', json('')],
  ['a 129-character id', json('e'.repeat(129))],
];
const GARBAGE_CURSORS: Array<[string, string]> = [
  ['not base64', 'not a cursor!'],
  ['percent-encoded NUL', '%00'],
  ['base64 of non-JSON', b64('hello')],
  ['standard base64 padding', `${json('x')}==`],
  ['over 1024 characters', 'A'.repeat(1500)],
  ['over the route limit', 'A'.repeat(5000)],
];

describe.each(await engineCases())('query API bounds (%s store)', (engine) => {
  let fx: Fixture;
  let agent: TestAgent;
  const get = (url: string) => fx.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });

  beforeAll(async () => {
    fx = await makeFixture({ engine, overrides: { adminToken: ADMIN_TOKEN, rateLimitPerAgentPerS: 1000, rateLimitBurst: 1000 } });
    agent = await fx.enroll();
    expect((await agent.sendEvents(8)).status).toBe(200);
  });
  afterAll(async () => fx.close());

  /** Walks `path` page by page; checks every reply against the budget; returns the ids seen and the page count. */
  async function walk(path: string, id: (item: Record<string, unknown>) => string): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let url = path;
    for (let pages = 1; pages <= 50; pages++) {
      const res = await get(url);
      expect(res.statusCode).toBe(200);
      expect(res.body.length).toBeLessThanOrEqual(MAX_PAGE_BYTES + 64 * 1024);
      const body = res.json() as { items: Record<string, unknown>[]; nextCursor: string | null };
      expect(body.items.length).toBeGreaterThan(0);
      ids.push(...body.items.map(id));
      if (!body.nextCursor) return { ids, pages };
      url = `${path}&cursor=${encodeURIComponent(body.nextCursor)}`;
    }
    throw new Error(`${path} did not end within 50 pages`);
  }

  async function expectBadCursor(path: string, cursor: string): Promise<void> {
    const res = await get(`${path}${path.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor)}`);
    expect({ status: res.statusCode, code: (res.json() as { code?: string }).code }).toEqual({
      status: 400,
      code: expect.stringMatching(/^MCPW_ERR_(MALFORMED|SCHEMA)$/),
    });
  }

  test.each([...OFFSET_CURSORS, ...GARBAGE_CURSORS])('/v1/servers and /v1/findings refuse a cursor with %s: 400', async (_what, cursor) => {
    await expectBadCursor('/v1/servers', cursor);
    await expectBadCursor('/v1/findings', cursor);
  });

  test.each([...ID_CURSORS, ...GARBAGE_CURSORS])('/v1/endpoints and /v1/events refuse a cursor with %s: 400', async (_what, cursor) => {
    await expectBadCursor('/v1/endpoints', cursor);
    await expectBadCursor('/v1/events', cursor);
  });

  test.each([
    ['a non-ULID event id', json('01ARZ3NDEKTSV4RRFFQ69G5FA!')],
    ['a lower-case event id', json('01arz3ndektsv4rrffq69g5fav')],
  ])('/v1/events refuses a cursor with %s: 400', async (_what, cursor) => {
    await expectBadCursor('/v1/events', cursor);
  });

  test.each([
    ['one id', json(['a'])],
    ['three ids', json(['a', 'b', 'c'])],
    ['numbers', json([1, 2])],
    ['a NUL in the server key', json(['ep', 'k\u0000'])],
    ['an overlong endpoint id', json(['e'.repeat(200), 'k'])],
    ...GARBAGE_CURSORS,
  ])('/v1/servers/:fingerprint/endpoints refuses a cursor with %s: 400', async (_what, cursor) => {
    await expectBadCursor('/v1/servers/abcdef0123456789/endpoints', cursor);
  });

  test.each([
    '/v1/endpoints?hostname=', '/v1/endpoints?os=', '/v1/endpoints?user=', '/v1/endpoints?client=', '/v1/endpoints?server=',
    '/v1/servers?name=', '/v1/servers?package=', '/v1/servers?client=', '/v1/findings?rule=', '/v1/findings?endpoint=',
    '/v1/events?endpoint=', '/v1/events?type=', '/v1/endpoints/', '/v1/servers/',
  ])('a NUL character in %s… is 400 MCPW_ERR_MALFORMED, not a database error', async (prefix) => {
    const value = encodeURIComponent('a\u0000b');
    const url = prefix === '/v1/servers/' ? `/v1/servers/${value}/endpoints` : `${prefix}${value}`;
    const res = await get(url);
    expect({ status: res.statusCode, code: (res.json() as { code?: string }).code }).toEqual({ status: 400, code: 'MCPW_ERR_MALFORMED' });
  });

  test('cursors handed out still walk every page', async () => {
    const seen: string[] = [];
    let url = '/v1/events?limit=3';
    for (let i = 0; i < 10; i++) {
      const body = (await get(url)).json() as { items: { id: string }[]; nextCursor: string | null };
      seen.push(...body.items.map((e) => e.id));
      if (!body.nextCursor) break;
      url = `/v1/events?limit=3&cursor=${encodeURIComponent(body.nextCursor)}`;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBeGreaterThanOrEqual(8);
  });

  test('a page of big findings stays under the byte budget, and its cursor walks them all', async () => {
    const other = await fx.enroll();
    const server = makeServerEntry('many-findings');
    // 700 findings of about 7 KB each (within the schema): about 5 MB in one page of limit=1000
    const findings = Array.from({ length: 700 }, (_, i) => ({
      id: `big-finding-${i}`,
      ruleId: 'secret-in-env',
      severity: 'high' as const,
      title: `Finding ${i}`.padEnd(500, '.'),
      description: 'd'.repeat(4000),
      subject: { serverKey: server.serverKey, serverName: server.name, client: server.client, configPath: server.configPath },
      evidence: { field: 'f'.repeat(1000), kind: 'github-token', detail: 'x'.repeat(1000) },
    }));
    const snap = makeEvent('inventory.snapshot', other.endpointId, { host: other.host, clients: [], servers: [server], processes: [], sockets: [], findings, errors: [] }, new Date(other.now()));
    expect((await other.sendEvents([snap])).status).toBe(200);
    const { ids, pages } = await walk(`/v1/findings?endpoint=${other.endpointId}&limit=1000`, (f) => f.findingId as string);
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(findings.map((f) => f.id).sort());
  });

  test('a page of big events stays under the byte budget, and its cursor walks them all', async () => {
    // six server.added events of about 1.5 MB each (190 arguments of 8,000 characters: within the schema)
    const big: McpEvent[] = Array.from({ length: 6 }, (_, i) =>
      makeEvent('server.added', agent.endpointId, makeServerEntry(`big-${i}`, { args: Array.from({ length: 190 }, (_, j) => `${i}-${j}-`.padEnd(8000, 'a')) }), new Date(agent.now())),
    );
    const big2 = (await agent.sendEvents(big)).status;
    expect(big2).toBe(200);
    const bigIds = new Set(big.map((e) => e.id));

    const seen: string[] = [];
    let url = '/v1/events?type=server.added&limit=1000';
    let pages = 0;
    for (; pages < 20; pages++) {
      const res = await get(url);
      expect(res.statusCode).toBe(200);
      expect(res.body.length).toBeLessThanOrEqual(MAX_PAGE_BYTES + 64 * 1024);
      const body = res.json() as { items: { id: string }[]; nextCursor: string | null };
      expect(body.items.length).toBeGreaterThan(0);
      seen.push(...body.items.map((e) => e.id));
      if (!body.nextCursor) break;
      url = `/v1/events?type=server.added&limit=1000&cursor=${encodeURIComponent(body.nextCursor)}`;
    }
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => bigIds.has(id)).sort()).toEqual([...bigIds].sort());

    // the endpoint's detail: its recent events and its (now big) server list are cut at the budget, and say so
    const detail = await get(`/v1/endpoints/${agent.endpointId}?events=1000`);
    expect(detail.statusCode).toBe(200);
    const d = detail.json() as { recentEvents: unknown[]; servers: { name: string }[]; truncated: string[] };
    expect(d.recentEvents.length).toBeGreaterThan(0);
    expect(JSON.stringify(d.recentEvents).length).toBeLessThanOrEqual(MAX_PAGE_BYTES + 64 * 1024);
    const oneServerBytes = JSON.stringify(big[0]!.data).length;
    expect(JSON.stringify(d.servers).length).toBeLessThanOrEqual(MAX_PAGE_BYTES + oneServerBytes + 64 * 1024);
    expect(d.servers.filter((s) => s.name.startsWith('big-')).length).toBeLessThan(6);
    expect(d.truncated).toEqual(expect.arrayContaining(['recentEvents', 'servers']));

    // a small endpoint's detail is whole
    const small = (await get(`/v1/endpoints/${(await fx.enroll()).endpointId}`)).json() as { truncated: string[] };
    expect(small.truncated).toEqual([]);
  });
});
