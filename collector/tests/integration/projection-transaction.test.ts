/**
 * Several log rows in one projection transaction share what they learn of inventory rows
 * (ProjectionWriter.begin): a row read or written by an earlier batch of the transaction is not
 * read again, and the last_seen moves of unchanged rows are written once per row at the end, with
 * the latest time. The result must be exactly what projecting each batch in a transaction of its
 * own gives: two stores get the same batches (touches, a change, a snapshot that resets, a row
 * present again, a touch after a write), one projects them in one transaction, the other one per
 * transaction, and every inventory table is compared.
 */
import type { Kysely } from 'kysely';
import type { McpEvent } from '@mcpwatch/shared';
import { Projector } from '../../src/store/projector.js';
import { PartitionOwnership, PG_PARTITIONS } from '../../src/store/projection-partitions.js';
import { InsertShapes } from '../../src/store/sql-shapes.js';
import { engineCases } from '../support/pg.js';
import { statementsRunBy } from '../support/sqlite-statements.js';
import { openTestStore, type TestStore } from '../support/test-store.js';
import { enrolled, event, finding, hostInfo, serverEntry, snapshot } from '../support/store-fixtures.js';

const at = (s: number): Date => new Date(Date.parse('2026-05-01T10:00:00.000Z') + s * 1000);

/** The batches, for one store's endpoint (same data and times for both stores). */
function batches(ep: string, host: ReturnType<typeof hostInfo>): McpEvent[][] {
  const a = serverEntry('a');
  const b = serverEntry('b');
  const b2 = { ...b, command: 'npx', fingerprint: 'f'.repeat(64) };
  const f1 = finding('secret-in-env', 'high', a);
  return [
    [event('server.added', ep, a, at(0)), event('server.added', ep, b, at(0)), event('finding.raised', ep, f1, at(0))],
    [event('server.added', ep, a, at(1)), event('server.added', ep, b, at(1)), event('finding.raised', ep, f1, at(1))],
    [event('server.added', ep, a, at(2)), event('server.added', ep, b2, at(2)), event('process.started', ep, { pid: 7, ppid: 1, name: 'node', cmd: 'node x', user: 'alice', kind: 'server', client: 'cursor', serverKey: null, match: 'pattern', startedAt: at(2).toISOString() } as never, at(2))],
    [snapshot(ep, host, { servers: [b2], findings: [] }, at(3))],
    [event('server.added', ep, a, at(4)), event('server.added', ep, b2, at(4)), event('finding.raised', ep, f1, at(4))],
    [event('server.added', ep, b2, at(5)), event('finding.raised', ep, f1, at(6))],
  ];
}

/** Every inventory table of the store, without the endpoint id (it differs between the stores). */
async function inventory(db: Kysely<any>): Promise<Record<string, unknown[]>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const out: Record<string, unknown[]> = {};
  for (const [table, key] of [['servers', 'server_key'], ['clients', 'client_key'], ['processes', 'process_key'], ['findings', 'finding_id'], ['endpoint_users', 'user_name']] as const) {
    const rows = (await db.selectFrom(table).selectAll().orderBy(key).execute()) as Array<Record<string, unknown>>;
    // endpoint_users.first_seen is the enrollment's wall-clock time.
    const strip = (r: Record<string, unknown>): Record<string, unknown> => (table === 'endpoint_users' ? { ...r, first_seen: null } : r);
    out[table] = rows.map(({ endpoint_id: _e, ...r }) => strip(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]))));
  }
  return out;
}

describe.each(await engineCases())('one projection transaction of several batches (%s)', (engine) => {
  const stores: TestStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.cleanup();
  });

  async function run(perBatch: boolean): Promise<{ t: TestStore; projector: Projector; ran: Array<{ sql: string }> }> {
    const t = await openTestStore(engine, { project: false });
    stores.push(t);
    const host = hostInfo({ hardwareUuid: 'projection-tx-hw' });
    const { agent, sender } = await enrolled(t.store, host);
    const projector = new Projector({
      engine,
      db: t.store.db,
      shapes: new InsertShapes(),
      ...(engine === 'postgres' ? { ownership: new PartitionOwnership(t.store.db, t.options.pgSchema!, PG_PARTITIONS) } : {}),
      transactionBudgetMs: Infinity,
      ...(perBatch ? { maxBatchesPerTransaction: 1 } : {}),
    });
    const [first, ...rest] = batches(agent.endpointId, host);
    await sender.send(first!, {}, { project: false });
    await projector.drain();
    for (const b of rest) await sender.send(b, {}, { project: false });
    const before = projector.projectedTransactions;
    const ran = await statementsRunBy(() => projector.drain());
    expect(projector.projectedTransactions - before).toBe(perBatch ? rest.length : 1);
    await projector.stop();
    return { t, projector, ran };
  }

  test('gives exactly the rows that one transaction per batch gives, reading and touching less', async () => {
    const shared = await run(false);
    const alone = await run(true);
    const got = await inventory(shared.t.store.db);
    expect(got).toEqual(await inventory(alone.t.store.db));
    // The rows moved as the batches say (a sanity check of the comparison itself).
    const servers = got.servers as Array<{ name: string; present: number; last_seen: string }>;
    expect(Object.fromEntries(servers.map((s) => [s.name, [s.present, s.last_seen]]))).toEqual({ a: [1, at(4).toISOString()], b: [1, at(5).toISOString()] });
    const findings = got.findings as Array<{ status: string; last_seen: string }>;
    expect(findings.map((f) => [f.status, f.last_seen])).toEqual([['open', at(6).toISOString()]]);
    if (engine === 'sqlite') {
      const count = (ran: Array<{ sql: string }>, re: RegExp): number => ran.filter(({ sql }) => re.test(sql)).length;
      const reads = /^select "server_key" as "k"/;
      const touches = /^update "servers" set "last_seen"/;
      expect(count(shared.ran, reads)).toBeLessThan(count(alone.ran, reads));
      expect(count(shared.ran, touches)).toBeLessThan(count(alone.ran, touches));
    }
  });
});
