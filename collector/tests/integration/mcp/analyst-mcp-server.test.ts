/**
 * The analyst MCP server (`mcpwatch mcp`) as a client launches it: the built bin over stdio,
 * driven by the official SDK client, against a real collector on a port holding agent data sent
 * through the batch protocol. Covers every tool, the annotations, a read token refused by the
 * containment tools, and the incident report's sections.
 */
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { makeEvent } from '@mcpwatch/shared';
import { makeServerEntry, waitFor } from '@mcpwatch/testkit';
import { makeFixture, type Fixture } from '../../support/collector-fixture.js';

const ADMIN = 'bootstrap-admin-token-0123456789';
const BIN = fileURLToPath(new URL('../../../bin/mcpwatch.js', import.meta.url));

async function connect(url: string, token: string): Promise<Client> {
  const client = new Client({ name: 'mcpwatch-test', version: '1.0.0' });
  const env = { PATH: process.env.PATH ?? '', MCPWATCH_SERVER: url, MCPWATCH_TOKEN: token };
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp'], env, stderr: 'pipe' }));
  return client;
}

type Content = { content: Array<{ type: string; text: string }>; isError?: boolean };
const textOf = (r: unknown) => (r as Content).content.map((c) => c.text).join('\n');
const jsonOf = (r: unknown) => JSON.parse(textOf(r));

