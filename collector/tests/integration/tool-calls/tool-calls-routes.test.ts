/**
 * The tool policy and tool-call API against a real collector (SQLite, and PostgreSQL when it is
 * up): an admin sets the policy with a reason (audited), the next batch ack carries it as
 * settings.toolPolicy, clearing removes it; tool.called events from an agent are accepted
 * (schema-valid) and listed by GET /v1/tool-calls with filters; a read token cannot change policy.
 */
import { makeEvent, type ToolCalledData } from '@mcpwatch/shared';
import { makeFixture, type Fixture } from '../../support/collector-fixture.js';
import { engineCases } from '../../support/pg.js';

const ADMIN = 'bootstrap-admin-token-0123456789';

const call = (data: Partial<ToolCalledData>): ToolCalledData => ({
  client: 'claude-code', user: 'alice', sessionHash: 'a'.repeat(32), phase: 'pre', server: 'github', tool: 'create_issue', argumentNames: ['body', 'title'],
  decision: 'allow', enforced: true, mode: 'enforce', rule: 'default', calledAt: '2026-06-01T12:00:00.000Z', ...data,
});

describe.each(await engineCases())('tool calls and tool policy (%s)', (engine) => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await makeFixture({ engine, overrides: { adminToken: ADMIN } });
  });
  afterEach(async () => fx.close());

  const req = (method: 'GET' | 'POST' | 'PUT', url: string, token: string, payload?: unknown) =>
    fx.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });

  test('policy: set (audited) -> served in the next ack -> cleared; read token refused; bad policy 400', async () => {
    const agent = await fx.enroll();
    expect(((await agent.sendEvents(1)).json as { settings?: { toolPolicy?: unknown } }).settings?.toolPolicy).toBeUndefined();

    const readToken = (await req('POST', '/v1/tokens', ADMIN, { name: 'analyst', scope: 'read' })).json().token as string;
    const policy = { mode: 'enforce', blockedTools: [{ server: 'github', tool: 'delete_*' }], contact: 'secops@example.com' };
    expect((await req('PUT', '/v1/admin/tool-policy', readToken, { policy, reason: 'x' })).statusCode).toBe(403);
    expect((await req('PUT', '/v1/admin/tool-policy', ADMIN, { policy: { mode: 'lockdown' }, reason: 'x' })).statusCode).toBe(400);
    expect((await req('PUT', '/v1/admin/tool-policy', ADMIN, { policy })).statusCode).toBe(400); // a reason is required
    // a misspelt key is refused, not dropped (which would silently mean "no rule")
    const misspelt = await req('PUT', '/v1/admin/tool-policy', ADMIN, { policy: { mode: 'enforce', blockedServer: ['x'] }, reason: 'x' });
    expect([misspelt.statusCode, misspelt.json().code]).toEqual([400, 'MCPW_ERR_SCHEMA']);
    expect((await req('PUT', '/v1/admin/tool-policy', ADMIN, { policy: { mode: 'enforce', blockedTools: [{ server: 'a', tool: 'b', tol: 'c' }] }, reason: 'x' })).statusCode).toBe(400);

    const set = await req('PUT', '/v1/admin/tool-policy', ADMIN, { policy, reason: 'incident 42: repo deletions' });
    expect(set.statusCode).toBe(200);
    const state = set.json();
    expect(state).toMatchObject({ policy: { ...policy, revision: expect.stringMatching(/^tp_/) }, updatedBy: 'bootstrap' });

    const ack = (await agent.sendEvents(1)).json as { settings: { toolPolicy?: unknown } };
    expect(ack.settings.toolPolicy).toEqual(state.policy);

    const cleared = await req('POST', '/v1/admin/tool-policy/clear', ADMIN, { reason: 'incident closed' });
    expect(cleared.json()).toMatchObject({ policy: null });
    expect(((await agent.sendEvents(1)).json as { settings: { toolPolicy?: unknown } }).settings.toolPolicy).toBeUndefined();

    const audit = (await req('GET', '/v1/admin/tool-policy/audit', ADMIN)).json().items;
    expect(audit).toMatchObject([
      { action: 'clear', reason: 'incident closed', before: state.policy, after: null, actor: { tokenId: 'bootstrap' } },
      { action: 'set', reason: 'incident 42: repo deletions', before: null, after: state.policy },
    ]);
  });

  test('tool.called events are accepted and listed, newest first, with filters', async () => {
    const agent = await fx.enroll();
    const at = (s: number) => new Date(fx.clock.nowMs + s * 1000);
    const sent = await agent.sendEvents([
      makeEvent('tool.called', agent.endpointId, call({}), at(1)),
      makeEvent('tool.called', agent.endpointId, call({ tool: 'delete_repo', decision: 'deny', rule: 'blocked-tool', reason: 'tool github/delete_* is blocked by policy' }), at(2)),
      makeEvent('tool.called', agent.endpointId, call({ client: 'cursor', server: 'docs', tool: 'search', decision: 'deny', enforced: false, mode: 'audit', rule: 'not-allowed-server' }), at(3)),
    ]);
    expect(sent.status).toBe(200);
    const all = (await req('GET', '/v1/tool-calls', ADMIN)).json();
    expect(all.items.map((c: ToolCalledData) => c.tool)).toEqual(['search', 'delete_repo', 'create_issue']);
    expect(all.items[0]).toMatchObject({ endpointId: agent.endpointId, client: 'cursor', mode: 'audit', enforced: false });
    const denied = (await req('GET', '/v1/tool-calls?decision=deny&server=github', ADMIN)).json();
    expect(denied.items).toHaveLength(1);
    expect(denied.items[0]).toMatchObject({ tool: 'delete_repo', rule: 'blocked-tool' });
    expect((await req('GET', `/v1/tool-calls?endpoint=${agent.endpointId}&client=cursor`, ADMIN)).json().items).toHaveLength(1);
    expect((await req('GET', '/v1/tool-calls?decision=maybe', ADMIN)).statusCode).toBe(400);

    // Analytics over the same calls: three denies of one tool within the window.
    await agent.sendEvents([1, 2].map((i) => makeEvent('tool.called', agent.endpointId, call({ tool: 'delete_repo', decision: 'deny', rule: 'blocked-tool' }), at(10 + i))));
    const analytics = (await req('GET', '/v1/tool-calls/analytics?windowHours=1', ADMIN)).json();
    expect(analytics).toMatchObject({ calls: 5, truncated: false });
    const blocked = analytics.items.find((f: { rule: string }) => f.rule === 'blocked-tool-attempts');
    expect(blocked).toMatchObject({ endpointId: agent.endpointId, server: 'github', tool: 'delete_repo', evidence: { attempts: 3 } });
    expect(blocked.baseline).toMatch(/threshold 3 denied calls/);

    // An argument VALUE is not part of the contract: the collector refuses it (closed schema).
    const withValue = await agent.sendEvents([{ ...makeEvent('tool.called', agent.endpointId, call({}), at(4)), data: { ...call({}), arguments: { token: 'x' } } } as never]);
    expect(withValue.status).toBe(400);
  });
});
