/**
 * A snapshot reconciles the endpoint's findings in the ingest transaction, on both engines: what it
 * raises or resolves becomes a finding.raised / finding.resolved event in the history and in the
 * outbox of EVERY sink (Security Hub included), exactly once; an unchanged re-snapshot adds nothing.
 */
import type { Finding } from '@mcpwatch/shared';
import type { OutboxRow } from '../../src/store/types.js';
import { engineCases } from '../support/pg.js';
import { openTestStore, type TestStore } from '../support/test-store.js';
import { enrolled, event, finding, hostInfo, serverEntry, snapshot } from '../support/store-fixtures.js';

const SINKS = ['securityhub', 'file'];

/** Everything waiting for `sink`, claimed and completed (so the next call sees only new rows). */
async function drain(t: TestStore, sink: string): Promise<OutboxRow[]> {
  const rows = await t.store.claimOutbox(sink, 10_000, 60_000, 'test');
  await t.store.completeOutbox(sink, rows.map((r) => r.id));
  return rows;
}

/** [type, finding id] of the finding events among `rows`. */
function findingEvents(rows: OutboxRow[]): Array<[string, string]> {
  return rows.filter((r) => r.event.type === 'finding.raised' || r.event.type === 'finding.resolved').map((r) => [r.event.type, (r.event.data as Finding).id]);
}

