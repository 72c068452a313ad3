/**
 * The SQLite checkpoint worker copies the WAL into the database file while the writer keeps the
 * automatic checkpoint out of its commits.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { startCheckpointer } from '../../src/store/sqlite-checkpointer.js';

test('a worker checkpoints the WAL into the database file, and stops on request', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcpw-ckpt-'));
  const file = join(dir, 'db.sqlite');
  const db = new BetterSqlite3(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('create table t (x text)');
    const insert = db.prepare('insert into t values (?)');
    db.transaction(() => {
      for (let i = 0; i < 2000; i++) insert.run('x'.repeat(500));
    })();
    const before = statSync(file).size;
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(1_000_000);

    const errors: string[] = [];
    const checkpointer = startCheckpointer(file, { intervalMs: 10, onError: (m) => errors.push(m) });
    // Wait (bounded) until the database file has grown by the checkpointed pages.
    for (let i = 0; i < 500 && statSync(file).size <= before; i++) await new Promise((r) => setTimeout(r, 20));
    await checkpointer.stop();
    expect(statSync(file).size).toBeGreaterThan(before + 1_000_000);
    expect(errors).toEqual([]);
    expect(db.prepare('select count(*) as n from t').get()).toEqual({ n: 2000 });
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a database the worker cannot open is reported through onError', async () => {
  const messages: string[] = [];
  const checkpointer = startCheckpointer('/nonexistent-dir/x/db.sqlite', { intervalMs: 10, onError: (m) => messages.push(m) });
  for (let i = 0; i < 500 && messages.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  await checkpointer.stop();
  expect(messages[0]).toMatch(/unable to open|directory does not exist|cannot open/i);
});
