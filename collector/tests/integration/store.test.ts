/**
 * The store contract on both engines (SQLite file, real PostgreSQL in a fresh schema):
 * enrollment, idempotent ingest with the hash chain, the inventory projection, the outbox, tokens
 * and retention.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Hex } from '@mcpwatch/shared';
import { createStore } from '../../src/store/index.js';
import { engineCases } from '../support/pg.js';
import { openTestStore, type TestStore } from '../support/test-store.js';
import { enrolled, enrollInput, event, finding, hostInfo, pastEvent, serverEntry, snapshot } from '../support/store-fixtures.js';

describe.each(await engineCases())('store (%s)', (engine) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(engine);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  test('migrate is idempotent and ping answers', async () => {
    await t.store.migrate();
    expect(t.store.engine).toBe(engine);
    expect(await t.store.ping()).toBe(true);
  });

  test('enroll secrets: found by hash until revoked', async () => {
    await t.store.addEnrollSecret('mdm', sha256Hex('s1'));
    await t.store.addEnrollSecret('installer', sha256Hex('s2'));
    expect((await t.store.findEnrollSecret(sha256Hex('s1')))?.name).toBe('mdm');
    expect((await t.store.listEnrollSecrets()).map((s) => s.name)).toEqual(['installer', 'mdm']);
    expect(await t.store.revokeEnrollSecret('mdm')).toBe(true);
    expect(await t.store.revokeEnrollSecret('mdm')).toBe(false);
    expect(await t.store.revokeEnrollSecret('nope')).toBe(false);
    expect(await t.store.findEnrollSecret(sha256Hex('s1'))).toBeNull();
    expect((await t.store.findEnrollSecret(sha256Hex('s2')))?.name).toBe('installer');
  });

  test('re-enrolling the same machine keeps its endpoint; a clone with the same hardware UUID is kept apart and flagged', async () => {
    const host = hostInfo({ hostname: 'mac-1' });
    const first = await t.store.enrollAgent(enrollInput(host));
    expect(first.flaggedDuplicate).toBe(false);
    const again = await t.store.enrollAgent(enrollInput(host));
    expect(again.endpointId).toBe(first.endpointId);
    expect(again.agentId).not.toBe(first.agentId);
    expect(again.flaggedDuplicate).toBe(false);

    const clone = await t.store.enrollAgent(enrollInput({ ...host, hostname: 'mac-2' }));
    expect(clone.endpointId).not.toBe(first.endpointId);
    expect(clone.flaggedDuplicate).toBe(true);
    const agent = await t.store.getAgent(clone.agentId);
    expect(agent).toMatchObject({ endpointId: clone.endpointId, hostname: 'mac-2', duplicateOf: first.endpointId, lastSeq: 0, lastHash: '', revokedAt: null });
    const page = await t.store.listEndpoints({});
    expect(page.items.find((e) => e.endpointId === clone.endpointId)?.duplicateOf).toBe(first.endpointId);
  });

  test('agents are revoked and restored; unknown ids report false', async () => {
    const { agent } = await enrolled(t.store);
    expect(await t.store.setAgentRevoked(agent.agentId, true)).toBe(true);
    expect((await t.store.getAgent(agent.agentId))?.revokedAt).not.toBeNull();
    expect((await t.store.listAgents({ revoked: true })).map((a) => a.agentId)).toEqual([agent.agentId]);
    expect(await t.store.setAgentRevoked(agent.agentId, false)).toBe(true);
    expect((await t.store.getAgent(agent.agentId))?.revokedAt).toBeNull();
    expect(await t.store.setAgentRevoked('no-such-agent', true)).toBe(false);
    expect(await t.store.getAgent('no-such-agent')).toBeNull();
  });

  test('a batch is accepted once: the same batch again is a duplicate, a different one under its seq a conflict that writes nothing', async () => {
    const { agent, sender } = await enrolled(t.store);
    const events = [event('server.added', agent.endpointId, serverEntry('github')), event('agent.dropped', agent.endpointId, { count: 1, bytes: 10, reason: 'spool full' })];
    const { result, input } = await sender.send(events);
    expect(result).toEqual({ status: 'accepted', acked: 1, gap: false, chainBroken: false });
    expect(await t.store.ingestBatch(input)).toEqual({ status: 'duplicate', acked: 1 });

    const depth = await t.store.outboxDepth();
    const other = sender.input([event('server.added', agent.endpointId, serverEntry('other'))], { seq: 1 });
    expect(await t.store.ingestBatch(other)).toEqual({ status: 'conflict', seq: 1 });
    expect(await t.store.outboxDepth()).toEqual(depth);
    expect((await t.store.listEvents({ endpointId: agent.endpointId })).items.map((e) => e.type).sort()).toEqual(['agent.dropped', 'server.added']);
    expect((await t.store.getAgent(agent.agentId))).toMatchObject({ lastSeq: 1, lastHash: input.bodyHash });
  });

  test('a seq gap and a broken prevHash chain are accepted and recorded as collector events of the endpoint', async () => {
    const { agent, sender } = await enrolled(t.store);
    await sender.send([event('server.added', agent.endpointId, serverEntry('a'))]);
    const gap = await sender.send([event('server.added', agent.endpointId, serverEntry('b'))], { seq: 5 });
    expect(gap.result).toEqual({ status: 'accepted', acked: 5, gap: true, chainBroken: false });
    const broken = await sender.send([event('server.added', agent.endpointId, serverEntry('c'))], { prevHash: 'f'.repeat(64) });
    expect(broken.result).toEqual({ status: 'accepted', acked: 6, gap: false, chainBroken: true });
    // A late batch that fills the hole is accepted and does not move the chain head.
    const late = await sender.send([event('server.added', agent.endpointId, serverEntry('d'))], { seq: 3 });
    expect(late.result).toMatchObject({ status: 'accepted', acked: 3, gap: false, chainBroken: false });
    expect((await t.store.getAgent(agent.agentId))?.lastSeq).toBe(6);

    const gaps = await t.store.listEvents({ endpointId: agent.endpointId, type: 'collector.seq_gap' });
    expect(gaps.items).toHaveLength(1);
    expect(gaps.items[0]!.data).toEqual({ agentId: agent.agentId, seq: 5, expectedSeq: 2 });
    const chain = await t.store.listEvents({ endpointId: agent.endpointId, type: 'collector.chain_broken' });
    expect(chain.items[0]!.data).toMatchObject({ seq: 6, prevHash: 'f'.repeat(64), expectedPrevHash: gap.input.bodyHash });
    // The collector's gap and chain-broken events are published with the agent's.
    expect(await t.store.outboxDepth()).toEqual({ file: 6 });
    const published = await t.store.claimOutbox('file', 10, 60_000, 'w');
    expect(published.map((r) => r.event.type).filter((x) => x.startsWith('collector.')).sort()).toEqual(['collector.chain_broken', 'collector.seq_gap']);
  });

  test('an unknown agent is refused with a coded error and nothing is written', async () => {
    const { agent, sender } = await enrolled(t.store);
    const input = sender.input([event('server.added', agent.endpointId, serverEntry('x'))]);
    await expect(t.store.ingestBatch({ ...input, agent: { ...agent, agentId: 'ghost' } })).rejects.toMatchObject({ code: 'MCPW_ERR_UNKNOWN_AGENT', statusCode: 401 });
    expect(await t.store.outboxDepth()).toEqual({});
  });

  test('events land under the enrolled endpoint whatever endpointId the envelope claims; re-sent event ids are not enqueued twice', async () => {
    const { agent, sender } = await enrolled(t.store);
    const e = event('server.added', 'someone-else', serverEntry('spoof'));
    await sender.send([e]);
    expect((await t.store.listEvents({ endpointId: 'someone-else' })).items).toHaveLength(0);
    expect((await t.store.listEvents({ endpointId: agent.endpointId })).items.map((x) => x.id)).toEqual([e.id]);
    await sender.send([e]);
    expect(await t.store.outboxDepth()).toEqual({ file: 1 });
  });

  test('an event repeated inside one batch is stored and enqueued once', async () => {
    const { agent, sender } = await enrolled(t.store);
    const e = event('server.added', agent.endpointId, serverEntry('twice'));
    expect((await sender.send([e, e])).result).toMatchObject({ status: 'accepted', acked: 1 });
    expect((await t.store.listEvents({ endpointId: agent.endpointId })).items.map((x) => x.id)).toEqual([e.id]);
    expect(await t.store.outboxDepth()).toEqual({ file: 1 });
    expect((await t.store.getEndpoint(agent.endpointId))!.servers.map((s) => s.name)).toEqual(['twice']);
  });

  test('outbox rows per sink: Security Hub receives findings only', async () => {
    const { agent, sender } = await enrolled(t.store, hostInfo(), ['kinesis', 'securityhub']);
    const s = serverEntry('shell');
    await sender.send([event('server.added', agent.endpointId, s), event('finding.raised', agent.endpointId, finding('shell-exec', 'high', s))]);
    expect(await t.store.outboxDepth()).toEqual({ kinesis: 2, securityhub: 1 });
    const rows = await t.store.claimOutbox('securityhub', 10, 60_000, 'w1');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ sink: 'securityhub', endpointId: agent.endpointId, agentId: agent.agentId, batchSeq: 1, certFingerprint: agent.certFingerprint, attempts: 0 });
    expect(rows[0]!.id).toBe(`${rows[0]!.event.id}:securityhub`);
    expect(rows[0]!.event.type).toBe('finding.raised');
  });

  test('outbox: claimed rows are leased; release makes them available again with an attempt counted; complete removes them', async () => {
    const { agent, sender } = await enrolled(t.store);
    const events = [1, 2, 3].map((i) => event('server.added', agent.endpointId, serverEntry(`s${i}`)));
    await sender.send(events);
    const first = await t.store.claimOutbox('file', 2, 60_000, 'w1');
    expect(first.map((r) => r.event.id)).toEqual(events.slice(0, 2).map((e) => e.id));
    const second = await t.store.claimOutbox('file', 10, 60_000, 'w2');
    expect(second.map((r) => r.event.id)).toEqual([events[2]!.id]);
    expect(await t.store.claimOutbox('file', 10, 60_000, 'w3')).toEqual([]);

    await t.store.releaseOutbox('file', [first[0]!.id], 'kinesis throttled', 0);
    const again = await t.store.claimOutbox('file', 10, 60_000, 'w3');
    expect(again.map((r) => [r.id, r.attempts])).toEqual([[first[0]!.id, 1]]);

    await t.store.completeOutbox('file', [...first, ...second].map((r) => r.id));
    expect(await t.store.outboxDepth()).toEqual({});
  });

  test('outbox: a released row waits for its retry delay; an expired lease is claimable by another worker', async () => {
    let nowMs = Date.parse('2026-01-01T00:00:00.000Z');
    const clocked = await openTestStore(engine, { now: () => new Date(nowMs) });
    try {
      const { agent, sender } = await enrolled(clocked.store);
      await sender.send([event('server.added', agent.endpointId, serverEntry('a'), new Date(nowMs))], { receivedAt: new Date(nowMs).toISOString() });
      const [row] = await clocked.store.claimOutbox('file', 1, 1000, 'w1');
      expect(row).toBeDefined();
      nowMs += 500;
      expect(await clocked.store.claimOutbox('file', 1, 1000, 'w2')).toEqual([]);
      nowMs += 1000;
      expect((await clocked.store.claimOutbox('file', 1, 1000, 'w2')).map((r) => r.id)).toEqual([row!.id]);
      await clocked.store.releaseOutbox('file', [row!.id], 'later', 10_000);
      nowMs += 5000;
      expect(await clocked.store.claimOutbox('file', 1, 1000, 'w3')).toEqual([]);
      nowMs += 5001;
      expect(await clocked.store.claimOutbox('file', 1, 1000, 'w3')).toHaveLength(1);
    } finally {
      await clocked.cleanup();
    }
  });

  // Several collectors share PostgreSQL; a SQLite file belongs to one collector process (two
  // connections in one thread would wait on each other's write lock synchronously).
  (engine === 'postgres' ? test : test.skip)('two stores on one database claim disjoint outbox rows at the same time', async () => {
    const { agent, sender } = await enrolled(t.store);
    const events = Array.from({ length: 200 }, (_, i) => event('server.added', agent.endpointId, serverEntry(`s${i}`)));
    await sender.send(events);
    const second = await createStore(t.options);
    try {
      const claims = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? t.store : second).claimOutbox('file', 30, 60_000, `w${i}`)),
      );
      const ids = claims.flat().map((r) => r.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(claims.every((c) => c.length <= 30)).toBe(true);
      // Rows are locked whole, so claimers racing for one row may come back short; claiming on
      // until nothing is left delivers every event exactly once.
      for (let more = await second.claimOutbox('file', 30, 60_000, 'late'); more.length > 0; more = await t.store.claimOutbox('file', 30, 60_000, 'late')) {
        ids.push(...more.map((r) => r.id));
      }
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(200);
    } finally {
      await second.close();
    }
  });

  test('claims racing on one store are disjoint and, claimed until empty, take every event once; a 250-event batch is split across outbox rows', async () => {
    const { agent, sender } = await enrolled(t.store);
    const events = Array.from({ length: 250 }, (_, i) => event('server.added', agent.endpointId, serverEntry(`s${i}`)));
    await sender.send(events);
    expect(await t.store.outboxDepth()).toEqual({ file: 250 });
    const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => t.store.claimOutbox('file', 30, 60_000, `w${i}`)));
    expect(claims.every((c) => c.length <= 30)).toBe(true);
    const all = claims.flat();
    // PostgreSQL runs the claims on separate connections: one racing for a locked row may come back short.
    for (let more = await t.store.claimOutbox('file', 30, 60_000, 'late'); more.length > 0; more = await t.store.claimOutbox('file', 30, 60_000, 'late')) all.push(...more);
    const ids = all.map((r) => r.event.id);
    expect(ids).toHaveLength(250);
    expect(new Set(ids)).toEqual(new Set(events.map((e) => e.id)));
    await t.store.completeOutbox('file', all.map((r) => r.id));
    expect(await t.store.outboxDepth()).toEqual({});
  });

  // Several collectors share PostgreSQL; a SQLite file belongs to one collector process.
  (engine === 'postgres' ? test : test.skip)('two collectors receiving the same batch at once: one accepts it, the other answers duplicate; a rival batch gets conflict', async () => {
    const { agent, sender } = await enrolled(t.store);
    const second = await createStore(t.options);
    try {
      const input = sender.input([event('server.added', agent.endpointId, serverEntry('race'))]);
      const results = await Promise.all([t.store.ingestBatch(input), second.ingestBatch(input)]);
      expect(results.map((r) => r.status).sort()).toEqual(['accepted', 'duplicate']);
      const rival = sender.input([event('server.added', agent.endpointId, serverEntry('rival'))], { seq: 2, prevHash: input.bodyHash });
      const other = sender.input([event('server.added', agent.endpointId, serverEntry('other'))], { seq: 2, prevHash: input.bodyHash });
      const raced = await Promise.all([t.store.ingestBatch(rival), second.ingestBatch(other)]);
      expect(raced.map((r) => r.status).sort()).toEqual(['accepted', 'conflict']);
      await Promise.all([t.store.awaitProjection(), second.awaitProjection()]);
      expect(await t.store.outboxDepth()).toEqual({ file: 2 });
    } finally {
      await second.close();
    }
  });

  test('pruneEvents deletes history older than the cutoff, keeps events still waiting in the outbox and the current inventory', async () => {
    const { agent, sender } = await enrolled(t.store);
    const old = new Date('2020-01-01T00:00:00.000Z');
    await sender.send([pastEvent('server.added', agent.endpointId, serverEntry('old'), old), pastEvent('server.added', agent.endpointId, serverEntry('old2'), old)]);
    await sender.send([event('server.added', agent.endpointId, serverEntry('new'))]);
    const claimed = await t.store.claimOutbox('file', 1, 60_000, 'w');
    expect(claimed[0]!.event.time).toBe(old.toISOString());
    await t.store.completeOutbox('file', claimed.map((r) => r.id));
    // One old event was published, the other still waits: only the published one goes.
    expect(await t.store.pruneEvents(new Date('2021-01-01T00:00:00.000Z'))).toBe(1);
    expect((await t.store.listEvents({ endpointId: agent.endpointId })).items).toHaveLength(2);
    expect((await t.store.getEndpoint(agent.endpointId))!.servers.map((s) => s.name).sort()).toEqual(['new', 'old', 'old2']);
  });

  test('API tokens: found by hash until revoked, with their scope', async () => {
    await t.store.addApiToken({ tokenId: 'tk1', name: 'soc', tokenHash: sha256Hex('t1'), scope: 'read' });
    const found = await t.store.findApiToken(sha256Hex('t1'));
    expect(found).toMatchObject({ tokenId: 'tk1', name: 'soc', scope: 'read', revokedAt: null });
    expect(found!.lastUsedAt).not.toBeNull();
    expect(await t.store.findApiToken(sha256Hex('other'))).toBeNull();
    expect((await t.store.listApiTokens()).map((x) => x.tokenId)).toEqual(['tk1']);
    expect(await t.store.revokeApiToken('tk1')).toBe(true);
    expect(await t.store.revokeApiToken('tk1')).toBe(false);
    expect(await t.store.findApiToken(sha256Hex('t1'))).toBeNull();
  });

  test('a closed store refuses with MCPW_ERR_STORE_UNAVAILABLE and ping says false', async () => {
    const other = await openTestStore(engine);
    await other.store.close();
    await expect(other.store.getAgent('x')).rejects.toMatchObject({ code: 'MCPW_ERR_STORE_UNAVAILABLE', statusCode: 503 });
    expect(await other.store.ping()).toBe(false);
    await other.cleanup();
  });
});

describe.each(await engineCases())('store projection (%s)', (engine) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(engine);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  test('a snapshot replaces the endpoint inventory; deltas add, change and remove', async () => {
    const { agent, host, sender } = await enrolled(t.store);
    const a = serverEntry('a');
    const b = serverEntry('b');
    const fa = finding('secret-in-env', 'high', a);
    await sender.send([snapshot(agent.endpointId, { ...host, users: ['alice', 'bob'] }, { servers: [a, b], findings: [fa] })]);
    let d = (await t.store.getEndpoint(agent.endpointId))!;
    expect(d.servers.map((s) => s.name).sort()).toEqual(['a', 'b']);
    expect(d.endpoint.users).toEqual(['alice', 'bob']);
    expect(d.findings.map((f) => [f.id, f.status])).toEqual([[fa.id, 'open']]);
    expect(d.clients.map((c) => c.client)).toEqual(['cursor']);

    const c = serverEntry('c');
    await sender.send([
      event('server.removed', agent.endpointId, b),
      event('server.added', agent.endpointId, c),
      event('server.changed', agent.endpointId, { ...a, disabled: true, changedFields: ['disabled'] }),
      event('finding.resolved', agent.endpointId, fa),
      event('process.started', agent.endpointId, { pid: 42, name: 'node', cmd: 'node server.js', kind: 'server', serverKey: c.serverKey }),
      event('socket.opened', agent.endpointId, { pid: 42, processName: 'node', protocol: 'tcp', localAddress: '0.0.0.0', localPort: 8080, kind: 'listen', allInterfaces: true }),
      event('config.error', agent.endpointId, { path: '/Users/alice/.cursor/mcp.json', code: 'parse', reason: 'Unexpected token' }),
      event('agent.heartbeat', agent.endpointId, { version: '0.2.0', uptimeS: 5, cpuPercent: 0.1, rssBytes: 1000, spoolBytes: 0, spoolDepth: 0, droppedCount: 0, lastError: null, intervalsMs: { process: 5000 }, throttled: false }),
    ]);
    d = (await t.store.getEndpoint(agent.endpointId))!;
    expect(d.servers.map((s) => [s.name, s.disabled]).sort()).toEqual([['a', true], ['c', false]]);
    expect(d.findings.map((f) => [f.id, f.status])).toEqual([[fa.id, 'resolved']]);
    expect(d.processes.map((p) => p.pid)).toEqual([42]);
    expect(d.sockets.map((s) => s.localPort)).toEqual([8080]);
    expect(d.configErrors.map((e) => e.code)).toEqual(['parse']);
    expect(d.endpoint.health?.version).toBe('0.2.0');
    expect(d.endpoint.agentVersion).toBe('0.2.0');

    // A new snapshot: only what it holds is current.
    await sender.send([snapshot(agent.endpointId, { ...host, hostname: 'renamed', users: ['alice'] }, { servers: [c] })]);
    d = (await t.store.getEndpoint(agent.endpointId))!;
    expect(d.servers.map((s) => s.name)).toEqual(['c']);
    expect(d.processes).toEqual([]);
    expect(d.sockets).toEqual([]);
    expect(d.configErrors).toEqual([]);
    expect(d.endpoint.users).toEqual(['alice']);
    expect(d.endpoint.hostname).toBe('renamed');
    // 10 sent, and the finding.raised the first snapshot's finding derived.
    expect(d.recentEvents.length).toBe(11);
  });
});

describe('createStore refuses what it cannot open, with coded errors', () => {
  test('an unreachable PostgreSQL is MCPW_ERR_STORE_UNAVAILABLE (503)', async () => {
    await expect(createStore({ databaseUrl: 'postgres://postgres@127.0.0.1:1/test', pgSchema: 't_unreachable' })).rejects.toMatchObject({ code: 'MCPW_ERR_STORE_UNAVAILABLE', statusCode: 503 });
  });
  test.each([
    [{ databaseUrl: 'mysql://x@127.0.0.1/db' }, /postgres:\/\//],
    [{ databaseUrl: 'postgres://postgres@127.0.0.1/test', pgSchema: 'x; drop schema public' }, /pgSchema must be letters/],
    [{}, /dataDir is required/],
  ])('%j is MCPW_ERR_CONFIG', async (opts, message) => {
    await expect(createStore(opts)).rejects.toMatchObject({ code: 'MCPW_ERR_CONFIG', message: expect.stringMatching(message) });
  });
  test('a data dir that cannot be created (a file is in the way) is MCPW_ERR_STORE_UNAVAILABLE', async () => {
    const file = join(tmpdir(), `mcpw-not-a-dir-${process.pid}`);
    writeFileSync(file, 'x');
    try {
      await expect(createStore({ dataDir: join(file, 'data') })).rejects.toMatchObject({ code: 'MCPW_ERR_STORE_UNAVAILABLE' });
    } finally {
      rmSync(file, { force: true });
    }
  });
});