describe.each(await engineCases())('snapshot finding transitions (%s)', (engine) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(engine);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  test('first snapshot with a secret raises it for Security Hub; a snapshot without it resolves it; an unchanged re-snapshot adds nothing', async () => {
    const { agent, host, sender } = await enrolled(t.store, hostInfo(), SINKS);
    const github = serverEntry('github');
    const secret = finding('secret-in-config', 'critical', github);
    const unpinned = finding('unpinned-package', 'medium', github);

    await sender.send([snapshot(agent.endpointId, host, { servers: [github], findings: [secret, unpinned] })]);
    const first = await drain(t, 'securityhub');
    expect(findingEvents(first)).toEqual([
      ['finding.raised', secret.id],
      ['finding.raised', unpinned.id],
    ]);
    expect(first[0]!.event.data).toEqual(secret);
    expect(first[0]).toMatchObject({ sink: 'securityhub', endpointId: agent.endpointId, agentId: agent.agentId, batchSeq: 1 });
    // The file sink gets the very same events (plus the snapshot itself).
    const file = await drain(t, 'file');
    expect(file.map((r) => r.event.id).filter((id) => first.some((f) => f.event.id === id))).toEqual(first.map((r) => r.event.id));
    expect(file.map((r) => r.event.type).sort()).toEqual(['finding.raised', 'finding.raised', 'inventory.snapshot']);

    // The periodic snapshot, same findings: nothing new anywhere.
    await sender.send([snapshot(agent.endpointId, host, { servers: [github], findings: [secret, unpinned] })]);
    expect(await drain(t, 'securityhub')).toEqual([]);
    expect(findingEvents(await drain(t, 'file'))).toEqual([]);

    // The secret removed from the config: the next snapshot resolves it (with its last content).
    await sender.send([snapshot(agent.endpointId, host, { servers: [github], findings: [unpinned] })]);
    const resolved = await drain(t, 'securityhub');
    expect(findingEvents(resolved)).toEqual([['finding.resolved', secret.id]]);
    expect(resolved[0]!.event.data).toEqual(secret);
    expect(findingEvents(await drain(t, 'file'))).toEqual([['finding.resolved', secret.id]]);
    expect((await t.store.getEndpoint(agent.endpointId))!.findings.map((f) => [f.id, f.status]).sort()).toEqual(
      [
        [secret.id, 'resolved'],
        [unpinned.id, 'open'],
      ].sort(),
    );

    // Back again: raised again (a resolved finding that reappears is ACTIVE once more).
    await sender.send([snapshot(agent.endpointId, host, { servers: [github], findings: [unpinned, secret] })]);
    expect(findingEvents(await drain(t, 'securityhub'))).toEqual([['finding.raised', secret.id]]);

    // The derived events are in the history like the agent's, at the snapshot's time.
    const history = (await t.store.listEvents({ endpointId: agent.endpointId, type: 'finding.resolved' })).items;
    expect(history.map((e) => (e.data as Finding).id)).toEqual([secret.id]);
  });

  test('the agent\'s own finding events in the batch count: no duplicate raise, and a raise the snapshot drops is resolved', async () => {
    const { agent, host, sender } = await enrolled(t.store, hostInfo(), SINKS);
    const s = serverEntry('shell');
    const a = finding('shell-exec', 'high', s);
    const b = finding('secret-in-config', 'critical', s);
    // The agent raised `a` itself, then its snapshot lists `a`: one raise only (the agent's).
    const raisedByAgent = event('finding.raised', agent.endpointId, a);
    await sender.send([raisedByAgent, snapshot(agent.endpointId, host, { servers: [s], findings: [a] })]);
    const rows = await drain(t, 'securityhub');
    expect(findingEvents(rows)).toEqual([['finding.raised', a.id]]);
    expect(rows[0]!.event.id).toBe(raisedByAgent.id);

    // The agent raised `b` (published), then its snapshot does not list it: it is resolved.
    await sender.send([event('finding.raised', agent.endpointId, b), snapshot(agent.endpointId, host, { servers: [s], findings: [a] })]);
    expect(findingEvents(await drain(t, 'securityhub'))).toEqual([
      ['finding.raised', b.id],
      ['finding.resolved', b.id],
    ]);

    // The agent resolved `a` itself: the next snapshot without it adds nothing.
    await sender.send([event('finding.resolved', agent.endpointId, a)]);
    expect(findingEvents(await drain(t, 'securityhub'))).toEqual([['finding.resolved', a.id]]);
    await sender.send([snapshot(agent.endpointId, host, { servers: [s], findings: [] })]);
    expect(await drain(t, 'securityhub')).toEqual([]);
  });

  test('derived events keep their place in the batch even when they share a millisecond with the agent\'s events', async () => {
    const { agent, host, sender } = await enrolled(t.store, hostInfo(), SINKS);
    const s = serverEntry('github');
    const at = new Date('2026-03-01T10:00:00.000Z');
    const fs = Array.from({ length: 8 }, (_, i) => finding(`rule-${i}`, 'high', s));
    // All in one millisecond: the agent raises eight findings, its snapshot lists none of them
    // (resolved by it), then the agent raises the first again.
    const raised = fs.map((f) => event('finding.raised', agent.endpointId, f, at));
    const snap = snapshot(agent.endpointId, host, { servers: [s] }, at);
    const again = event('finding.raised', agent.endpointId, fs[0]!, at);
    await sender.send([...raised, snap, again]);
    for (const sink of SINKS) {
      const rows = (await drain(t, sink)).filter((r) => r.event.type !== 'inventory.snapshot');
      expect(findingEvents(rows)).toEqual([
        ...fs.map((f): [string, string] => ['finding.raised', f.id]),
        ...fs.map((f): [string, string] => ['finding.resolved', f.id]),
        ['finding.raised', fs[0]!.id],
      ]);
    }
    expect((await t.store.getEndpoint(agent.endpointId))!.findings.filter((f) => f.status === 'open').map((f) => f.id)).toEqual([fs[0]!.id]);
  });

  test('a finding whose content changed is raised again (an update); one listed twice is raised once', async () => {
    const { agent, host, sender } = await enrolled(t.store, hostInfo(), SINKS);
    const s = serverEntry('github');
    const f = finding('secret-in-config', 'high', s);
    await sender.send([snapshot(agent.endpointId, host, { servers: [s], findings: [f, f] })]);
    expect(findingEvents(await drain(t, 'securityhub'))).toEqual([['finding.raised', f.id]]);
    // Same content, keys in another order: not a change.
    const reordered = JSON.parse(JSON.stringify({ evidence: f.evidence, subject: f.subject, description: f.description, title: f.title, severity: f.severity, ruleId: f.ruleId, id: f.id })) as Finding;
    await sender.send([snapshot(agent.endpointId, host, { servers: [s], findings: [reordered] })]);
    expect(await drain(t, 'securityhub')).toEqual([]);
    const worse = { ...f, severity: 'critical' as const };
    await sender.send([snapshot(agent.endpointId, host, { servers: [s], findings: [worse] })]);
    const rows = await drain(t, 'securityhub');
    expect(findingEvents(rows)).toEqual([['finding.raised', f.id]]);
    expect((rows[0]!.event.data as Finding).severity).toBe('critical');
  });

  test('derived events are idempotent: a snapshot re-sent under a new seq, or a replayed batch, adds nothing', async () => {
    const { agent, host, sender } = await enrolled(t.store, hostInfo(), SINKS);
    const s = serverEntry('github');
    const f = finding('secret-in-config', 'high', s);
    const snap = snapshot(agent.endpointId, host, { servers: [s], findings: [f] });
    const { input } = await sender.send([snap]);
    const first = await drain(t, 'securityhub');
    expect(findingEvents(first)).toEqual([['finding.raised', f.id]]);
    // The ids are a function of endpoint + snapshot + type + finding: ULID-shaped, sorted with the snapshot.
    expect(first[0]!.event.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(first[0]!.event.id.slice(0, 10)).toBe(snap.id.slice(0, 10));
    expect(first[0]!.event.time).toBe(new Date(snap.time).toISOString());

    expect(await t.store.ingestBatch(input)).toEqual({ status: 'duplicate', acked: 1 });
    await sender.send([snap]); // the same event under seq 2: already held, skipped
    expect(await drain(t, 'securityhub')).toEqual([]);
    expect((await t.store.listEvents({ endpointId: agent.endpointId, type: 'finding.raised' })).items).toHaveLength(1);
  });

  test('endpoints are reconciled apart: one endpoint\'s snapshot never resolves another\'s findings', async () => {
    const one = await enrolled(t.store, hostInfo({ hostname: 'one' }), SINKS);
    const two = await enrolled(t.store, hostInfo({ hostname: 'two' }), SINKS);
    const s = serverEntry('github');
    const f = finding('secret-in-config', 'high', s);
    await one.sender.send([snapshot(one.agent.endpointId, one.host, { servers: [s], findings: [f] })]);
    await two.sender.send([snapshot(two.agent.endpointId, two.host, { servers: [s], findings: [f] })]);
    const rows = await drain(t, 'securityhub');
    expect(rows.map((r) => [r.endpointId, r.event.type]).sort()).toEqual(
      [
        [one.agent.endpointId, 'finding.raised'],
        [two.agent.endpointId, 'finding.raised'],
      ].sort(),
    );
    expect(new Set(rows.map((r) => r.event.id)).size).toBe(2);
    await two.sender.send([snapshot(two.agent.endpointId, two.host, { servers: [s], findings: [] })]);
    expect((await drain(t, 'securityhub')).map((r) => [r.endpointId, r.event.type])).toEqual([[two.agent.endpointId, 'finding.resolved']]);
  });
});
