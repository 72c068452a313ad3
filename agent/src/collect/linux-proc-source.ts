/**
 * Linux process snapshot straight from /proc, without spawning `ps` (cheaper in steady state:
 * the agent polls every few seconds and its budget counts). Per process: /proc/<pid>/stat (name,
 * ppid, start time), /proc/<pid>/cmdline, the owner uid (stat of /proc/<pid>) and the executable
 * (readlink /proc/<pid>/exe, null when not permitted), read once per process (see ProcCache). A
 * process that exits mid-read is skipped.
 * Yields to the event loop every YIELD_EVERY processes. Never throws: an unreadable /proc comes
 * back as `{ ok: false }` (the caller falls back to ps-list).
 */
import { closeSync, openSync, readFileSync, readSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import type { ProcessRow, SourceResult } from './process-source.js';
import { MAX_PROCESS_ROWS } from './process-source.js';

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS_PER_S = 100;
const YIELD_EVERY = 200;
const MAX_CMDLINE_BYTES = 16 * 1024;

export interface ProcReadOptions {
  procRoot?: string;
}

function bootTimeMs(procRoot: string): number | null {
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync(`${procRoot}/stat`, 'utf8'));
    return m ? Number(m[1]) * 1000 : null;
  } catch {
    return null;
  }
}

/** Reused for stat lines (one short read per process and poll; no per-read allocation). */
const statBuffer = Buffer.alloc(4096);

/** Reads a small /proc file into a string with open/read/close (no fstat, no new buffer). */
function readSmall(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const n = readSync(fd, statBuffer, 0, statBuffer.length, 0);
    return statBuffer.toString('utf8', 0, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * Parses /proc/<pid>/stat: name (inside the last parentheses), ppid, start time in ticks. Walks
 * the fields instead of splitting the line (this runs for every process on every poll).
 */
export function parseProcStat(text: string): { name: string; ppid: number; startTicks: number } | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  // Fields after ") ": state(0) ppid(1) ... starttime(19).
  let pos = close + 2;
  let ppid = Number.NaN;
  let startTicks = Number.NaN;
  for (let field = 0; field <= 19 && pos < text.length; field++) {
    let end = text.indexOf(' ', pos);
    if (end < 0) end = text.length;
    if (field === 1) ppid = Number(text.slice(pos, end));
    else if (field === 19) startTicks = Number(text.slice(pos, end));
    pos = end + 1;
  }
  if (!Number.isInteger(ppid)) return null;
  return { name: text.slice(open + 1, close), ppid, startTicks };
}

/** Reads one process; null when it is gone or unreadable. */
function readOne(procRoot: string, pid: number, bootMs: number | null, cache: ProcCache | undefined): ProcessRow | null {
  const dir = `${procRoot}/${pid}`;
  let stat: ReturnType<typeof parseProcStat>;
  try {
    stat = parseProcStat(readSmall(`${dir}/stat`));
  } catch {
    return null;
  }
  if (!stat) return null;
  // Same pid and start time: the same process; its command line, owner and executable are kept.
  const known = cache?.get(pid);
  if (known && known.startTicks === stat.startTicks && known.row.ppid === stat.ppid) return known.row;
  let cmdline: string;
  let uid: number | null = null;
  try {
    const raw = readFileSync(`${dir}/cmdline`);
    cmdline = raw.subarray(0, MAX_CMDLINE_BYTES).toString('utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
    uid = statSync(dir).uid;
  } catch {
    return null;
  }
  let path: string | null = null;
  try {
    path = readlinkSync(`${dir}/exe`).replace(/ \(deleted\)$/, '');
  } catch {
    path = null;
  }
  const startedAt = bootMs !== null && Number.isFinite(stat.startTicks)
    ? new Date(bootMs + (stat.startTicks / CLOCK_TICKS_PER_S) * 1000).toISOString()
    : null;
  const row: ProcessRow = { pid, ppid: stat.ppid, name: stat.name, cmd: cmdline || `[${stat.name}]`, path, uid, startedAt };
  cache?.set(pid, { startTicks: stat.startTicks, row });
  return row;
}

/**
 * What a previous snapshot learned per pid. Entries of processes that are gone are dropped at
 * each snapshot, so it holds at most one entry per running process.
 */
export type ProcCache = Map<number, { startTicks: number; row: ProcessRow }> & { bootMs?: number | null };

/**
 * Snapshot of every process in /proc. With a cache, a process seen before (same pid, start time
 * and parent) costs one read of its stat file and comes back as the same row object; a process's
 * command line is therefore read once (a later change of its title is not seen).
 */
export async function readProcProcesses(options: ProcReadOptions & { cache?: ProcCache } = {}): Promise<SourceResult<ProcessRow>> {
  const procRoot = options.procRoot ?? '/proc';
  let names: string[];
  try {
    names = readdirSync(procRoot);
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
  }
  const bootMs = options.cache?.bootMs ?? bootTimeMs(procRoot);
  if (options.cache) options.cache.bootMs = bootMs;
  const rows: ProcessRow[] = [];
  let n = 0;
  for (const name of names) {
    if (rows.length >= MAX_PROCESS_ROWS) break;
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const row = readOne(procRoot, pid, bootMs, options.cache);
    if (row) rows.push(row);
    if (++n % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
  }
  if (options.cache) {
    const alive = new Set(rows.map((r) => r.pid));
    for (const pid of options.cache.keys()) if (!alive.has(pid)) options.cache.delete(pid);
  }
  return { ok: true, rows };
}

/** A /proc source that remembers what it read (one per agent). */
export function createProcProcessSource(options: ProcReadOptions = {}): () => Promise<SourceResult<ProcessRow>> {
  const cache: ProcCache = new Map();
  return () => readProcProcesses({ ...options, cache });
}
