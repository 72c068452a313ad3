/**
 * The hook journal: where `mcpwatch-agent hook` leaves one record per MCP tool call for the
 * running agent to ship as `tool.called` events. No network on the hook's path.
 *
 * On disk: `<stateDir>/hook-journal/journal-<10 digit index>.log`, each record framed exactly as
 * the spool frames its records (spool/frame.ts: magic, length, CRC-32, payload) and
 * read back with the spool's scanner, so a torn or corrupted record is skipped, never parsed.
 *
 * Promises:
 * - appendJournal() writes one frame with ONE write(2) on a file opened O_APPEND, so concurrent
 *   hook processes (a client runs hooks in parallel) do not interleave within a record.
 * - Bounded: files roll past maxBytes/4; past maxBytes in all, the oldest files are deleted and
 *   their records counted into `dropped.json` ({records, bytes}), which readJournal reports.
 * - Never throws: failures come back as `{ ok: false, code: MCPW_ERR_HOOK_JOURNAL_IO, message }`.
 * - readJournal(after) returns records in append order after a cursor ({file index, offset}); the
 *   reader owns the cursor and deletes files wholly behind it with pruneJournal(). One call reads
 *   at most READ_BUDGET_BYTES (the rest waits for the next call), never follows a symlink to a
 *   journal file and reads only regular files (a user's journal is that user's to write: a link
 *   or a device in it is skipped and counted as `unreadable`, never read by a privileged agent).
 *
 * Two places hold journals: the agent's state dir, and, for a hook that cannot write there (the
 * agent runs as root and its state dir is owner-only, the client runs as an ordinary user), the
 * user's own `~/.mcpwatch/hook-journal/` (userHookStateDir(), created owner-only, 0700). The running
 * agent reads both (journal-pump.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeFrame, HEADER_BYTES, scanBuffer } from '../spool/frame.js';
import { AgentCodes } from '../errors.js';

export const JOURNAL_DIR = 'hook-journal';
/** The per-user state folder under a home, holding that user's hook journal when the agent's is not writable. */
export const USER_STATE_DIR = '.mcpwatch';
export const DEFAULT_JOURNAL_MAX_BYTES = 4 * 1024 * 1024;
const MAX_RECORD_BYTES = 64 * 1024;
/** The largest frame: a chunk this much shorter than what was read holds every frame starting in it. */
const HEADER_AND_RECORD = HEADER_BYTES + MAX_RECORD_BYTES;
/** Bytes one readJournal() call reads at most, over all files. */
export const READ_BUDGET_BYTES = 2 * 1024 * 1024;
/** Never follow a symlink when opening a journal file (0 where the OS has no such flag). */
const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;
const FILE_RE = /^journal-(\d{10})\.log$/;

export interface JournalOptions {
  /** All journal files together stay under this (plus one record). Default 4 MiB. */
  maxBytes?: number;
}

export type JournalWrite = { ok: true; dropped: number } | { ok: false; code: string; message: string };

export interface JournalCursor {
  file: number;
  offset: number;
}

export interface JournalRead {
  records: unknown[];
  cursor: JournalCursor;
  /** Records deleted unread at the size bound, in total since the journal began. */
  dropped: { records: number; bytes: number };
  corrupted: number;
  /** Journal files skipped because they are not regular files (a symlink, a device) or could not be opened. */
  unreadable: number;
}

/** The state dir whose `hook-journal/` a user's hooks write when the agent's is not writable. */
export function userHookStateDir(home: string): string {
  return path.join(home, USER_STATE_DIR);
}

function fileName(index: number): string {
  return `journal-${String(index).padStart(10, '0')}.log`;
}

function listFiles(dir: string): { index: number; file: string; bytes: number }[] {
  const out: { index: number; file: string; bytes: number }[] = [];
  for (const name of fs.readdirSync(dir)) {
    const m = FILE_RE.exec(name);
    if (!m) continue;
    const file = path.join(dir, name);
    try {
      out.push({ index: Number(m[1]), file, bytes: fs.statSync(file).size });
    } catch {
      // deleted by a concurrent hook's pruning
    }
  }
  return out.sort((a, b) => a.index - b.index);
}

function readDropped(dir: string): { records: number; bytes: number } {
  try {
    const d = JSON.parse(fs.readFileSync(path.join(dir, 'dropped.json'), 'utf8')) as { records?: unknown; bytes?: unknown };
    return { records: typeof d.records === 'number' ? d.records : 0, bytes: typeof d.bytes === 'number' ? d.bytes : 0 };
  } catch {
    return { records: 0, bytes: 0 };
  }
}

