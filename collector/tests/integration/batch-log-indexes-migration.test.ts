/**
 * Migration 0017 (batch-log-indexes-migration.ts), both engines: batch_log keeps its unique
 * (agent_id, seq) key and batch_log_received, loses batch_log_endpoint; projection_pending keeps its
 * primary key alone. The readers of what was dropped still answer: the projection status (count
 * and oldest received_at of pending rows), verify-history narrowed to an endpoint, retention of
 * old log rows (not of pending ones).
 */
import { sql } from 'kysely';
import { engineCases } from '../support/pg.js';
import { openTestStore, type TestStore } from '../support/test-store.js';
import { enrolled, event, hostInfo, serverEntry } from '../support/store-fixtures.js';

describe.each(await engineCases())('batch log indexes, migration 0017 (%s)', (engine) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(engine, { project: false });
  });
  afterEach(async () => {
    await t.cleanup();
  });

  async function indexes(table: string): Promise<string[]> {
    const rows =
      engine === 'sqlite'
        ? (await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = ${table} and name not like 'sqlite_autoindex_%'`.execute(t.store.db)).rows
        : (await sql<{ name: string }>`select indexname as name from pg_indexes where schemaname = current_schema() and tablename = ${table} and indexname not like '%_pkey' and indexname not like '%_pk'`.execute(t.store.db)).rows;
    return rows.map((r) => r.name).sort();
  }

  test('the dropped indexes are gone, the kept ones are there; duplicates are still refused by the key', async () => {
    expect(await indexes('batch_log')).toEqual(engine === 'sqlite' ? ['batch_log_received'] : ['batch_log_agent_seq', 'batch_log_received']);
    expect(await indexes('projection_pending')).toEqual([]);
    const { agent, sender } = await enrolled(t.store);
    const { input } = await sender.send([event('server.added', agent.endpointId, serverEntry('a'))], {}, { project: false });
    expect(await t.store.ingestBatch(input)).toEqual({ status: 'duplicate', acked: 1 });
  });

  test('projection status, verify-history by endpoint and retention read the log without them', async () => {
    const alpha = await enrolled(t.store, hostInfo({ hostname: 'alpha' }));
    const beta = await enrolled(t.store, hostInfo({ hostname: 'beta' }));
    const times = ['2026-06-01T10:00:00.000Z', '2026-06-01T09:00:00.000Z', '2026-06-01T11:00:00.000Z'];
    for (const receivedAt of times) {
      await alpha.sender.send([event('server.added', alpha.agent.endpointId, serverEntry('a'), new Date(receivedAt))], { receivedAt }, { project: false });
      await beta.sender.send([event('server.added', beta.agent.endpointId, serverEntry('b'), new Date(receivedAt))], { receivedAt }, { project: false });
    }
    // Six pending rows; the oldest was received second.
    const status = await t.store.projectionStatus();
    expect(status.lagBatches).toBe(6);
    expect(status.completeUpTo).toBe('2026-06-01T09:00:00.000Z');

    // verify-history narrowed to one endpoint checks its rows only (unsigned test bodies: each is a
    // signature problem of that endpoint).
    const report = await t.store.verifyHistory({ endpointId: beta.agent.endpointId });
    expect(report.checked).toBe(3);
    expect(report.problems.map((p) => [p.endpointId, p.seq])).toEqual([1, 2, 3].map((seq) => [beta.agent.endpointId, seq]));
    expect((await t.store.verifyHistory({ endpointId: beta.agent.endpointId, since: '2026-06-01T09:30:00.000Z' })).checked).toBe(2);

    // Retention keeps pending rows: nothing goes while none is projected.
    await t.store.pruneEvents(new Date('2026-06-02T00:00:00.000Z'));
    expect(Number((await t.store.db.selectFrom('batch_log').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)).toBe(6);
    // Projected, the rows received before the cutoff go (by received_at), the later ones stay.
    await t.store.db.deleteFrom('projection_pending').execute();
    await t.store.pruneEvents(new Date('2026-06-01T10:30:00.000Z'));
    const left = await t.store.db.selectFrom('batch_log').select(['received_at']).orderBy('received_at').execute();
    expect(left.map((r) => r.received_at)).toEqual(['2026-06-01T11:00:00.000Z', '2026-06-01T11:00:00.000Z']);
    expect(await t.store.projectionStatus()).toMatchObject({ lagBatches: 0 });
  });
});
