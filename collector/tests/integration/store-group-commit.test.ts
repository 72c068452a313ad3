/**
 * Group commit and the outbox migration, on both engines:
 * - batches ingested at once share one transaction, yet each is all or nothing: a batch that fails
 *   half-way (after its events were written) is rolled back to its savepoint and refused alone;
 * - migration 0002 (outbox per batch) keeps the rows an older collector left in the outbox.
 */
import { Migrator, sql } from 'kysely';
import { inCodeMigrations } from '../../src/store/migrations.js';
import type { ServerEntry } from '@mcpwatch/shared';
import { engineCases } from '../support/pg.js';
import { openTestStore, type TestStore } from '../support/test-store.js';
import { enrolled, event, hostInfo, serverEntry } from '../support/store-fixtures.js';

describe.each(await engineCases())('group commit and outbox migration (%s)', (engine) => {
  let t: TestStore | undefined;
  afterEach(async () => {
    await t?.cleanup();
    t = undefined;
  });

  test('batches ingested at once each succeed or fail alone; a batch whose log row cannot be written leaves nothing behind', async () => {
    t = await openTestStore(engine);
    const store = t.store;
    const agents = await Promise.all([1, 2, 3].map((i) => enrolled(store, hostInfo({ hostname: `g${i}`, hardwareUuid: `hw-g${i}-${Date.now()}` }))));
    const [a, b, c] = agents as [(typeof agents)[0], (typeof agents)[0], (typeof agents)[0]];
    // No signed timestamp: the log row breaks (NOT NULL) after the agent row was locked and read.
    const brokenInput = { ...b.sender.input([event('server.added', b.agent.endpointId, serverEntry('before'))]), signedAtMs: null as unknown as number };
    const ghost = { ...c.sender.input([event('server.added', c.agent.endpointId, serverEntry('ghost'))]), agent: { ...c.agent, agentId: 'ghost' } };
    const okA = a.sender.input([event('server.added', a.agent.endpointId, serverEntry('a1'))]);
    const okC = c.sender.input([event('server.added', c.agent.endpointId, serverEntry('c1'))]);
    // Called in one tick: queued together, so they run in one group.
    const settled = await Promise.allSettled([store.ingestBatch(okA), store.ingestBatch(brokenInput), store.ingestBatch(ghost), store.ingestBatch(okC)]);
    expect(settled[0]).toMatchObject({ status: 'fulfilled', value: { status: 'accepted', acked: 1 } });
    expect(settled[1].status).toBe('rejected');
    expect(settled[2]).toMatchObject({ status: 'rejected', reason: { code: 'MCPW_ERR_UNKNOWN_AGENT' } });
    expect(settled[3]).toMatchObject({ status: 'fulfilled', value: { status: 'accepted', acked: 1 } });
    await store.awaitProjection();

    expect((await store.listEvents({ endpointId: a.agent.endpointId })).items.map((e) => e.type)).toEqual(['server.added']);
    expect((await store.listEvents({ endpointId: c.agent.endpointId })).items).toHaveLength(1);
    // Nothing of the failed batch: no log row, no events, no outbox rows, its seq still free, chain head unmoved.
    expect((await store.listEvents({ endpointId: b.agent.endpointId })).items).toHaveLength(0);
    expect(await store.outboxDepth()).toEqual({ file: 2 });
    expect((await store.getAgent(b.agent.agentId))).toMatchObject({ lastSeq: 0, lastHash: '' });
    const fixed = b.sender.input([event('server.added', b.agent.endpointId, serverEntry('before'))]);
    expect(await store.ingestBatch(fixed)).toMatchObject({ status: 'accepted', acked: 1 });
  });

  test('a logged batch the projection cannot apply is reported and skipped alone; the batches around it are projected', async () => {
    const errors: unknown[] = [];
    t = await openTestStore(engine, { project: false, onProjectorError: (e) => errors.push(e) });
    const store = t.store;
    const { agent, sender } = await enrolled(store);
    await sender.send([event('server.added', agent.endpointId, serverEntry('first'))], {}, { project: false });
    // A server entry without a name passes the edge here (the route's schema would refuse it) and
    // breaks the servers row (name NOT NULL) after the batch's events were indexed.
    const broken = { ...serverEntry('broken'), name: null } as unknown as ServerEntry;
    await sender.send([event('server.added', agent.endpointId, serverEntry('before')), event('server.added', agent.endpointId, broken)], {}, { project: false });
    await sender.send([event('server.added', agent.endpointId, serverEntry('last'))], {}, { project: false });
    await store.awaitProjection();
    expect(store.projectorCounters).toMatchObject({ batches: 3, skipped: 1 });
    expect(errors).toHaveLength(1);
    expect((await store.getEndpoint(agent.endpointId))!.servers.map((s) => s.name).sort()).toEqual(['first', 'last']);
    expect(await store.outboxDepth()).toEqual({ file: 2 });
  });

  test('migration 0002 moves the outbox rows an older collector left into the per-batch outbox; they are delivered', async () => {
    t = await openTestStore(engine, { migrate: false });
    const store = t.store;
    const schema = t.options.pgSchema;
    if (engine === 'postgres' && schema) await sql`create schema if not exists ${sql.id(schema)}`.execute(store.db);
    const migrator = new Migrator({ db: store.db, provider: inCodeMigrations(engine), ...(engine === 'postgres' && schema ? { migrationTableSchema: schema } : {}) });
    const first = await migrator.migrateTo('0001_initial');
    expect(first.error).toBeUndefined();
    // What a collector on migration 0001 left behind: two events of one batch, one row per event.
    const { agent } = await enrolled(store);
    const at = new Date().toISOString();
    const ids = ['01JAAAAAAAAAAAAAAAAAAAAAA1', '01JAAAAAAAAAAAAAAAAAAAAAA2'];
    for (const id of ids) {
      await sql`insert into events (id, endpoint_id, agent_id, type, time, received_at, batch_seq, data) values (${id}, ${agent.endpointId}, ${agent.agentId}, 'server.added', ${at}, ${at}, 1, ${JSON.stringify(serverEntry(id))})`.execute(store.db);
      await sql`insert into outbox (id, sink, event_id, endpoint_id, agent_id, batch_seq, cert_fingerprint, attempts, created_at, available_at) values (${`${id}:file`}, 'file', ${id}, ${agent.endpointId}, ${agent.agentId}, 1, ${agent.certFingerprint}, 2, ${at}, ${at})`.execute(store.db);
    }
    await store.migrate();
    expect(await store.outboxDepth()).toEqual({ file: 2 });
    const rows = await store.claimOutbox('file', 10, 60_000, 'w');
    expect(rows.map((r) => [r.id, r.event.id, r.attempts, r.agentId, r.batchSeq])).toEqual(ids.map((id) => [`${id}:file`, id, 2, agent.agentId, 1]));
    await store.completeOutbox('file', rows.map((r) => r.id));
    expect(await store.outboxDepth()).toEqual({});
  });
});
