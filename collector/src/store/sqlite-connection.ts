/**
 * One SQLite connection as the store uses it: better-sqlite3 with the store's pragmas, wrapped for
 * Kysely with prepared-statement caching (sqlite-statement-cache.ts). Used by the store's one
 * connection (index.ts: ingest, projection, queries and the outbox share it), and read-only by the
 * query listener's worker (openSqliteReadOnly: it never changes the journal mode, checkpoints or
 * writes; WAL lets it read while the collector writes).
 */
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from './db-schema.js';
import { CachingSqliteDatabase, registerSqliteHandle } from './sqlite-statement-cache.js';

/** How long a connection waits for another's write lock before SQLITE_BUSY (-> 503). */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

/** 64 MiB page cache: the fleet's index working set (servers by fingerprint, events by endpoint). */
const CACHE_SIZE = -65536;

/** Opens `file` (created unless `mustExist`) with the store's pragmas; throws what better-sqlite3 throws. */
export function openSqliteConnection(file: string, opts: { mustExist?: boolean } = {}): Kysely<Database> {
  const raw = new BetterSqlite3(file, { fileMustExist: opts.mustExist === true });
  try {
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    raw.pragma(`cache_size = ${CACHE_SIZE}`);
    // Checkpoints run in a worker (sqlite-checkpointer.ts); this threshold (~128 MiB of WAL) is
    // only the backstop if that worker stops.
    raw.pragma('wal_autocheckpoint = 32768');
    raw.pragma('foreign_keys = OFF');
  } catch (e) {
    raw.close();
    throw e;
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new CachingSqliteDatabase(raw) }) });
  registerSqliteHandle(db, raw);
  return db;
}

/**
 * Opens the existing `file` read-only: the file opened SQLITE_OPEN_READONLY and `query_only` on, so
 * any write is refused by SQLite itself; the store's busy timeout and page cache.
 */
export function openSqliteReadOnly(file: string): Kysely<Database> {
  const raw = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    raw.pragma('query_only = 1');
    raw.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    raw.pragma(`cache_size = ${CACHE_SIZE}`);
  } catch (e) {
    raw.close();
    throw e;
  }
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: new CachingSqliteDatabase(raw) }) });
}
