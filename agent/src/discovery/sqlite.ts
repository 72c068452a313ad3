/**
 * better-sqlite3, loaded on first use (a configs-only scan that meets no database never loads the
 * native module; a single-executable build may not carry it: then null, and each caller reports a
 * coded error). Callers open databases read-only with `fileMustExist` and a short busy timeout.
 */
import { createRequire } from 'node:module';

export interface SqliteDb {
  prepare(sql: string): { get(...args: unknown[]): unknown; all(...args: unknown[]): unknown[] };
  close(): void;
}
export type SqliteCtor = new (file: string, opts: { readonly: boolean; fileMustExist: boolean; timeout: number }) => SqliteDb;

let sqliteCtor: SqliteCtor | null | undefined;

/** better-sqlite3's Database constructor, or null when this build has none. */
export function loadSqlite(): SqliteCtor | null {
  if (sqliteCtor === undefined) {
    try {
      sqliteCtor = createRequire(import.meta.url)('better-sqlite3') as SqliteCtor;
    } catch {
      sqliteCtor = null;
    }
  }
  return sqliteCtor;
}
