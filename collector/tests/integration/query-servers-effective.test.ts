/**
 * GET /v1/servers?effective=… on both engines (issue 14): the state the agent decided for each
 * server is stored and filterable; servers from agents that send no state count as active (or
 * disabled when their flag says so); an unknown state is a 400 with the schema's message.
 */
import { engineCases } from '../support/pg.js';
import { makeQueryFixture, type QueryFixture } from '../support/query-fixture.js';
import { enrolled, hostInfo, serverEntry, snapshot } from '../support/store-fixtures.js';

describe.each(await engineCases())('servers by effective state (%s)', (engine) => {
  let fx: QueryFixture;
  beforeAll(async () => {
    fx = await makeQueryFixture(engine);
    const d = await enrolled(fx.store, hostInfo({ hostname: 'linux-dana', platform: 'linux', osName: 'Debian', users: ['dana'] }));
    await d.sender.send([
      snapshot(d.agent.endpointId, d.host, {
        servers: [
          { ...serverEntry('corp-blocked', { pkg: 'blocked-mcp' }), effective: 'blocked-by-policy', effectiveReason: 'managed-mcp.json (/etc/claude-code/managed-mcp.json) takes exclusive control' },
          { ...serverEntry('repo-fresh', { pkg: 'fresh-mcp' }), scope: 'project', effective: 'not-loaded', effectiveReason: 'project .mcp.json server not approved in Claude Code' },
          { ...serverEntry('turned-off', { pkg: 'off-mcp' }), disabled: true },
        ],
      }),
    ]);
  });
  afterAll(async () => fx.close());

  const names = async (q: string) => ((await fx.get(`/v1/servers?${q}`)).json() as { items: { names: string[] }[] }).items.map((s) => s.names[0]).sort();

  test('filters on the state the agent sent, and defaults older entries from their disabled flag', async () => {
    expect(await names('effective=blocked-by-policy')).toEqual(['corp-blocked']);
    expect(await names('effective=not-loaded')).toEqual(['repo-fresh']);
    expect(await names('effective=disabled')).toEqual(['turned-off']);
    expect(await names('effective=active')).toEqual(['github', 'remote-docs', 'shell']);
    expect(await names('effective=shadowed')).toEqual([]);
  });

  test('keeps the state and reason on the endpoint detail', async () => {
    const ep = (await fx.get('/v1/endpoints?hostname=dana')).json() as { items: { endpointId: string }[] };
    const d = (await fx.get(`/v1/endpoints/${ep.items[0]!.endpointId}`)).json() as { servers: { name: string; effective?: string; effectiveReason?: string }[] };
    expect(d.servers.find((s) => s.name === 'repo-fresh')).toMatchObject({ effective: 'not-loaded', effectiveReason: expect.stringContaining('not approved') });
  });

  test('an unknown state is rejected', async () => {
    const res = await fx.get('/v1/servers?effective=sleeping');
    expect(res.statusCode).toBe(400);
  });
});
