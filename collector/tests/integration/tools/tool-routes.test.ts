/**
 * /v1/tools over a real store (both engines): tool events go in through the store's ingest (the
 * batch log), the projector builds endpoint_tools, the routes answer fleet questions. Auth and
 * bad filters are refused with coded errors.
 */
import { makeEvent, type ToolRecord } from '@mcpwatch/shared';
import { waitFor } from '@mcpwatch/testkit';
import { engineCases } from '../../support/pg.js';
import { main as adminCli } from '../../../src/admin-cli.js';
import { ADMIN_TOKEN, makeQueryFixture, type QueryFixture } from '../../support/query-fixture.js';

const H = (c: string) => c.repeat(64);
const tool = (over: Partial<ToolRecord>): ToolRecord => ({
  serverId: 'fp-github', serverKey: null, serverName: 'github', serverVersion: '1.2.0', source: 'probe', name: 'create_issue', title: null,
  descriptionSha256: H('a'), inputSchemaSha256: H('b'), annotationsSha256: null, annotations: {}, instructionsSha256: null, capabilities: [], ...over,
});

describe.each(await engineCases())('tools API (%s)', (engine) => {
  let f: QueryFixture;
  beforeAll(async () => {
    f = await makeQueryFixture(engine);
    const { a, b } = f.fleet;
    await a.sender.send([
      makeEvent('tool.added', a.agent.endpointId, tool({})),
      makeEvent('tool.added', a.agent.endpointId, tool({ serverId: 'listener:0.0.0.0:7000', serverName: 'shell', serverVersion: null, name: 'run_command', capabilities: ['shell-exec'], annotations: { destructiveHint: true } })),
    ]);
    await b.sender.send([makeEvent('tool.added', b.agent.endpointId, tool({ descriptionSha256: H('c') }))]);
    await f.fleet.c.sender.send([makeEvent('tool.added', f.fleet.c.agent.endpointId, tool({}))]);
  });
  afterAll(async () => f.close());

  it('lists tools with prevalence and filters, names the endpoints exposing one, and an endpoint\'s tools', async () => {
    const { a, b } = f.fleet;
    const all = await waitFor('tools projected', async () => {
      const r = await f.get('/v1/tools');
      const items = r.json().items as { name: string; endpoints: number }[];
      return items.find((t) => t.name === 'create_issue')?.endpoints === 3 && items.length === 2 ? items : undefined;
    }, 30_000);
    expect(all[0]).toMatchObject({ serverId: 'fp-github', name: 'create_issue', endpoints: 3, descriptionVariants: 2 });
    const shell = await f.get('/v1/tools?capability=shell-exec');
    expect(shell.json().items).toEqual([expect.objectContaining({ name: 'run_command', serverName: 'shell', capabilities: ['shell-exec'] })]);
    const who = await f.get('/v1/tools/create_issue/endpoints?server=github');
    expect(who.json().items.map((r: { endpointId: string }) => r.endpointId).sort()).toEqual([a.agent.endpointId, b.agent.endpointId, f.fleet.c.agent.endpointId].sort());
    const mine = await f.get(`/v1/endpoints/${a.agent.endpointId}/tools`);
    expect(mine.json().items.map((t: { name: string }) => t.name)).toEqual(['create_issue', 'run_command']);
    expect(mine.json().items[1].annotations).toEqual({ destructiveHint: true });
  });

  it('shows fleet divergence for the same server version, and the finding it raised', async () => {
    const r = await f.get('/v1/tools/divergence');
    expect(r.statusCode).toBe(200);
    expect(r.json().items).toEqual([expect.objectContaining({ serverId: 'fp-github', serverVersion: '1.2.0', name: 'create_issue', endpoints: 3 })]);
    expect(r.json().items[0].majority).toEqual({ descriptionSha256: H('a'), inputSchemaSha256: H('b'), annotationsSha256: null, endpoints: 2 });
    expect(r.json().items[0].divergent).toEqual([expect.objectContaining({ endpointId: f.fleet.b.agent.endpointId, descriptionSha256: H('c') })]);
    // The fleet-wide pins of that server version: both definitions, with their endpoints.
    const defs = (await f.get('/v1/tools/definitions?server=fp-github&name=create_issue')).json();
    expect(defs).toEqual({
      items: [{
        serverId: 'fp-github', serverVersion: '1.2.0', name: 'create_issue', endpoints: 3,
        majority: { descriptionSha256: H('a'), inputSchemaSha256: H('b'), annotationsSha256: null },
        definitions: [{ descriptionSha256: H('a'), inputSchemaSha256: H('b'), annotationsSha256: null, endpoints: 2 }, { descriptionSha256: H('c'), inputSchemaSha256: H('b'), annotationsSha256: null, endpoints: 1 }],
      }],
      nextCursor: null,
    });
    expect((await f.get('/v1/tools/definitions?name=nope')).json().items).toEqual([]);
    expect((await f.get('/v1/tools/definitions?cursor=%%%')).statusCode).toBe(400);
    const findings = await f.get('/v1/findings?rule=tool-fleet-divergence&status=open');
    expect(findings.json().items.map((x: { endpointId: string }) => x.endpointId)).toEqual([f.fleet.b.agent.endpointId]);
  });

  it('answers `mcpwatch tools` over real HTTP: fleet table, endpoints of a tool, an endpoint\'s tools, a bad subcommand', async () => {
    const address = await f.app.listen({ port: 0, host: '127.0.0.1' });
    const run = async (...argv: string[]) => {
      let out = '';
      let err = '';
      const code = await adminCli(['--server', address, '--token', ADMIN_TOKEN, ...argv], { env: {}, stdout: (t) => (out += t), stderr: (t) => (err += t) });
      return { code, out, err };
    };
    const table = await run('tools', '--capability', 'shell-exec');
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/SERVER\s+TOOL\s+ENDPOINTS/);
    expect(table.out).toMatch(/shell\s+run_command\s+1/);
    const who = await run('--json', 'tools', 'endpoints', 'create_issue', '--server-name', 'github');
    expect(JSON.parse(who.out).items).toHaveLength(3);
    const one = await run('tools', 'endpoint', f.fleet.a.agent.endpointId);
    expect(one.out).toContain('run_command');
    const defs = await run('tools', 'definitions', '--name', 'create_issue');
    expect(defs.code).toBe(0);
    expect(defs.out).toMatch(/fp-github\s+1\.2\.0\s+create_issue\s+3\s+2\s+a{16}/);
    const bad = await run('tools', 'teleport');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('unknown tools subcommand');
  });

  it('filters by prevalence, orders rarest first, pages with a cursor; names hosts and filters by version and description hash', async () => {
    const rare = await f.get('/v1/tools?maxEndpoints=1');
    expect(rare.json().items.map((t: { name: string }) => t.name)).toEqual(['run_command']);
    expect((await f.get('/v1/tools?minEndpoints=2')).json().items.map((t: { name: string }) => t.name)).toEqual(['create_issue']);
    expect((await f.get('/v1/tools?minEndpoints=4')).json()).toEqual({ items: [], nextCursor: null });
    const least = (await f.get('/v1/tools?order=least')).json().items.map((t: { endpoints: number }) => t.endpoints);
    expect(least).toEqual([1, 3]);
    const first = (await f.get('/v1/tools?limit=1')).json();
    expect(first.items.map((t: { name: string }) => t.name)).toEqual(['create_issue']);
    const second = (await f.get(`/v1/tools?limit=1&cursor=${first.nextCursor}`)).json();
    expect(second).toEqual({ items: [expect.objectContaining({ name: 'run_command' })], nextCursor: null });

    const { a, b, c } = f.fleet;
    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const r = (await f.get(`/v1/tools/create_issue/endpoints?limit=1${cursor ? `&cursor=${cursor}` : ''}`)).json() as { items: { endpointId: string; hostname: string }[]; nextCursor: string | null };
      expect(r.items).toHaveLength(1);
      walked.push(r.items[0]!.endpointId);
      cursor = r.nextCursor;
    } while (cursor);
    expect(walked).toEqual([a.agent.endpointId, b.agent.endpointId, c.agent.endpointId].sort());
    const odd = (await f.get(`/v1/tools/create_issue/endpoints?descriptionSha256=${H('c')}`)).json().items;
    expect(odd).toEqual([expect.objectContaining({ endpointId: b.agent.endpointId, hostname: 'linux-bob', descriptionSha256: H('c') })]);
    expect((await f.get('/v1/tools/create_issue/endpoints?version=1.2.0')).json().items).toHaveLength(3);
    expect((await f.get('/v1/tools/create_issue/endpoints?version=9.9.9')).json().items).toEqual([]);

    const address = await f.app.listen({ port: 0, host: '127.0.0.1' }).catch(() => `http://127.0.0.1:${(f.app.server.address() as { port: number }).port}`);
    let out = '';
    const code = await adminCli(['--server', address, '--token', ADMIN_TOKEN, 'tools', '--max-endpoints', '1', '--order', 'least'], { env: {}, stdout: (t) => (out += t), stderr: () => undefined });
    expect(code).toBe(0);
    expect(out).toMatch(/shell\s+run_command\s+1/);
    expect(out).not.toContain('create_issue');
    out = '';
    await adminCli(['--server', address, '--token', ADMIN_TOKEN, 'tools', 'endpoints', 'create_issue', '--sha256', H('c')], { env: {}, stdout: (t) => (out += t), stderr: () => undefined });
    expect(out).toMatch(/HOSTNAME/);
    expect(out).toContain('linux-bob');
    expect(out).not.toContain('mac-alice');
  });

  it('refuses a missing token (401) and a bad filter (400) with coded errors', async () => {
    expect((await f.get('/v1/tools', null)).statusCode).toBe(401);
    const bad = await f.get('/v1/tools?capability=teleport');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toMatch(/^MCPW_ERR_/);
    for (const url of ['/v1/tools?cursor=not-a-cursor!', '/v1/tools?cursor=eyJ4IjoxfQ', '/v1/tools?minEndpoints=-1', '/v1/tools?order=random',
      '/v1/tools/create_issue/endpoints?cursor=WzFd', '/v1/tools/create_issue/endpoints?descriptionSha256=zz']) {
      const r = await f.get(url);
      expect([url, r.statusCode]).toEqual([url, 400]);
      expect(r.json().code).toMatch(/^MCPW_ERR_/);
    }
  });
});
