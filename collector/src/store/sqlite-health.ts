/**
 * Is the SQLite database the store opened really still there and readable?
 *
 * Contract:
 * - `SqliteFileIdentity.check()` (cheap: two stat calls, no I/O beyond the inode) says whether the
 *   database file at its path is still the one the store opened (same dev+ino), and its -wal file
 *   likewise once seen. Deleted or replaced files mean writes would go to unlinked inodes and be
 *   lost at the next start: not healthy. Run before every write transaction.
 * - `deepCheckSqlite()` opens a FRESH read-only connection (the store's own page cache would hide
 *   pages overwritten on disk), reads sqlite_schema and the first row of every table, and
 *   for a database of at most QUICK_CHECK_MAX_PAGES pages runs `PRAGMA quick_check` — a bounded
 *   cost for a readiness probe. Never throws: failures are values.
 */
import { statSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';

export type HealthResult = { ok: true } | { ok: false; reason: string };

/** Databases up to this many pages (16 MiB at 4 KiB pages; tens of ms) get a full quick_check per deep check. */
export const QUICK_CHECK_MAX_PAGES = 4096;

interface Identity {
  dev: number;
  ino: number;
}

function identityOf(path: string): Identity | null {
  try {
    const st = statSync(path);
    return { dev: st.dev, ino: st.ino };
  } catch {
    return null;
  }
}

/** The identity (dev+ino) of the database file (and its WAL) as opened. */
export class SqliteFileIdentity {
  private readonly main: Identity | null;
  private wal: Identity | null;

  constructor(readonly file: string) {
    this.main = identityOf(file);
    this.wal = identityOf(`${file}-wal`);
  }

  check(): HealthResult {
    if (!this.main) return { ok: false, reason: `database file ${this.file} was missing when the store opened` };
    const now = identityOf(this.file);
    if (!now) return { ok: false, reason: `database file ${this.file} was deleted under the running collector` };
    if (now.dev !== this.main.dev || now.ino !== this.main.ino) return { ok: false, reason: `database file ${this.file} was replaced under the running collector` };
    const wal = identityOf(`${this.file}-wal`);
    if (this.wal === null) {
      // WAL files appear with the first write; remember the first one seen.
      this.wal = wal;
    } else if (!wal) {
      return { ok: false, reason: `write-ahead log ${this.file}-wal was deleted under the running collector` };
    } else if (wal.dev !== this.wal.dev || wal.ino !== this.wal.ino) {
      return { ok: false, reason: `write-ahead log ${this.file}-wal was replaced under the running collector` };
    }
    return { ok: true };
  }
}

function quoteId(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A fresh read-only look at `file` (see module comment). */
export function deepCheckSqlite(file: string): HealthResult {
  let db: BetterSqlite3.Database | undefined;
  try {
    db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 1000');
    const objects = db.prepare(`select type, name from sqlite_schema where type in ('table', 'index') and name not like 'sqlite_%'`).all() as Array<{
      type: string;
      name: string;
    }>;
    if (objects.length === 0) return { ok: false, reason: 'database has no tables (not the collector database)' };
    for (const o of objects) {
      if (o.type === 'table') db.prepare(`select * from ${quoteId(o.name)} limit 1`).all();
    }
    const pages = db.pragma('page_count', { simple: true }) as number;
    if (pages <= QUICK_CHECK_MAX_PAGES) {
      const rows = db.pragma('quick_check(1)') as Array<{ quick_check: string }>;
      const verdict = rows[0]?.quick_check;
      if (verdict !== 'ok') return { ok: false, reason: `quick_check: ${verdict ?? 'no answer'}` };
    }
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `database is not readable: ${(e as Error).message}` };
  } finally {
    try {
      db?.close();
    } catch {
      // closing a failed read-only handle: nothing to keep
    }
  }
}
