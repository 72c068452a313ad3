/**
 * A better-sqlite3 database for Kysely's SqliteDialect that keeps prepared statements, so the same
 * query text is compiled by SQLite once (Kysely would prepare every statement afresh). Bounded:
 * past `maxStatements` the least recently used statement is dropped.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

export class CachingSqliteDatabase implements SqliteDatabase {
  readonly #db: BetterSqlite3.Database;
  readonly #maxStatements: number;
  readonly #cache = new Map<string, SqliteStatement>();

  constructor(db: BetterSqlite3.Database, maxStatements = 512) {
    this.#db = db;
    this.#maxStatements = maxStatements;
  }

  prepare(sql: string): SqliteStatement {
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
