/**
 * The query API through inject() on both engines: every filter, pagination, grouping by
 * fingerprint, the bad-input matrix (schema, cursor, SQL metacharacters in every filter) and auth.
 */
import { engineCases } from '../support/pg.js';
import { makeQueryFixture, type QueryFixture } from '../support/query-fixture.js';

const SQL_METACHARACTERS = ["' OR '1'='1", "x'; DROP TABLE endpoints; --", '%', '_', '\\', '" OR ""="', "') UNION SELECT * FROM api_tokens --", '*/ /*'];

describe.each(await engineCases())('query API (%s)', (engine) => {
  let fx: QueryFixture;
  beforeAll(async () => {
    fx = await makeQueryFixture(engine);
  });
  afterAll(async () => fx.close());

  const hostnames = (res: { json(): unknown }) => ((res.json() as { items: { hostname: string }[] }).items.map((e) => e.hostname).sort());

  test('GET /v1/endpoints lists the fleet and filters by each field', async () => {
    expect(hostnames(await fx.get('/v1/endpoints'))).toEqual(['linux-bob', 'mac-alice', "win%_x'"]);
    expect(hostnames(await fx.get('/v1/endpoints?os=linux'))).toEqual(['linux-bob']);
    expect(hostnames(await fx.get('/v1/endpoints?os=windows'))).toEqual(["win%_x'"]);
    expect(hostnames(await fx.get('/v1/endpoints?hostname=ALICE'))).toEqual(['mac-alice']);
    expect(hostnames(await fx.get('/v1/endpoints?user=bob'))).toEqual(['linux-bob']);
    expect(hostnames(await fx.get('/v1/endpoints?client=cursor'))).toEqual(['linux-bob', 'mac-alice', "win%_x'"]);
    expect(hostnames(await fx.get('/v1/endpoints?server=github'))).toEqual(['linux-bob', 'mac-alice']);
    expect(hostnames(await fx.get('/v1/endpoints?severity=medium'))).toEqual(['mac-alice']);
    expect(hostnames(await fx.get('/v1/endpoints?severity=low'))).toEqual(['linux-bob', 'mac-alice']);
    expect(hostnames(await fx.get('/v1/endpoints?lastSeenAfter=2000-01-01T00:00:00Z'))).toHaveLength(3);
    expect(hostnames(await fx.get('/v1/endpoints?lastSeenBefore=2000-01-01T00:00:00Z'))).toEqual([]);
  });

  test('wildcards in a hostname filter match only themselves', async () => {
    expect(hostnames(await fx.get(`/v1/endpoints?hostname=${encodeURIComponent('%_')}`))).toEqual(["win%_x'"]);
    expect(hostnames(await fx.get(`/v1/endpoints?hostname=${encodeURIComponent("x'")}`))).toEqual(["win%_x'"]);
  });

  test('cursor pagination walks every endpoint once', async () => {
    const seen: string[] = [];
    let url = '/v1/endpoints?limit=1';
    for (let i = 0; i < 5; i++) {
      const body = (await fx.get(url)).json() as { items: { hostname: string }[]; nextCursor: string | null };
      seen.push(...body.items.map((e) => e.hostname));
      if (!body.nextCursor) break;
      url = `/v1/endpoints?limit=1&cursor=${encodeURIComponent(body.nextCursor)}`;
    }
    expect(seen.sort()).toEqual(['linux-bob', 'mac-alice', "win%_x'"]);
  });

  test('GET /v1/endpoints/:id returns the current inventory and recent events; unknown is 404', async () => {
    const res = await fx.get(`/v1/endpoints/${fx.fleet.a.agent.endpointId}`);
    expect(res.statusCode).toBe(200);
    const d = res.json();
    expect(d.endpoint).toMatchObject({ hostname: 'mac-alice', platform: 'darwin', users: ['alice'] });
    expect(d.servers.map((s: { name: string }) => s.name).sort()).toEqual(['github', 'shell']);
    expect(d.servers[0].envKeys).toEqual(['GITHUB_TOKEN']);
    expect(d.findings).toEqual([expect.objectContaining({ id: fx.fleet.highFinding.id, status: 'open', severity: 'high' })]);
    // The snapshot, and the finding.raised the store derived from its finding.
    expect(d.recentEvents.map((e: { type: string }) => e.type).sort()).toEqual(['finding.raised', 'inventory.snapshot']);
    const missing = await fx.get('/v1/endpoints/nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('MCPW_ERR_NOT_FOUND');
  });

  test('GET /v1/servers groups by fingerprint with prevalence, and answers which endpoints run a server', async () => {
    const body = (await fx.get('/v1/servers')).json() as { items: { fingerprint: string; names: string[]; endpointCount: number; maxSeverity: string | null; packageName: string | null }[] };
    expect(body.items[0]).toMatchObject({ fingerprint: fx.fleet.github.fingerprint, names: ['github'], endpointCount: 2, maxSeverity: 'low', packageName: '@modelcontextprotocol/server-github' });
    expect(body.items).toHaveLength(3);
    const names = async (q: string) => ((await fx.get(`/v1/servers?${q}`)).json() as { items: { names: string[] }[] }).items.map((s) => s.names[0]).sort();
    expect(await names('name=shell')).toEqual(['shell']);
    expect(await names('package=shell-mcp')).toEqual(['shell']);
    expect(await names('transport=http')).toEqual(['remote-docs']);
    expect(await names('client=claude-desktop')).toEqual(['remote-docs']);
    expect(await names('risk=high')).toEqual(['shell']);
    expect(await names('risk=low')).toEqual(['github', 'shell']);

    const who = (await fx.get(`/v1/servers/${fx.fleet.github.fingerprint}/endpoints`)).json() as { items: { hostname: string; user: string }[] };
    expect(who.items.map((e) => [e.hostname, e.user]).sort()).toEqual([['linux-bob', 'bob'], ['mac-alice', 'alice']]);
    const page1 = (await fx.get(`/v1/servers/${fx.fleet.github.fingerprint}/endpoints?limit=1`)).json() as { items: unknown[]; nextCursor: string };
    const page2 = (await fx.get(`/v1/servers/${fx.fleet.github.fingerprint}/endpoints?limit=1&cursor=${page1.nextCursor}`)).json() as { items: unknown[]; nextCursor: string | null };
    expect([page1.items.length, page2.items.length, page2.nextCursor]).toEqual([1, 1, null]);
  });

  test('GET /v1/findings filters by severity, rule, status and endpoint', async () => {
    const ids = async (q: string) => ((await fx.get(`/v1/findings?${q}`)).json() as { items: { ruleId: string }[] }).items.map((f) => f.ruleId);
    expect(await ids('')).toEqual(['shell-exec', 'floating-version']);
    expect(await ids('severity=high')).toEqual(['shell-exec']);
    expect(await ids('rule=floating-version')).toEqual(['floating-version']);
    expect(await ids('status=resolved')).toEqual([]);
    expect(await ids(`endpoint=${fx.fleet.b.agent.endpointId}`)).toEqual(['floating-version']);
  });

  test('GET /v1/events filters by time range, endpoint and type; pages newest first', async () => {
    const types = async (q: string) => ((await fx.get(`/v1/events?${q}`)).json() as { items: { type: string }[] }).items.map((e) => e.type);
    expect(await types(`endpoint=${fx.fleet.c.agent.endpointId}`)).toEqual(['config.error', 'inventory.snapshot']);
    expect(await types('type=config.error')).toEqual(['config.error']);
    expect(await types('until=2000-01-01T00:00:00Z')).toEqual([]);
    // 4 sent, and a finding.raised derived from each of the two snapshots that hold a finding.
    expect(await types('since=2000-01-01T00:00:00Z')).toHaveLength(6);
    expect(await types('type=finding.raised')).toEqual(['finding.raised', 'finding.raised']);
    const p1 = (await fx.get('/v1/events?limit=4')).json() as { items: unknown[]; nextCursor: string };
    const p2 = (await fx.get(`/v1/events?limit=4&cursor=${p1.nextCursor}`)).json() as { items: unknown[]; nextCursor: string | null };
    expect([p1.items.length, p2.items.length, p2.nextCursor]).toEqual([4, 2, null]);
  });

  test.each([
    ['/v1/endpoints', ['os', 'hostname', 'user', 'client', 'server']],
    ['/v1/servers', ['name', 'package', 'client']],
    ['/v1/findings', ['rule', 'endpoint']],
    ['/v1/events', ['endpoint', 'type']],
  ])('SQL metacharacters in every filter of %s are matched as plain values', async (path, params) => {
    for (const param of params) {
      for (const value of SQL_METACHARACTERS) {
        const res = await fx.get(`${path}?${param}=${encodeURIComponent(value)}`);
        expect({ param, value, status: res.statusCode }).toEqual({ param, value, status: 200 });
        const items = (res.json() as { items: { hostname?: string }[] }).items;
        // Only the hostname filter can match, and only the endpoint whose name holds those characters.
        const expected = param === 'hostname' && "win%_x'".includes(value) ? 1 : 0;
        expect({ param, value, n: items.length }).toEqual({ param, value, n: expected });
      }
    }
    expect(hostnames(await fx.get('/v1/endpoints'))).toHaveLength(3);
  });

  test('SQL metacharacters in path parameters are plain values', async () => {
    for (const value of SQL_METACHARACTERS) {
      expect((await fx.get(`/v1/endpoints/${encodeURIComponent(value)}`)).statusCode).toBe(404);
      const res = await fx.get(`/v1/servers/${encodeURIComponent(value)}/endpoints`);
      expect(res.statusCode).toBe(200);
      expect(res.json().items).toEqual([]);
    }
  });

  test.each([
    ['/v1/endpoints?severity=urgent', 'MCPW_ERR_SCHEMA'],
    ['/v1/endpoints?lastSeenAfter=yesterday', 'MCPW_ERR_SCHEMA'],
    ['/v1/endpoints?limit=0', 'MCPW_ERR_SCHEMA'],
    ['/v1/endpoints?limit=5000', 'MCPW_ERR_SCHEMA'],
    ['/v1/endpoints?bogus=1', 'MCPW_ERR_SCHEMA'],
    ['/v1/endpoints?cursor=not-a-cursor', 'MCPW_ERR_MALFORMED'],
    [`/v1/endpoints?cursor=${Buffer.from('{"o":1}').toString('base64url')}`, 'MCPW_ERR_MALFORMED'],
    ['/v1/servers?transport=carrier-pigeon', 'MCPW_ERR_SCHEMA'],
    ['/v1/servers?cursor=eyJvIjotMX0', 'MCPW_ERR_MALFORMED'],
    ['/v1/findings?status=maybe', 'MCPW_ERR_SCHEMA'],
    ['/v1/events?since=not-a-time', 'MCPW_ERR_SCHEMA'],
    ['/v1/events?cursor=WyJ4Il0', 'MCPW_ERR_MALFORMED'],
  ])('%s is 400 %s', async (url, code) => {
    const res = await fx.get(url);
    expect({ status: res.statusCode, code: res.json().code }).toEqual({ status: 400, code });
  });

  test('auth: no or unknown token is 401; a read token reads but cannot administer', async () => {
    expect((await fx.get('/v1/endpoints', null)).json()).toMatchObject({ statusCode: 401, code: 'MCPW_ERR_UNAUTHORIZED' });
    expect((await fx.get('/v1/endpoints', 'wrong-token-123456')).statusCode).toBe(401);
    const created = (await fx.post('/v1/tokens', { name: 'soc', scope: 'read' })).json() as { token: string };
    expect((await fx.get('/v1/endpoints', created.token)).statusCode).toBe(200);
    const denied = await fx.get('/v1/agents', created.token);
    expect({ status: denied.statusCode, code: denied.json().code }).toEqual({ status: 403, code: 'MCPW_ERR_FORBIDDEN' });
  });
});
