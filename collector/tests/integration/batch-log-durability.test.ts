/**
 * An ack is answered after a COMMIT that is on disk (batch-log.ts, header): on SQLite the append
 * group's transaction runs with synchronous=FULL (its COMMIT fsyncs the WAL) and the connection is
 * back at NORMAL for everything else (projection, queries). The statements are the store's own,
 * recorded as better-sqlite3 runs them.
 */
import { sql } from 'kysely';
import { statementsRunBy } from '../support/sqlite-statements.js';
import { openTestStore, type TestStore } from '../support/test-store.js';
import { enrolled, event, hostInfo, serverEntry } from '../support/store-fixtures.js';

describe('batch log durability (sqlite)', () => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore('sqlite', { project: false });
  });
  afterEach(async () => {
    await t.cleanup();
  });

  test('an append group commits with synchronous=FULL; the connection is NORMAL again after it', async () => {
    const { agent, sender } = await enrolled(t.store, hostInfo({ hardwareUuid: 'durable-hw' }));
    const inputs = [sender.input([event('server.added', agent.endpointId, serverEntry('d1'))])];
    const ran = (await statementsRunBy(() => Promise.all(inputs.map((i) => t.store.ingestBatch(i))))).map((s) => s.sql.trim().toLowerCase());
    const full = ran.indexOf('pragma synchronous = full');
    const begin = ran.indexOf('begin immediate');
    const commit = ran.indexOf('commit');
    const normal = ran.indexOf('pragma synchronous = normal');
    expect(full).toBeGreaterThanOrEqual(0);
    expect(full).toBeLessThan(begin);
    expect(ran.slice(begin, commit).some((s) => s.startsWith('insert into "batch_log"'))).toBe(true);
    expect(commit).toBeLessThan(normal);
    // 1 = NORMAL (2 would be FULL).
    const level = (await sql<{ synchronous: number }>`pragma synchronous`.execute(t.store.db)).rows[0]!.synchronous;
    expect(level).toBe(1);
  });

  test('a group that fails still leaves the connection at NORMAL', async () => {
    const { agent, sender } = await enrolled(t.store, hostInfo({ hardwareUuid: 'durable-hw-2' }));
    const broken = { ...sender.input([event('server.added', agent.endpointId, serverEntry('d2'))]), agent: { ...agent, agentId: 'nobody' } };
    await expect(t.store.ingestBatch(broken)).rejects.toMatchObject({ code: 'MCPW_ERR_UNKNOWN_AGENT' });
    const level = (await sql<{ synchronous: number }>`pragma synchronous`.execute(t.store.db)).rows[0]!.synchronous;
    expect(level).toBe(1);
  });
});
