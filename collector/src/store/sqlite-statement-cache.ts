/**
 * A better-sqlite3 database for Kysely's SqliteDialect that keeps prepared statements, so the same
 * query text is compiled by SQLite once (Kysely would prepare every statement afresh), and whose
 * transactions begin IMMEDIATE. Bounded:
 * past `maxStatements` the least recently used statement is dropped.
 *
 * Also which better-sqlite3 handle a Kysely instance the store opened runs on (registerSqliteHandle,
 * sqliteHandleOf): the batch log's append runs its statements on it directly (batch-log.ts).
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** Kysely instance -> the better-sqlite3 handle under it (only those registered by sqlite-connection.ts). */
const handles = new WeakMap<object, BetterSqlite3.Database>();

/** Records that `db` runs every statement on `raw` (its one connection). */
export function registerSqliteHandle(db: object, raw: BetterSqlite3.Database): void {
  handles.set(db, raw);
}

/**
 * The better-sqlite3 handle under `db`, if registered. Whoever runs statements on it directly must
 * hold `db`'s connection (Kysely's connection(): its transactions and statements wait meanwhile).
 */
export function sqliteHandleOf(db: object): BetterSqlite3.Database | undefined {
  return handles.get(db);
}

export class CachingSqliteDatabase implements SqliteDatabase {
  readonly #db: BetterSqlite3.Database;
  readonly #maxStatements: number;
  readonly #cache = new Map<string, SqliteStatement>();

  constructor(db: BetterSqlite3.Database, maxStatements = 512) {
    this.#db = db;
    this.#maxStatements = maxStatements;
  }

  prepare(sql: string): SqliteStatement {
    // Kysely opens transactions with a plain (deferred) BEGIN; every store transaction writes, so
    // take the write lock at BEGIN: another process then waits (busy_timeout) instead of failing
    // when it would upgrade a read lock.
    if (sql === 'begin') sql = 'begin immediate';
    const hit = this.#cache.get(sql);
    if (hit) {
      // Re-insert to mark it most recently used.
      this.#cache.delete(sql);
      this.#cache.set(sql, hit);
      return hit;
    }
    const stmt = this.#db.prepare(sql) as unknown as SqliteStatement;
    this.#cache.set(sql, stmt);
    if (this.#cache.size > this.#maxStatements) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    return stmt;
  }

  close(): void {
    this.#cache.clear();
    this.#db.close();
  }
}
