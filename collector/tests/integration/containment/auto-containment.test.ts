/**
 * Automated containment (containment/auto-containment.ts), opt-in by policy, against a real store
 * and a test agent speaking the real batch protocol: a finding of a configured rule at or above
 * the configured severity quarantines its server (signed command in the ack of that very batch,
 * audited as the policy); below the severity, or another rule, nothing; dry-run records only; a
 * server an analyst restored is not quarantined again by the policy.
 */
import { makeEvent, verifyCommand, type Finding, type SignedCommand } from '@mcpwatch/shared';
import { makeServerEntry, type TestAgent } from '@mcpwatch/testkit';
import { makeFixture, type Fixture } from '../../support/collector-fixture.js';
import { autoContainmentCandidates, parseAutoContainmentRules } from '../../../src/containment/auto-containment.js';

const ADMIN = 'bootstrap-admin-token-0123456789';

function finding(serverKey: string, ruleId: string, severity: Finding['severity']): Finding {
  return { id: `f-${ruleId}-${serverKey}`.slice(0, 64), ruleId, severity, title: `${ruleId} on this server`, description: 'test finding', subject: { serverKey } } as Finding;
}

describe('autoContainmentCandidates', () => {
  test('reads finding.raised and the findings of an inventory.snapshot; rule and severity both matter; once per server', () => {
    const rules = parseAutoContainmentRules(['host.exec-server>=high', 'secret.*>=critical']);
    expect(rules).toEqual([{ ruleId: 'host.exec-server', minSeverity: 'high' }, { ruleId: 'secret.*', minSeverity: 'critical' }]);
    const got = autoContainmentCandidates(rules, [
      { type: 'finding.raised', data: finding('k1', 'host.exec-server', 'high') },
      { type: 'inventory.snapshot', data: { findings: [finding('k1', 'host.exec-server', 'critical'), finding('k2', 'host.exec-server', 'critical'), finding('k3', 'host.exec-server', 'low')] } },
      { type: 'finding.raised', data: { ...finding('k4', 'other', 'critical') } },
      { type: 'finding.raised', data: finding('k5', 'secret.plaintext-env', 'critical') },
      { type: 'finding.raised', data: finding('k6', 'secret.plaintext-env', 'high') },
      { type: 'finding.raised', data: { ...finding('', 'host.exec-server', 'critical'), subject: { pid: 4 } } },
    ]);
    expect(got.map((c) => c.serverKey)).toEqual(['k1', 'k2', 'k5']);
  });
});

describe('auto-containment', () => {
  let fx: Fixture;
  afterEach(async () => fx.close());
  const audit = async (endpointId: string) =>
    (await fx.app.inject({ method: 'GET', url: `/v1/admin/containment?endpoint=${endpointId}`, headers: { authorization: `Bearer ${ADMIN}` } })).json() as {
      items: Array<{ commandId: string; serverKey: string; status: string; reason: string; actor: { tokenId: string; name: string } }>;
    };

  async function agentWith(names: string[]): Promise<{ agent: TestAgent; keys: string[] }> {
    const agent = await fx.enroll();
    const servers = names.map((n) => makeServerEntry(n));
    await agent.sendEvents(servers.map((s) => makeEvent('server.added', agent.endpointId, s, new Date(fx.clock.nowMs))));
    return { agent, keys: servers.map((s) => s.serverKey) };
  }

  test('a matching finding quarantines its server in the ack of the same batch; others do not', async () => {
    fx = await makeFixture({ overrides: { adminToken: ADMIN, autoContainment: 'host.exec-server>=high,secret.*>=critical' } });
    const { agent, keys } = await agentWith(['shell', 'fetch', 'github']);
    const [shell, fetch, github] = keys as [string, string, string];
    const at = new Date(fx.clock.nowMs);
    const ack = await agent.sendEvents([
      makeEvent('finding.raised', agent.endpointId, finding(shell, 'host.exec-server', 'critical'), at),
      makeEvent('finding.raised', agent.endpointId, finding(fetch, 'host.exec-server', 'medium'), at),
      makeEvent('finding.raised', agent.endpointId, finding(github, 'network.plain-http', 'critical'), at),
    ]);
    const commands = (ack.json as { commands?: SignedCommand[] }).commands ?? [];
    expect(commands.map((c) => [c.action, c.serverKey])).toEqual([['quarantine', shell]]);
    expect(verifyCommand(agent.caCertificate, commands[0]!, agent.endpointId, fx.clock.nowMs)).toEqual({ ok: true });
    const a = await audit(agent.endpointId);
    expect(a.items).toHaveLength(1);
    expect(a.items[0]).toMatchObject({ serverKey: shell, status: 'delivered', actor: { tokenId: 'policy', name: 'auto-containment' } });
    expect(a.items[0]!.reason).toContain('host.exec-server (critical)');
    // The same finding again: no second command (the first is still pending).
    const again = await agent.sendEvents([makeEvent('finding.raised', agent.endpointId, finding(shell, 'host.exec-server', 'critical'), at)]);
    expect(((again.json as { commands?: SignedCommand[] }).commands ?? []).map((c) => c.id)).toEqual([commands[0]!.id]);
    expect((await audit(agent.endpointId)).items).toHaveLength(1);
  });

  test('dry-run: recorded as dry-run, nothing in the ack', async () => {
    fx = await makeFixture({ overrides: { adminToken: ADMIN, autoContainment: '*>=high', autoContainmentDryRun: 'on' } });
    const { agent, keys } = await agentWith(['shell']);
    const ack = await agent.sendEvents([makeEvent('finding.raised', agent.endpointId, finding(keys[0]!, 'host.exec-server', 'high'), new Date(fx.clock.nowMs))]);
    expect((ack.json as { commands?: unknown[] }).commands).toBeUndefined();
    const a = await audit(agent.endpointId);
    expect(a.items.map((i) => [i.serverKey, i.status])).toEqual([[keys[0], 'dry-run']]);
    const next = await agent.sendEvents(1);
    expect((next.json as { commands?: unknown[] }).commands).toBeUndefined();
  });

  test('a server an analyst restored is not quarantined again by the policy', async () => {
    fx = await makeFixture({ overrides: { adminToken: ADMIN, autoContainment: '*>=high' } });
    const { agent, keys } = await agentWith(['shell']);
    const at = () => new Date(fx.clock.nowMs);
    const ack = await agent.sendEvents([makeEvent('finding.raised', agent.endpointId, finding(keys[0]!, 'host.exec-server', 'high'), at())]);
    const [q] = (ack.json as { commands: SignedCommand[] }).commands;
    await agent.sendEvents([makeEvent('server.quarantined', agent.endpointId, { commandId: q!.id, serverKey: keys[0]! }, at())]);
    fx.clock.nowMs += 1000;
    const restore = await fx.app.inject({ method: 'POST', url: '/v1/admin/containment', headers: { authorization: `Bearer ${ADMIN}` }, payload: { endpointId: agent.endpointId, serverKey: keys[0], action: 'restore', reason: 'reviewed' } });
    expect(restore.statusCode).toBe(200);
    const r = await agent.sendEvents([makeEvent('finding.raised', agent.endpointId, finding(keys[0]!, 'host.exec-server', 'high'), at())]);
    expect(((r.json as { commands?: SignedCommand[] }).commands ?? []).map((c) => c.action)).toEqual(['restore']);
    expect((await audit(agent.endpointId)).items.map((i) => i.actor.tokenId)).toEqual(['bootstrap', 'policy']);
  });
});
