/**
 * An ack is answered after a COMMIT that is on disk (batch-log.ts, header). On a file-backed
 * SQLite store the append group commits at synchronous=NORMAL (no fsync inside COMMIT, on the event
 * loop) and its batches are answered only after an fdatasync of the WAL that started after that
 * COMMIT (wal-sync.ts, run on libuv's thread pool). The connection never leaves NORMAL. The
 * statements are the store's own, recorded as better-sqlite3 runs them; the fdatasync is the real
 * one, observed by wrapping FileHandle.prototype.datasync.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { SQLITE_FILE } from '../../src/store/index.js';
import { WalSync } from '../../src/store/wal-sync.js';
import { statementsRunBy } from '../support/sqlite-statements.js';
import { openTestStore, type TestStore } from '../support/test-store.js';
import { enrolled, event, hostInfo, serverEntry } from '../support/store-fixtures.js';

type DatasyncProto = { datasync: (this: unknown) => Promise<void> };

/** FileHandle.prototype, whose datasync WalSync calls. */
async function fileHandleProto(): Promise<DatasyncProto> {
  const dir = mkdtempSync(join(tmpdir(), 'mcpw-fh-'));
  const fh = await open(join(dir, 'x'), 'w');
  const proto = Object.getPrototypeOf(fh) as DatasyncProto;
  await fh.close();
  rmSync(dir, { recursive: true, force: true });
  return proto;
}

describe('batch log durability (sqlite)', () => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore('sqlite', { project: false });
  });
  afterEach(async () => {
    await t.cleanup();
  });

  test('an append group commits at NORMAL and is answered after a WAL fdatasync that starts after its COMMIT', async () => {
    const { agent, sender } = await enrolled(t.store, hostInfo({ hardwareUuid: 'durable-hw' }));
    const input = sender.input([event('server.added', agent.endpointId, serverEntry('d1'))]);
    const proto = await fileHandleProto();
    const original = proto.datasync;
    const file = join(t.options.dataDir!, SQLITE_FILE);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seenAtSync: number[] = [];
    proto.datasync = async function (this: unknown) {
      // What another connection sees when the sync starts: the batch is committed already.
      const reader = new BetterSqlite3(file, { readonly: true });
      try {
        seenAtSync.push((reader.prepare('select count(*) as n from batch_log').get() as { n: number }).n);
      } finally {
        reader.close();
      }
      await gate;
      return original.call(this);
    };
    let answered = false;
    try {
      const ran = await statementsRunBy(async () => {
        const acked = t.store.ingestBatch(input).then((r) => {
          answered = true;
          return r;
        });
        // The COMMIT has run and the sync is held: no answer yet.
        for (let i = 0; i < 50 && seenAtSync.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
        expect(seenAtSync).toEqual([1]);
        expect(answered).toBe(false);
        release();
        await expect(acked).resolves.toMatchObject({ status: 'accepted', acked: input.seq });
      });
      const texts = ran.map((s) => s.sql.trim().toLowerCase());
      expect(texts.some((s) => s.startsWith('pragma synchronous'))).toBe(false);
      const begin = texts.indexOf('begin immediate');
      const commit = texts.indexOf('commit');
      expect(begin).toBeGreaterThanOrEqual(0);
      expect(texts.slice(begin, commit).some((s) => s.startsWith('insert into "batch_log"'))).toBe(true);
    } finally {
      proto.datasync = original;
      release();
    }
    // 1 = NORMAL (2 would be FULL).
    const level = (await sql<{ synchronous: number }>`pragma synchronous`.execute(t.store.db)).rows[0]!.synchronous;
    expect(level).toBe(1);
  });

  test('a group runs without savepoints; one with a failing batch runs again with a savepoint each, and only that batch fails', async () => {
    const a = await enrolled(t.store, hostInfo({ hardwareUuid: 'group-a' }));
    const b = await enrolled(t.store, hostInfo({ hardwareUuid: 'group-b' }));
    const good = [a, b].map(({ agent, sender }, i) => sender.input([event('server.added', agent.endpointId, serverEntry(`g${i}`))]));
    const plain = (await statementsRunBy(() => Promise.all(good.map((i) => t.store.ingestBatch(i))))).map((s) => s.sql.trim().toLowerCase());
    expect(plain.filter((s) => s.startsWith('begin')).length).toBe(1);
    expect(plain.some((s) => s.includes('savepoint'))).toBe(false);

    a.sender.seq = good[0]!.seq;
    b.sender.seq = good[1]!.seq;
    const next = [a, b].map(({ agent, sender }, i) => sender.input([event('server.added', agent.endpointId, serverEntry(`h${i}`))]));
    const ghost = { ...next[1]!, agent: { ...b.agent, agentId: 'nobody' } };
    const results: Array<PromiseSettledResult<unknown>> = [];
    const careful = (
      await statementsRunBy(async () => {
        results.push(...(await Promise.allSettled([t.store.ingestBatch(next[0]!), t.store.ingestBatch(ghost)])));
      })
    ).map((s) => s.sql.trim().toLowerCase());
    expect(results[0]).toMatchObject({ status: 'fulfilled', value: { status: 'accepted' } });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: 'MCPW_ERR_UNKNOWN_AGENT' } });
    expect(careful.filter((s) => s.startsWith('begin')).length).toBe(2);
    expect(careful.filter((s) => s === 'savepoint mcpw_batch').length).toBe(2);
  });

  test('a duplicate is answered without a new append and a failed group leaves the connection at NORMAL', async () => {
    const { agent, sender } = await enrolled(t.store, hostInfo({ hardwareUuid: 'durable-hw-2' }));
    const input = sender.input([event('server.added', agent.endpointId, serverEntry('d2'))]);
    await expect(t.store.ingestBatch(input)).resolves.toMatchObject({ status: 'accepted' });
    await expect(t.store.ingestBatch(input)).resolves.toMatchObject({ status: 'duplicate', acked: input.seq });
    const broken = { ...sender.input([event('server.added', agent.endpointId, serverEntry('d3'))]), agent: { ...agent, agentId: 'nobody' } };
    await expect(t.store.ingestBatch(broken)).rejects.toMatchObject({ code: 'MCPW_ERR_UNKNOWN_AGENT' });
    const level = (await sql<{ synchronous: number }>`pragma synchronous`.execute(t.store.db)).rows[0]!.synchronous;
    expect(level).toBe(1);
  });
});