/** Appends one record. Never throws. */
export function appendJournal(stateDir: string, record: unknown, opts: JournalOptions = {}): JournalWrite {
  const maxBytes = opts.maxBytes ?? DEFAULT_JOURNAL_MAX_BYTES;
  const rollBytes = Math.max(1024, Math.floor(maxBytes / 4));
  const dir = path.join(stateDir, JOURNAL_DIR);
  try {
    const payload = Buffer.from(JSON.stringify(record), 'utf8');
    if (payload.length > MAX_RECORD_BYTES) return { ok: false, code: AgentCodes.hookJournalIo, message: `journal record of ${payload.length} bytes exceeds ${MAX_RECORD_BYTES}` };
    const frame = encodeFrame(payload);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    let files = listFiles(dir);
    let last = files[files.length - 1];
    if (!last || last.bytes + frame.length > rollBytes) {
      last = { index: (last?.index ?? 0) + 1, file: path.join(dir, fileName((last?.index ?? 0) + 1)), bytes: 0 };
      files = [...files, last];
    }
    let dropped = 0;
    let total = files.reduce((n, f) => n + f.bytes, 0) + frame.length;
    // Drop the oldest files (never the one being written) until the bound holds; count what they held.
    while (total > maxBytes && files.length > 1) {
      const oldest = files.shift() as (typeof files)[number];
      let records = 0;
      try {
        records = scanBuffer(fs.readFileSync(oldest.file), 0, MAX_RECORD_BYTES).frames.length;
        fs.unlinkSync(oldest.file);
      } catch {
        records = 0; // a concurrent hook deleted it first and counted it
        total -= oldest.bytes;
        continue;
      }
      dropped += records;
      total -= oldest.bytes;
      const prev = readDropped(dir);
      fs.writeFileSync(path.join(dir, 'dropped.json'), JSON.stringify({ records: prev.records + records, bytes: prev.bytes + oldest.bytes }), { mode: 0o600 });
    }
    const fd = fs.openSync(last.file, 'a', 0o600);
    try {
      fs.writeSync(fd, frame);
    } finally {
      fs.closeSync(fd);
    }
    return { ok: true, dropped };
  } catch (e) {
    return { ok: false, code: AgentCodes.hookJournalIo, message: `hook journal ${dir}: ${(e as Error).message}` };
  }
}

/** Up to `max` bytes of `file` from `from`: a regular file only, opened without following a symlink. */
function readChunk(file: string, from: number, max: number): { buf: Buffer; size: number } | null {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | O_NOFOLLOW);
  } catch {
    return null;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return null;
    const want = Math.max(0, Math.min(max, st.size - from));
    const buf = Buffer.alloc(want);
    let got = 0;
    while (got < want) {
      const n = fs.readSync(fd, buf, got, want - got, from + got);
      if (n === 0) break;
      got += n;
    }
    return { buf: got === want ? buf : buf.subarray(0, got), size: st.size };
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Records after `after` (or from the start), reading at most `budgetBytes`. A missing journal is
 * empty. Never throws.
 */
export function readJournal(stateDir: string, after: JournalCursor = { file: 0, offset: 0 }, budgetBytes: number = READ_BUDGET_BYTES): JournalRead {
  const dir = path.join(stateDir, JOURNAL_DIR);
  const records: unknown[] = [];
  let cursor = after;
  let corrupted = 0;
  let unreadable = 0;
  let files: ReturnType<typeof listFiles> = [];
  try {
    files = listFiles(dir);
  } catch {
    return { records, cursor, dropped: { records: 0, bytes: 0 }, corrupted, unreadable };
  }
  let budget = Math.max(HEADER_AND_RECORD, budgetBytes);
  for (const f of files) {
    if (f.index < after.file) continue;
    if (budget <= 0) break;
    const from = f.index === after.file ? after.offset : 0;
    const chunk = readChunk(f.file, from, budget);
    if (!chunk) {
      unreadable++;
      cursor = { file: f.index + 1, offset: 0 }; // passed over: the next files still count
      continue;
    }
    budget -= chunk.buf.length;
    const scan = scanBuffer(chunk.buf, 0, MAX_RECORD_BYTES);
    corrupted += scan.corrupted;
    for (const fr of scan.frames) {
      try {
        records.push(JSON.parse(fr.payload.toString('utf8')));
      } catch {
        corrupted++;
      }
    }
    const cut = from + chunk.buf.length < chunk.size; // the budget ended the read inside this file
    let end = from + (scan.tornAt ?? chunk.buf.length);
    // A torn tail may be a record still being written by a hook: stop before it, read it next time.
    // But a cut read with no frame in it at all, when the chunk could hold the largest record, is
    // garbage longer than a record: step over it (no frame starting there fitted in the chunk),
    // counted as corrupted. A chunk cut short by what was left of the budget (the read crossed into
    // this file with less than a record's room) proves nothing: stop there, the next read starts
    // at the same offset with a whole budget.
    if (cut && scan.frames.length === 0 && scan.tornAt === 0 && chunk.buf.length >= HEADER_AND_RECORD) {
      end = from + Math.max(1, chunk.buf.length - HEADER_AND_RECORD);
      corrupted++;
    }
    cursor = { file: f.index, offset: end };
    if (cut) break;
  }
  return { records, cursor, dropped: readDropped(dir), corrupted, unreadable };
}

/**
 * What a reader can see of a journal without reading it: the folder (entries added or removed:
 * a new file, a pruned or dropped one) and the file at the cursor (appended to). Two equal
 * signatures mean nothing was written in between, on file systems with fine-grained times (a
 * caller still reads in full now and then). null: no journal folder.
 */
export function journalSignature(stateDir: string, cursor: JournalCursor): string | null {
  const dir = path.join(stateDir, JOURNAL_DIR);
  const d = fs.statSync(dir, { throwIfNoEntry: false });
  if (!d) return null;
  const f = fs.statSync(path.join(dir, fileName(cursor.file)), { throwIfNoEntry: false });
  return `${d.ino}:${d.mtimeMs}:${d.ctimeMs}:${d.nlink}|${f ? `${f.ino}:${f.size}:${f.mtimeMs}:${f.ctimeMs}` : '-'}`;
}

/** Deletes journal files wholly before the cursor's file. Never throws. */
export function pruneJournal(stateDir: string, cursor: JournalCursor): void {
  const dir = path.join(stateDir, JOURNAL_DIR);
  try {
    for (const f of listFiles(dir)) if (f.index < cursor.file) fs.unlinkSync(f.file);
  } catch {
    // the next prune retries
  }
}
