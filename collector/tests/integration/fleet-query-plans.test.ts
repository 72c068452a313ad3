/**
 * The fleet-wide queries bench:fleet times (DESIGN.md: ≤ 10 ms p95 at 100,000 endpoints under
 * ingest load) read an index range in the order they answer, on SQLite: a page of findings by
 * severity and a page of "who runs server X" are the first rows of an index, not a sort of every
 * matching row. The SQL is the store's own (captured as better-sqlite3 runs it); the plan is
 * SQLite's EXPLAIN QUERY PLAN for it.
 */
import { CompiledQuery } from 'kysely';
import { statementsRunBy } from '../support/sqlite-statements.js';
import { openTestStore, type TestStore } from '../support/test-store.js';
import { enrolled, finding, hostInfo, serverEntry, snapshot } from '../support/store-fixtures.js';

describe('fleet query plans (sqlite)', () => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore('sqlite');
    for (let i = 0; i < 6; i++) {
      const host = hostInfo({ hostname: `plan-${i}`, hardwareUuid: `plan-hw-${i}` });
      const { agent, sender } = await enrolled(t.store, host);
      const servers = [serverEntry('github'), serverEntry(`tail-${i}`)];
      await sender.send([snapshot(agent.endpointId, host, { servers, findings: [finding('secret-in-env', i % 2 ? 'high' : 'medium', servers[0])] })]);
    }
  });
  afterEach(async () => {
    await t.cleanup();
  });

  async function planOf(statement: { sql: string; params: unknown[] }): Promise<string> {
    const rows = (await t.store.db.executeQuery(CompiledQuery.raw(`explain query plan ${statement.sql}`, statement.params))).rows as Array<{ detail: string }>;
    return rows.map((r) => r.detail).join('\n');
  }

  test('findings by severity: the first rows of findings_by_severity, no sort', async () => {
    const reads = await statementsRunBy(() => t.store.listFindings({ severity: 'high', limit: 50 }));
    const page = reads.find((r) => /from "findings"/.test(r.sql) && /order by/.test(r.sql))!;
    expect(page).toBeDefined();
    const plan = await planOf(page);
    expect(plan).toMatch(/findings_by_severity/);
    expect(plan).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
  });

  test('who runs server X: the first rows of servers_fingerprint, no sort', async () => {
    const fingerprint = serverEntry('github').fingerprint;
    const reads = await statementsRunBy(() => t.store.serverEndpoints(fingerprint, { limit: 50 }));
    const page = reads.find((r) => /from "servers"/.test(r.sql))!;
    expect(page).toBeDefined();
    const plan = await planOf(page);
    expect(plan).toMatch(/servers_fingerprint/);
    expect(plan).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
  });
});
