/**
 * Containment, collector side, against a real store (SQLite; PostgreSQL when reachable) and a test
 * agent speaking the real batch protocol: an admin issues a quarantine, the next ack carries the
 * command signed with the CA the agent pinned at enrollment, the agent's server.quarantined event
 * records the result in the audit trail (who, when, why, result), and restore follows. A read token
 * cannot issue commands.
 */
import { makeEvent, verifyCommand, type SignedCommand } from '@mcpwatch/shared';
import { makeServerEntry, waitFor } from '@mcpwatch/testkit';
import { makeFixture, type Fixture } from '../../support/collector-fixture.js';
import { engineCases } from '../../support/pg.js';

const ADMIN = 'bootstrap-admin-token-0123456789';

describe.each(await engineCases())('containment (%s)', (engine) => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await makeFixture({ engine, overrides: { adminToken: ADMIN } });
  });
  afterEach(async () => fx.close());

  const call = (method: 'GET' | 'POST', url: string, token: string, payload?: unknown) =>
    fx.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });

  test('quarantine: audit trail, signed command in the ack, result recorded; restore; read token refused', async () => {
    const agent = await fx.enroll();
    const github = makeServerEntry('github');
    const at = () => new Date(fx.clock.nowMs);
    expect((await agent.sendEvents([makeEvent('server.added', agent.endpointId, github, at())])).status).toBe(200);
    await waitFor('the server in the inventory', async () => ((await call('GET', `/v1/endpoints/${agent.endpointId}`, ADMIN)).json().servers ?? []).length === 1);

    const readToken = (await call('POST', '/v1/tokens', ADMIN, { name: 'analyst', scope: 'read' })).json().token as string;
    const refused = await call('POST', '/v1/admin/containment', readToken, { endpointId: agent.endpointId, serverKey: github.serverKey, action: 'quarantine', reason: 'x' });
    expect(refused.statusCode).toBe(403);

    const unknown = await call('POST', '/v1/admin/containment', ADMIN, { endpointId: agent.endpointId, serverKey: 'no-such-key', action: 'quarantine', reason: 'x' });
    expect(unknown.statusCode).toBe(404);

    const issued = await call('POST', '/v1/admin/containment', ADMIN, { endpointId: agent.endpointId, serverKey: github.serverKey, action: 'quarantine', reason: 'shell access to prod' });
    expect(issued.statusCode).toBe(200);
    const record = issued.json();
    expect(record).toMatchObject({ endpointId: agent.endpointId, serverKey: github.serverKey, action: 'quarantine', reason: 'shell access to prod', status: 'queued', actor: { tokenId: 'bootstrap' } });

    // The next ack carries it, signed with the CA key the agent pinned at enrollment.
    const ack = await agent.sendEvents(1);
    const commands = (ack.json as { commands?: SignedCommand[] }).commands ?? [];
    expect(commands).toHaveLength(1);
    const cmd = commands[0]!;
    expect(cmd).toMatchObject({ id: record.commandId, endpointId: agent.endpointId, action: 'quarantine', serverKey: github.serverKey });
    expect(verifyCommand(agent.caCertificate, cmd, agent.endpointId, fx.clock.nowMs)).toEqual({ ok: true });
    expect(verifyCommand(agent.caCertificate, { ...cmd, serverKey: 'other' }, agent.endpointId, fx.clock.nowMs)).toMatchObject({ ok: false, reason: 'signature-invalid' });
    expect(verifyCommand(agent.caCertificate, cmd, 'someone-else', fx.clock.nowMs)).toMatchObject({ ok: false, reason: 'wrong-endpoint' });
    expect(verifyCommand(agent.caCertificate, cmd, agent.endpointId, Date.parse(cmd.expiresAt) + 1)).toMatchObject({ ok: false, reason: 'expired' });
    expect((await call('GET', `/v1/admin/containment?endpoint=${agent.endpointId}`, readToken)).statusCode).toBe(403);
    let status = (await call('GET', `/v1/admin/containment?endpoint=${agent.endpointId}`, ADMIN)).json();
    expect(status.items[0]).toMatchObject({ commandId: cmd.id, status: 'delivered' });
    expect(status.states[0]).toMatchObject({ serverKey: github.serverKey, state: 'none', pending: { commandId: cmd.id, action: 'quarantine' } });

    // The agent reports the result; the ack no longer carries the command.
    const done = await agent.sendEvents([makeEvent('server.quarantined', agent.endpointId, { commandId: cmd.id, serverKey: github.serverKey, configPath: github.configPath }, at())]);
    expect(done.status).toBe(200);
    expect((done.json as { commands?: unknown[] }).commands).toBeUndefined();
    status = (await call('GET', `/v1/admin/containment?endpoint=${agent.endpointId}`, ADMIN)).json();
    expect(status.items[0]).toMatchObject({ commandId: cmd.id, status: 'succeeded', reason: 'shell access to prod', actor: { name: 'bootstrap' } });
    expect(status.items[0].resultAt).toEqual(expect.any(String));
    expect(status.states[0]).toMatchObject({ state: 'quarantined', pending: null });

    // Restore (the server may be gone from the inventory by now: no presence check) and a failure.
    fx.clock.nowMs += 1000;
    const restore = (await call('POST', '/v1/admin/containment', ADMIN, { endpointId: agent.endpointId, serverKey: github.serverKey, action: 'restore', reason: 'cleared' })).json();
    const ack2 = await agent.sendEvents(1);
    const [restoreCmd] = (ack2.json as { commands: SignedCommand[] }).commands;
    expect(restoreCmd!.id).toBe(restore.commandId);
    await agent.sendEvents([makeEvent('command.failed', agent.endpointId, { commandId: restore.commandId, serverKey: github.serverKey, reason: 'file-changed', message: 'config changed since quarantine' }, at())]);
    status = (await call('GET', `/v1/admin/containment?endpoint=${agent.endpointId}&serverKey=${encodeURIComponent(github.serverKey)}`, ADMIN)).json();
    expect(status.items.map((i: { status: string }) => i.status)).toEqual(['failed', 'succeeded']);
    expect(status.items[0].resultDetail).toContain('file-changed');
    expect(status.states[0]).toMatchObject({ state: 'quarantined', pending: null });
  });
});
