/**
 * GET /v1/endpoints/:endpointId with each server's containment and tools (routes/
 * endpoint-detail-view.ts), and GET /v1/servers/:fingerprint/endpoints with each entry's
 * containment (containment/containment-join.ts), on both engines, over data sent by a test agent
 * through the batch protocol: tool events (a configured server's tools, one of them drifted from
 * its pin with an open rug-pull finding; a probed tool of an unconfigured listener), commands
 * issued through the admin API and the agent's answers (server.quarantined then server.removed,
 * command.failed).
 */
import { makeEvent, type McpEvent, type ToolRecord } from '@mcpwatch/shared';
import { makeServerEntry, waitFor, type TestAgent } from '@mcpwatch/testkit';
import { makeFixture, type Fixture } from '../support/collector-fixture.js';
import { engineCases } from '../support/pg.js';

const ADMIN = 'bootstrap-admin-token-0123456789';
const auth = { authorization: `Bearer ${ADMIN}` };
const H = (c: string) => c.repeat(64);

describe.each(await engineCases())('endpoint detail with containment and tools (%s)', (engine) => {
  let fx: Fixture;
  afterEach(async () => fx?.close());

  const github = makeServerEntry('github');
  const shell = makeServerEntry('shell', { client: 'cursor' });
  const tool = (over: Partial<ToolRecord>): ToolRecord => ({
    serverId: github.fingerprint,
    serverKey: github.serverKey,
    serverName: 'github',
    serverVersion: '1.2.0',
    protocolVersion: '2025-06-18',
    source: 'probe',
    sourcePath: null,
    name: 'create_issue',
    title: 'Create issue',
    descriptionSha256: H('a'),
    inputSchemaSha256: H('b'),
    annotationsSha256: H('c'),
    annotations: { readOnlyHint: false, destructiveHint: false },
    instructionsSha256: null,
    capabilities: [],
    ...over,
  });
  const issue = async (agent: TestAgent, serverKey: string, action: 'quarantine' | 'restore') => {
    const r = await fx.app.inject({ method: 'POST', url: '/v1/admin/containment', headers: auth, payload: { endpointId: agent.endpointId, serverKey, action, reason: `test ${action}` } });
    expect(r.statusCode).toBe(200);
    return r.json() as { commandId: string };
  };
  const detail = async (agent: TestAgent) => {
    const r = await fx.app.inject({ url: `/v1/endpoints/${agent.endpointId}`, headers: auth });
    expect(r.statusCode).toBe(200);
    return r.json();
  };
  const send = async (agent: TestAgent, events: McpEvent[]) => {
    const res = await agent.sendEvents(events);
    expect([res.status, res.status === 200 ? null : res.json]).toEqual([200, null]);
  };

  test('servers carry their tools (hashes, annotations, first seen, pin, open tool findings) and containment; gone and other servers too', async () => {
    fx = await makeFixture({ engine, overrides: { adminToken: ADMIN } });
    const agent = await fx.enroll();
    const at = new Date(fx.clock.nowMs);
    const ev = <T>(type: string, data: T) => makeEvent(type as never, agent.endpointId, data as never, at);
    const drifted = tool({ name: 'search_code', title: null, descriptionSha256: H('d'), annotations: { readOnlyHint: true } });
    const listenerTool = tool({ serverId: 'listener:127.0.0.1:9000', serverKey: null, serverName: 'facts', name: 'run_command', capabilities: ['shell-exec'] });
    // A high finding on one tool: its subject is the tool's server, its evidence field names the tool.
    const toolFinding = (id: string, ruleId: string, t: ToolRecord, title: string, evidence: { kind: string; detail?: string }) =>
      ev('finding.raised', { id, ruleId, severity: 'high', title, description: 'd', subject: { serverKey: t.serverKey, serverName: t.serverName }, evidence: { field: `tool.${t.name}`, ...evidence } });
    await send(agent, [
      ev('server.added', github),
      ev('server.added', shell),
      ev('tool.added', tool({})),
      ev('tool.added', drifted),
      ev('tool.added', listenerTool),
      toolFinding('f-rug', 'tool-changed-without-version', drifted, 'Tool search_code of github changed without a version change', { kind: 'description', detail: 'pinned at version 1.2.0' }),
      toolFinding('f-shell', 'tool-high-risk-capability', listenerTool, 'Tool run_command can run commands', { kind: 'shell-exec' }),
    ]);
    await waitFor('tools projected', async () => ((await detail(agent)).servers as Array<{ tools: unknown[] }>).some((s) => s.tools.length === 2));

    // shell: quarantined, confirmed, then gone from the config (so from the inventory); a restore fails.
    const q = await issue(agent, shell.serverKey, 'quarantine');
    await send(agent, [ev('server.quarantined', { commandId: q.commandId, serverKey: shell.serverKey, configPath: shell.configPath }), ev('server.removed', shell)]);
    const r = await issue(agent, shell.serverKey, 'restore');
    await send(agent, [ev('command.failed', { commandId: r.commandId, serverKey: shell.serverKey, reason: 'permission', message: 'EACCES on the config file' })]);
    // github: a quarantine waits for the agent.
    const pending = await issue(agent, github.serverKey, 'quarantine');
    await waitFor('shell gone from the inventory', async () => !((await detail(agent)).servers as Array<{ name: string }>).some((s) => s.name === 'shell'));

    const d = await detail(agent);
    const gh = d.servers.find((s: { name: string }) => s.name === 'github');
    expect(gh.containment).toMatchObject({ status: 'pending', state: 'none', command: { commandId: pending.commandId, action: 'quarantine', status: 'queued', actor: { name: 'bootstrap' }, reason: 'test quarantine' } });
    expect(typeof gh.containment.command.requestedAt).toBe('string');
    expect(gh.tools.map((t: { name: string }) => t.name).sort()).toEqual(['create_issue', 'search_code']);
    const ci = gh.tools.find((t: { name: string }) => t.name === 'create_issue');
    expect(ci).toEqual({
      serverId: github.fingerprint,
      serverKey: github.serverKey,
      serverName: 'github',
      serverVersion: '1.2.0',
      name: 'create_issue',
      title: 'Create issue',
      source: 'probe',
      descriptionSha256: H('a'),
      inputSchemaSha256: H('b'),
      annotationsSha256: H('c'),
      instructionsSha256: null,
      annotations: { readOnlyHint: false, destructiveHint: false },
      capabilities: [],
      firstSeen: at.toISOString(),
      lastSeen: at.toISOString(),
      pin: { firstSeen: at.toISOString(), state: 'pinned' },
      openFindings: [],
    });
    const sc = gh.tools.find((t: { name: string }) => t.name === 'search_code');
    expect(sc.pin.state).toBe('changed-without-version');
    expect(sc.openFindings).toEqual([{ id: 'f-rug', ruleId: 'tool-changed-without-version', severity: 'high', title: 'Tool search_code of github changed without a version change' }]);
    expect(sc).not.toHaveProperty('description'); // not shipped by the endpoint's policy
    // The unconfigured listener's tool, with its open finding.
    expect(d.otherTools).toHaveLength(1);
    expect(d.otherTools[0]).toMatchObject({ serverId: 'listener:127.0.0.1:9000', name: 'run_command', capabilities: ['shell-exec'], openFindings: [{ id: 'f-shell', ruleId: 'tool-high-risk-capability' }] });
    // Every contained server, also the one gone from the inventory: failed restore, still quarantined.
    const byName = new Map((d.containment as Array<{ serverName: string }>).map((c) => [c.serverName, c]));
    expect(byName.get('shell')).toMatchObject({ serverKey: shell.serverKey, client: 'cursor', inInventory: false, status: 'failed', state: 'quarantined', command: { commandId: r.commandId, action: 'restore', status: 'failed', resultDetail: 'permission: EACCES on the config file' } });
    expect(byName.get('github')).toMatchObject({ inInventory: true, status: 'pending' });

    // "Which endpoints run this" carries the entry's containment.
    const who = (await fx.app.inject({ url: `/v1/servers/${github.fingerprint}/endpoints`, headers: auth })).json();
    expect(who.items).toHaveLength(1);
    expect(who.items[0].containment).toMatchObject({ status: 'pending', command: { commandId: pending.commandId } });

    // The agent confirms: quarantined.
    await send(agent, [ev('server.quarantined', { commandId: pending.commandId, serverKey: github.serverKey })]);
    const after = (await detail(agent)).servers.find((s: { name: string }) => s.name === 'github');
    expect(after.containment).toMatchObject({ status: 'quarantined', state: 'quarantined', pending: null, command: { commandId: pending.commandId, status: 'succeeded' } });
  });

  test('an endpoint without tools or commands: empty lists and null containment', async () => {
    fx = await makeFixture({ engine, overrides: { adminToken: ADMIN } });
    const agent = await fx.enroll();
    await send(agent, [makeEvent('server.added', agent.endpointId, github, new Date(fx.clock.nowMs))]);
    await waitFor('projected', async () => (await detail(agent)).servers.length === 1);
    const d = await detail(agent);
    expect(d.servers[0]).toMatchObject({ name: 'github', containment: null, tools: [] });
    expect(d.otherTools).toEqual([]);
    expect(d.containment).toEqual([]);
    expect((await fx.app.inject({ url: '/v1/endpoints/ep_nobody', headers: auth })).statusCode).toBe(404);
  });
});
