/**
 * The SQLite append on the connection's own prepared statements (batch-log.ts DirectSqliteAppend)
 * writes what the Kysely path writes: two copies of one database, the same inputs appended by the
 * store's own batch log (direct) and by a batch log told to use Kysely, give the same answers and the
 * same batch_log, projection_pending, chain heads and log ids, through accepted groups, a duplicate,
 * a conflict, a gap, a late batch, a broken chain, a group with an unknown agent (the savepoint
 * run) and an empty batch. And the group window (groupWindowMs): a batch that comes while the
 * window runs waits for it and shares the next group, which starts at once when full.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, Kysely, SqliteDialect } from 'kysely';
import BetterSqlite3 from 'better-sqlite3';
import { BatchLog, DirectSqliteAppend } from '../../src/store/batch-log.js';
import { createStore, SQLITE_FILE, classifyStoreError } from '../../src/store/index.js';
import type { Database } from '../../src/store/db-schema.js';
import { InsertShapes } from '../../src/store/sql-shapes.js';
import type { IngestInput } from '../../src/store/types.js';
import { statementsRunBy } from '../support/sqlite-statements.js';
import { openTestStore, type TestStore } from '../support/test-store.js';
import { BatchSender, enrolled, event, hostInfo, serverEntry } from '../support/store-fixtures.js';

type Outcome = { ok: true; value: unknown } | { ok: false; code: unknown };

async function appendAll(append: (i: IngestInput) => Promise<unknown>, inputs: IngestInput[]): Promise<Outcome[]> {
  const settled = await Promise.allSettled(inputs.map((i) => append(i)));
  return settled.map((s) => (s.status === 'fulfilled' ? { ok: true, value: s.value } : { ok: false, code: (s.reason as { code?: unknown }).code }));
}

function batchLog(db: Kysely<Database>, extra: Partial<ConstructorParameters<typeof BatchLog>[0]> = {}): BatchLog {
  return new BatchLog({ engine: 'sqlite', db, now: () => new Date(), partitions: 1, shapes: new InsertShapes(), classify: classifyStoreError, ...extra });
}

describe('batch log: direct SQLite statements', () => {
  let t: TestStore;
  let copyDir: string;
  beforeEach(async () => {
    t = await openTestStore('sqlite', { project: false });
    copyDir = mkdtempSync(join(tmpdir(), 'mcpw-direct-'));
  });
  afterEach(async () => {
    await t.cleanup();
    rmSync(copyDir, { recursive: true, force: true });
  });

  test('the store connection has the direct statements; a Kysely instance the store did not open has none', () => {
    expect(DirectSqliteAppend.open(t.store.db)).not.toBeNull();
    const other = new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }) });
    try {
      expect(DirectSqliteAppend.open(other)).toBeNull();
    } finally {
      void other.destroy();
    }
  });

  test('the same inputs give the same answers, log rows, pending rows and chain heads as the Kysely path', async () => {
    const agents = [];
    for (const name of ['d1', 'd2', 'd3']) agents.push(await enrolled(t.store, hostInfo({ hardwareUuid: `direct-${name}` })));
    // The copy: the same agents (ids, endpoints, certificates) in another file.
    await sql`vacuum into ${join(copyDir, SQLITE_FILE)}`.execute(t.store.db);
    const copy = await createStore({ dataDir: copyDir, project: false });
    try {
      const viaKysely = batchLog(copy.db, { direct: false });
      const [a, b, c] = agents.map((x) => x.sender) as [BatchSender, BatchSender, BatchSender];
      const ep = (s: BatchSender) => s.agent.endpointId;
      const next = (s: BatchSender, name: string, over: Partial<IngestInput> = {}) => {
        const input = s.input([event('server.added', ep(s), serverEntry(name))], { receivedAt: '2026-06-01T12:00:00.000Z', ...over });
        if (input.seq > s.seq) {
          s.seq = input.seq;
          s.lastHash = input.bodyHash;
        }
        return input;
      };
      const a1 = next(a, 'a1');
      const steps: IngestInput[][] = [
        [a1, next(b, 'b1')],
        [a1],
        [{ ...next(a, 'a1-other', { seq: 1 }) }],
        [next(a, 'a3', { seq: 3 })],
        [a.input([event('server.added', ep(a), serverEntry('a2'))], { seq: 2, prevHash: a1.bodyHash, receivedAt: '2026-06-01T12:00:01.000Z' })],
        [next(b, 'b2', { prevHash: 'not-the-last-hash' })],
        [next(c, 'c1'), { ...next(c, 'ghost'), agent: { ...c.agent, agentId: 'ag_nobody' } }],
        [c.input([], { seq: 2, receivedAt: '2026-06-01T12:00:02.000Z' })],
      ];
      const direct: Outcome[][] = [];
      const kysely: Outcome[][] = [];
      const directStatements = await statementsRunBy(async () => {
        for (const step of steps) direct.push(await appendAll((i) => t.store.ingestBatch(i), step));
      });
      for (const step of steps) kysely.push(await appendAll((i) => viaKysely.append(i), step));

      expect(direct).toEqual(kysely);
      // The answers themselves: accepted, duplicate, conflict, gap, late, broken chain, unknown agent.
      expect(direct.flat().map((o) => (o.ok ? (o.value as { status: string }).status : o.code))).toEqual([
        'accepted',
        'accepted',
        'duplicate',
        'conflict',
        'accepted',
        'accepted',
        'accepted',
        'accepted',
        'MCPW_ERR_UNKNOWN_AGENT',
        'accepted',
      ]);
      expect(direct[3]![0]).toMatchObject({ value: { gap: true } });
      expect(direct[5]![0]).toMatchObject({ value: { chainBroken: true } });
      // The unknown agent's group ran again with a savepoint per batch, on the direct statements.
      expect(directStatements.filter((s) => s.sql === 'savepoint mcpw_batch').length).toBe(2);

      const rows = async (db: Kysely<Database>) => ({
        log: (await sql`select * from batch_log order by log_id`.execute(db)).rows,
        pending: (await sql`select * from projection_pending order by partition, log_id`.execute(db)).rows,
        heads: (await sql`select agent_id, last_seq, last_hash, last_batch_at from agents order by agent_id`.execute(db)).rows,
        sequence: (await sql`select * from sqlite_sequence where name = 'batch_log'`.execute(db)).rows,
      });
      const mine = await rows(t.store.db);
      expect(mine.log).toHaveLength(7);
      expect(mine).toEqual(await rows(copy.db));
    } finally {
      await copy.close();
    }
  });

  test('a batch that comes during the group window waits and shares the next group; a full group starts at once', async () => {
    const { sender } = await enrolled(t.store, hostInfo({ hardwareUuid: 'window' }));
    // A window far longer than the test: only a full group (2) can start before it ends.
    const log = batchLog(t.store.db, { groupWindowMs: 600_000, maxGroup: 2 });
    const input = (name: string) => {
      const i = sender.input([event('server.added', sender.agent.endpointId, serverEntry(name))]);
      sender.seq = i.seq;
      sender.lastHash = i.bodyHash;
      return i;
    };
    const ran = await statementsRunBy(async () => {
      // The first group starts on the next turn (no group before it).
      await expect(log.append(input('w1'))).resolves.toMatchObject({ status: 'accepted' });
      const second = log.append(input('w2'));
      // Turns of the event loop pass; without the window w2 would commit alone meanwhile.
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      const third = log.append(input('w3'));
      await expect(Promise.all([second, third])).resolves.toMatchObject([{ status: 'accepted' }, { status: 'accepted' }]);
    });
    expect(ran.filter((s) => s.sql === 'begin immediate').length).toBe(2);
    expect((await t.store.getAgent(sender.agent.agentId))?.lastSeq).toBe(3);
  });
});