describe('analyst MCP server over stdio', () => {
  let fx: Fixture;
  let url: string;
  let admin: Client;
  let reader: Client;
  let endpointId: string;
  const github = makeServerEntry('github');
  const shell = makeServerEntry('shell', { package: { ecosystem: 'npm', name: 'shell-mcp', version: null, pinned: false, runner: 'npx' } as never });

  beforeAll(async () => {
    fx = await makeFixture({ overrides: { adminToken: ADMIN } });
    fx.clock.nowMs = Date.now();
    const agent = await fx.enroll();
    endpointId = agent.endpointId;
    const at = new Date(fx.clock.nowMs);
    const finding = { id: 'f-shell', ruleId: 'shell-exec', severity: 'high' as const, title: 'Server can run shell commands', description: 'shell-mcp executes arbitrary commands', subject: { serverName: 'shell', client: 'claude-desktop', serverKey: shell.serverKey }, evidence: { field: 'command', kind: 'shell' } };
    const res = await agent.sendEvents([makeEvent('server.added', endpointId, github, at), makeEvent('server.added', endpointId, shell, at), makeEvent('finding.raised', endpointId, finding as never, at)]);
    expect(res.status).toBe(200);
    await waitFor('the inventory', async () => ((await fx.app.inject({ url: `/v1/findings`, headers: { authorization: `Bearer ${ADMIN}` } })).json().items ?? []).length === 1);
    url = await fx.app.listen({ host: '127.0.0.1', port: 0 });
    const readToken = (await fx.app.inject({ method: 'POST', url: '/v1/tokens', headers: { authorization: `Bearer ${ADMIN}` }, payload: { name: 'analyst', scope: 'read' } })).json().token as string;
    [admin, reader] = await Promise.all([connect(url, ADMIN), connect(url, readToken)]);
  });
  afterAll(async () => {
    await admin?.close();
    await reader?.close();
    await fx?.close();
  });

  test('lists the ten tools with input schemas, descriptions and annotations', async () => {
    const { tools } = await admin.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    expect([...byName.keys()].sort()).toEqual(
      ['fleet_summary', 'generate_incident_report', 'get_finding', 'investigate_endpoint', 'list_findings', 'list_tool_calls', 'quarantine_server', 'quarantine_status', 'restore_server', 'who_runs_server'].sort(),
    );
    for (const t of tools) {
      expect(t.description!.length).toBeGreaterThan(30);
      expect(t.inputSchema.type).toBe('object');
    }
    expect(byName.get('quarantine_server')!.annotations).toMatchObject({ destructiveHint: true, readOnlyHint: false });
    expect(byName.get('list_findings')!.annotations).toMatchObject({ readOnlyHint: true });
    expect(byName.get('quarantine_server')!.inputSchema.required).toEqual(expect.arrayContaining(['endpointId', 'serverKey', 'reason']));
  });

  test('read tools answer from the collector', async () => {
    const summary = jsonOf(await reader.callTool({ name: 'fleet_summary', arguments: {} }));
    expect(summary.endpoints).toMatchObject({ total: 1, reporting: 1, stale: 0 });
    expect(summary.openFindingsBySeverity).toEqual({ high: 1 });
    expect(summary.topServers).toHaveLength(2);

    const findings = jsonOf(await reader.callTool({ name: 'list_findings', arguments: { severity: 'high' } }));
    expect(findings.items).toHaveLength(1);
    expect(findings.items[0]).toMatchObject({ ruleId: 'shell-exec', endpointId });
    const one = jsonOf(await reader.callTool({ name: 'get_finding', arguments: { endpointId, findingId: findings.items[0].findingId } }));
    expect(one.finding.evidence).toEqual({ field: 'command', kind: 'shell' });

    const inv = jsonOf(await reader.callTool({ name: 'investigate_endpoint', arguments: { endpointId } }));
    expect(inv.servers.map((s: { name: string }) => s.name).sort()).toEqual(['github', 'shell']);
    // Each server with its containment (none yet) and tools (none reported), for a read token too.
    expect(inv.servers.map((s: { containment: unknown; tools: unknown[] }) => [s.containment, s.tools])).toEqual([[null, []], [null, []]]);
    expect(inv.containment).toEqual([]);

    const who = jsonOf(await reader.callTool({ name: 'who_runs_server', arguments: { name: 'github' } }));
    expect(who[0].endpoints.map((e: { endpointId: string }) => e.endpointId)).toEqual([endpointId]);

    // Tool calls: the collector's /v1/tool-calls when it has one, else a plain "not collected yet".
    const calls = textOf(await reader.callTool({ name: 'list_tool_calls', arguments: {} }));
    if (calls.startsWith('{')) expect(JSON.parse(calls).items).toEqual([]);
    else expect(calls).toMatch(/not collected yet/);
  });

  test('containment: a read token is refused; admin quarantines; status and report show it', async () => {
    const refused = (await reader.callTool({ name: 'quarantine_server', arguments: { endpointId, serverKey: shell.serverKey, reason: 'test' } })) as Content;
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(/403 MCPW_ERR_FORBIDDEN.*scope admin/);

    const statusAsReader = (await reader.callTool({ name: 'quarantine_status', arguments: { endpointId } })) as Content;
    expect(statusAsReader.isError).toBe(true);
    const issued = jsonOf(await admin.callTool({ name: 'quarantine_server', arguments: { endpointId, serverKey: shell.serverKey, reason: 'shell access from a floating package' } }));
    expect(issued).toMatchObject({ action: 'quarantine', status: 'queued', serverKey: shell.serverKey });
    const status = jsonOf(await admin.callTool({ name: 'quarantine_status', arguments: { endpointId } }));
    expect(status.items[0]).toMatchObject({ commandId: issued.commandId, reason: 'shell access from a floating package' });
    expect(status.states[0]).toMatchObject({ serverKey: shell.serverKey, pending: { action: 'quarantine' } });

    const report = textOf(await admin.callTool({ name: 'generate_incident_report', arguments: { endpointId } }));
    for (const h of ['# Incident report', '## What', '## Where', '## Since when', '## Evidence', '## Containment state', '## Next steps']) expect(report).toContain(h);
    expect(report).toContain('shell-exec');
    expect(report).toContain('pending quarantine');
    // The endpoint's own answer shows it to a read token: pending, the command, who issued it.
    const inv = jsonOf(await reader.callTool({ name: 'investigate_endpoint', arguments: { endpointId } }));
    const contained = inv.servers.find((s: { serverKey: string }) => s.serverKey === shell.serverKey);
    expect(contained.containment).toMatchObject({ status: 'pending', command: { commandId: issued.commandId, action: 'quarantine', reason: 'shell access from a floating package' } });

    const restored = jsonOf(await admin.callTool({ name: 'restore_server', arguments: { endpointId, serverKey: shell.serverKey, reason: 'owner confirmed' } }));
    expect(restored).toMatchObject({ action: 'restore', status: 'queued' });
  });
});