describe('WalSync', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mcpw-walsync-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('calls made while a sync runs share the next one; each caller waits for a sync that started after its call', async () => {
    const wal = join(dir, 'db-wal');
    writeFileSync(wal, 'frames');
    const proto = await fileHandleProto();
    const original = proto.datasync;
    const started: number[] = [];
    const gates: Array<() => void> = [];
    proto.datasync = async function (this: unknown) {
      started.push(started.length + 1);
      await new Promise<void>((resolve) => gates.push(resolve));
      return original.call(this);
    };
    const s = new WalSync(wal);
    try {
      const done: string[] = [];
      const first = s.sync().then(() => done.push('first'));
      for (let i = 0; i < 50 && gates.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
      // Three calls while the first sync runs: one more sync serves all three.
      const later = [s.sync(), s.sync(), s.sync()].map((p, i) => p.then(() => done.push(`later${i}`)));
      expect(started).toEqual([1]);
      gates[0]!();
      await first;
      for (let i = 0; i < 50 && gates.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
      expect(started).toEqual([1, 2]);
      expect(done).toEqual(['first']);
      gates[1]!();
      await Promise.all(later);
      expect(done).toEqual(['first', 'later0', 'later1', 'later2']);
      expect(s.syncs).toBe(2);
    } finally {
      proto.datasync = original;
      gates.forEach((g) => g());
      await s.close();
    }
  });

  test('a WAL that cannot be opened rejects the sync; a closed WalSync refuses', async () => {
    const s = new WalSync(join(dir, 'missing-wal'));
    await expect(s.sync()).rejects.toMatchObject({ code: 'ENOENT' });
    await s.close();
    await expect(s.sync()).rejects.toThrow(/closed/);
  });
});
