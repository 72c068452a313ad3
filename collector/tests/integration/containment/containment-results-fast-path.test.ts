/**
 * Containment.recordResults on the ingest path (containment-service.ts, routes/batches.ts): a batch
 * with no command result and no finding a rule acts on does no store work at all (every
 * ContainmentStore method counted) and the route does not call recordResults for it; a batch
 * with a result, or a finding auto-containment quarantines on, is recorded as before.
 */
import { makeEvent, type Finding, type SignedCommand } from '@mcpwatch/shared';
import { makeServerEntry } from '@mcpwatch/testkit';
import type { Kysely } from 'kysely';
import { makeFixture, type Fixture } from '../../support/collector-fixture.js';
import { engineCases } from '../../support/pg.js';
import { Containment } from '../../../src/containment/containment-service.js';
import { ContainmentStore } from '../../../src/containment/containment-store.js';
import { parseAutoContainmentRules } from '../../../src/containment/auto-containment.js';
import { loadCaForTests } from '../../support/ca-cache.js';

const ADMIN = 'bootstrap-admin-token-0123456789';

function finding(serverKey: string, ruleId: string, severity: Finding['severity']): Finding {
  return { id: `f-${ruleId}-${serverKey}`.slice(0, 64), ruleId, severity, title: `${ruleId} on this server`, description: 'test finding', subject: { serverKey } } as Finding;
}

/** A ContainmentStore over `db` whose every method call is counted by name. */
function countingStore(db: Kysely<any>): { store: ContainmentStore; calls: string[] } { // eslint-disable-line @typescript-eslint/no-explicit-any
  const calls: string[] = [];
  const store = new ContainmentStore(db);
  for (const name of Object.getOwnPropertyNames(ContainmentStore.prototype)) {
    if (name === 'constructor') continue;
    const original = (store as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!;
    (store as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      calls.push(name);
      return original.apply(store, args);
    };
  }
  return { store, calls };
}

describe.each(await engineCases())('containment results on the ingest path (%s)', (engine) => {
  let fx: Fixture;
  afterEach(async () => fx.close());

  test('a batch with nothing to record or contain does no store work; results and matching findings still do', async () => {
    fx = await makeFixture({ engine, overrides: { adminToken: ADMIN } });
    const db = (fx.store as unknown as { db: Kysely<any> }).db; // eslint-disable-line @typescript-eslint/no-explicit-any
    const { store, calls } = countingStore(db);
    const ca = loadCaForTests();
    const containment = new Containment(store, {
      sign: (c) => ca.signCommand(c),
      now: () => fx.clock.nowMs,
      autoContainment: { rules: parseAutoContainmentRules(['host.exec-server>=high']), dryRun: false },
    });
    const endpointId = 'ep-fast-path';
    const at = new Date(fx.clock.nowMs);
    // 100 events of what a batch usually holds, findings of other rules or below the severity, and
    // result types without a command id: nothing to record, nothing to contain.
    const plain = [
      ...Array.from({ length: 96 }, (_, i) => makeEvent('server.added', endpointId, makeServerEntry(`s${i}`), at)),
      makeEvent('finding.raised', endpointId, finding('k1', 'network.plain-http', 'critical'), at),
      makeEvent('finding.raised', endpointId, finding('k2', 'host.exec-server', 'medium'), at),
      { type: 'server.quarantined', data: { serverKey: 'k3' } },
      { type: 'inventory.snapshot', data: { findings: [finding('k4', 'host.exec-server', 'low')] } },
    ];
    expect(containment.wantsResults(plain)).toBe(false);
    expect(await containment.recordResults(endpointId, plain)).toBe(0);
    expect(calls).toEqual([]);

    // A result of a command issued here: recorded (store work as before).
    const issued = await containment.issue({ endpointId, serverKey: 'k5', action: 'quarantine', reason: 'test', actor: { tokenId: 't', name: 'tester' } });
    calls.length = 0;
    const result = [...plain, { type: 'server.quarantined', data: { commandId: issued.commandId, serverKey: 'k5' } }];
    expect(containment.wantsResults(result)).toBe(true);
    expect(await containment.recordResults(endpointId, result)).toBe(1);
    expect(calls).toContain('recordResult');
    expect((await store.get(issued.commandId))?.status).toBe('succeeded');

    // A finding the rule acts on: a quarantine is issued.
    calls.length = 0;
    const matching = [...plain, makeEvent('finding.raised', endpointId, finding('k6', 'host.exec-server', 'high'), at)];
    expect(containment.wantsResults(matching)).toBe(true);
    expect(await containment.recordResults(endpointId, matching)).toBe(0);
    expect(calls).toContain('insert');
    expect((await store.list({ endpointId, serverKey: 'k6', limit: 10 })).map((r) => [r.action, r.status])).toEqual([['quarantine', 'queued']]);
  });

  test('the route calls recordResults only for a batch that has something to record', async () => {
    fx = await makeFixture({ engine, overrides: { adminToken: ADMIN } });
    const agent = await fx.enroll();
    const containment = (fx.app as unknown as { containment: Containment }).containment;
    let called = 0;
    const recordResults = containment.recordResults.bind(containment);
    containment.recordResults = (...args) => {
      called++;
      return recordResults(...args);
    };
    const server = makeServerEntry('shell');
    await agent.sendEvents([makeEvent('server.added', agent.endpointId, server, new Date(fx.clock.nowMs))]);
    await agent.sendEvents(100);
    expect(called).toBe(0);

    const issue = await fx.app.inject({ method: 'POST', url: '/v1/admin/containment', headers: { authorization: `Bearer ${ADMIN}` }, payload: { endpointId: agent.endpointId, serverKey: server.serverKey, action: 'quarantine', reason: 'test' } });
    expect(issue.statusCode).toBe(200);
    const ack = await agent.sendEvents(1);
    const [command] = (ack.json as { commands: SignedCommand[] }).commands;
    await agent.sendEvents([makeEvent('server.quarantined', agent.endpointId, { commandId: command!.id, serverKey: server.serverKey }, new Date(fx.clock.nowMs))]);
    expect(called).toBe(1);
    const audit = (await fx.app.inject({ method: 'GET', url: `/v1/admin/containment?endpoint=${agent.endpointId}`, headers: { authorization: `Bearer ${ADMIN}` } })).json() as { items: Array<{ status: string }> };
    expect(audit.items.map((i) => i.status)).toEqual(['succeeded']);
  });
});
