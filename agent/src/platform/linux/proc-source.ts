/**
 * Linux process snapshot straight from /proc, without spawning `ps` (cheaper in steady state:
 * the agent polls every few seconds and its budget counts). Per process: /proc/<pid>/stat (name,
 * ppid, start time), /proc/<pid>/cmdline, the owner uid (stat of /proc/<pid>) and the executable
 * (readlink /proc/<pid>/exe, null when not permitted), read once per process (see ProcCache). A
 * process that exits mid-read is skipped.
 *
 * Steady state (with a cache): a process seen by the previous snapshot costs nothing while the pid
 * allocator shows that its pid cannot have been handed out again since then (see
 * ALLOCATOR_CHECK), else one pread of its stat file, through a descriptor kept open since then (no
 * open/close per poll). Such a descriptor stays bound to the process it was opened for: once that
 * process is gone, reading it fails (ESRCH) even if its pid now names another process, which is
 * then opened and read afresh.
 * At most MAX_HELD_FDS descriptors are held; the descriptor of a process that is gone is closed
 * at the next snapshot, and all of them when the cache is released (releaseProcCache) or
 * garbage-collected. A one-shot snapshot (no cache, or a first snapshot) holds none.
 * Yields to the event loop every YIELD_EVERY processes. Never throws: an unreadable /proc comes
 * back as `{ ok: false }` (the caller falls back to ps-list).
 */
import * as nodeFs from 'node:fs';
import { MAX_PROCESS_ROWS, type ProcessRow, type SourceResult } from '../source-types.js';

/**
 * ALLOCATOR_CHECK. Linux hands out pids in increasing order, wrapping at pid_max; /proc/loadavg's
 * last field is the last pid handed out (in the reader's pid namespace). When that value grew by
 * less than half of pid_max since the previous snapshot, every pid handed out meanwhile is above
 * the previous value, so a known process whose pid is at or below it is still that process: its
 * stat file need not be read (reading ~350–450 of them every 5 s was a tenth of `run`'s CPU in
 * its steady-state profile). The check trusts that value only while it agrees with what /proc
 * shows: a pid this cache does not know at or below the previous value (another pid namespace's
 * /proc, a wrap between two snapshots) means every known process is read again this time. What
 * this skips is only a change of parent (a process adopted when its parent exits): every
 * FULL_CHECK_EVERY-th snapshot reads every process anyway.
 */
const FULL_CHECK_EVERY = 6;

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS_PER_S = 100;
const YIELD_EVERY = 200;
const MAX_CMDLINE_BYTES = 16 * 1024;
/**
 * Stat descriptors kept open across snapshots, at most (Node raises its soft descriptor limit to
 * the hard one, 4096 or more on current distributions; the rest stays for everything else).
 * Processes beyond it are read with open/read/close as in a one-shot snapshot.
 */
export const MAX_HELD_FDS = 1024;

/** The file operations the source uses (node:fs; tests count and fake them). */
export interface ProcFs {
  openSync(path: string, flags: 'r'): number;
  readSync(fd: number, buffer: Buffer, offset: number, length: number, position: number): number;
  closeSync(fd: number): void;
  readFileSync(path: string): Buffer;
  readdirSync(path: string): string[];
  readlinkSync(path: string): string;
  statSync(path: string): { uid: number };
}

const NODE_FS: ProcFs = {
  openSync: (p, f) => nodeFs.openSync(p, f),
  readSync: (fd, b, o, l, pos) => nodeFs.readSync(fd, b, o, l, pos),
  closeSync: (fd) => nodeFs.closeSync(fd),
  readFileSync: (p) => nodeFs.readFileSync(p),
  readdirSync: (p) => nodeFs.readdirSync(p),
  readlinkSync: (p) => nodeFs.readlinkSync(p),
  statSync: (p) => nodeFs.statSync(p),
};

export interface ProcReadOptions {
  procRoot?: string;
  fs?: ProcFs;
}

function bootTimeMs(fs: ProcFs, procRoot: string): number | null {
  try {
    const m = /^btime (\d+)$/m.exec(fs.readFileSync(`${procRoot}/stat`).toString('utf8'));
    return m ? Number(m[1]) * 1000 : null;
  } catch {
    return null;
  }
}

/** Reused for stat lines (one short read per process and poll; no per-read allocation). */
const statBuffer = Buffer.alloc(4096);

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

const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;
const SPACE = 0x20;

/** What scanStat found in statBuffer (module scratch: no allocation per process and poll). */
let scannedPpid = Number.NaN;
let scannedStartTicks = Number.NaN;
let scannedNameOpen = -1;
let scannedNameClose = -1;

/** Reads the decimal digits of buf[from, to) (NaN when empty or not all digits). */
function digitsAt(buf: Buffer, from: number, to: number): number {
  if (to <= from) return Number.NaN;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = (buf[i] as number) - 0x30;
    if (d < 0 || d > 9) return Number.NaN;
    n = n * 10 + d;
  }
  return n;
}

/**
 * parseProcStat over the first `length` bytes of `buf`, without decoding them to a string: sets
 * the scanned* fields; false when the bytes are not a stat line.
 */
function scanStat(buf: Buffer, length: number): boolean {
  const open = buf.indexOf(OPEN_PAREN);
  const close = length > 0 ? buf.lastIndexOf(CLOSE_PAREN, length - 1) : -1;
  if (open < 0 || open >= length || close < open) return false;
  let pos = close + 2;
  let ppid = Number.NaN;
  let startTicks = Number.NaN;
  for (let field = 0; field <= 19 && pos < length; field++) {
    let end = buf.indexOf(SPACE, pos);
    if (end < 0 || end > length) end = length;
    if (field === 1) ppid = digitsAt(buf, pos, end);
    else if (field === 19) startTicks = digitsAt(buf, pos, end);
    pos = end + 1;
  }
  if (!Number.isInteger(ppid)) return false;
  scannedPpid = ppid;
  scannedStartTicks = startTicks;
  scannedNameOpen = open;
  scannedNameClose = close;
  return true;
}

/** What a previous snapshot learned about one process. */
export interface ProcEntry {
  startTicks: number;
  row: ProcessRow;
  /** Open descriptor of the process's stat file, when held. */
  fd?: number;
  /** Snapshot number that last saw the process. */
  seen?: number;
}

/**
 * What a previous snapshot learned per pid. Entries of processes that are gone are dropped (and
 * their descriptors closed) at each snapshot, so it holds at most one entry per running process.
 */
export type ProcCache = Map<number, ProcEntry> & {
  bootMs?: number | null;
  /** The allocator's last pid at the previous snapshot (ALLOCATOR_CHECK); null when unreadable. */
  lastPid?: number | null;
  /** Generation of the last snapshot that read every known process. */
  fullCheckAt?: number;
  /** Pids the previous snapshot listed but could not read (not in the map; not new either). */
  unreadable?: Set<number>;
  pidMax?: number;
  /** Snapshots taken with this cache. */
  generation?: number;
  /** Descriptors held by the entries (closed when the cache is released or collected). */
  heldFds?: Set<number>;
  fs?: ProcFs;
};

/** Closes descriptors a dropped cache still held. */
const heldFdsRegistry = new FinalizationRegistry<{ fs: ProcFs; fds: Set<number> }>(({ fs, fds }) => closeAll(fs, fds));

function closeAll(fs: ProcFs, fds: Set<number>): void {
  for (const fd of fds) closeQuietly(fs, fd);
  fds.clear();
}

function closeQuietly(fs: ProcFs, fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // already closed: nothing held
  }
}

function dropFd(cache: ProcCache, fs: ProcFs, entry: ProcEntry): void {
  if (entry.fd === undefined) return;
  closeQuietly(fs, entry.fd);
  cache.heldFds?.delete(entry.fd);
  delete entry.fd;
}

/** Closes every descriptor `cache` holds and empties it (a later snapshot starts afresh). */
export function releaseProcCache(cache: ProcCache): void {
  if (cache.heldFds) closeAll(cache.fs ?? NODE_FS, cache.heldFds);
  for (const entry of cache.values()) delete entry.fd;
  cache.clear();
}

/** Reads one process; null when it is gone or unreadable. */
function readOne(fs: ProcFs, procRoot: string, pid: number, bootMs: number | null, cache: ProcCache | undefined): ProcessRow | null {
  const known = cache?.get(pid);
  let length = -1;
  if (known?.fd !== undefined && cache) {
    try {
      length = fs.readSync(known.fd, statBuffer, 0, statBuffer.length, 0);
    } catch {
      // That process is gone (ESRCH); the pid may name another one now: opened afresh below.
      dropFd(cache, fs, known);
      length = -1;
    }
  }
  let fd: number | undefined;
  if (length < 0) {
    try {
      fd = fs.openSync(`${procRoot}/${pid}/stat`, 'r');
      length = fs.readSync(fd, statBuffer, 0, statBuffer.length, 0);
    } catch {
      if (fd !== undefined) closeQuietly(fs, fd);
      return null;
    }
  }
  const parsed = scanStat(statBuffer, length);
  // Same pid, start time and parent: the same process; its command line, owner and executable are kept.
  if (parsed && known && cache && known.startTicks === scannedStartTicks && known.row.ppid === scannedPpid) {
    known.seen = cache.generation;
    if (fd !== undefined) {
      // Seen by two snapshots in a row: keep its stat descriptor for the next ones.
      const held = cache.heldFds ?? new Set<number>();
      if (known.fd === undefined && held.size < MAX_HELD_FDS) {
        known.fd = fd;
        held.add(fd);
      } else {
        closeQuietly(fs, fd);
      }
    }
    return known.row;
  }
  if (fd !== undefined) closeQuietly(fs, fd);
  if (known && cache) dropFd(cache, fs, known);
  if (!parsed) return null;
  const ppid = scannedPpid;
  const startTicks = scannedStartTicks;
  const name = statBuffer.toString('utf8', scannedNameOpen + 1, scannedNameClose);
  const dir = `${procRoot}/${pid}`;
  let cmdline: string;
  let uid: number | null = null;
  try {
    const raw = fs.readFileSync(`${dir}/cmdline`);
    cmdline = raw.subarray(0, MAX_CMDLINE_BYTES).toString('utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
    uid = fs.statSync(dir).uid;
  } catch {
    return null;
  }
  let path: string | null = null;
  try {
    path = fs.readlinkSync(`${dir}/exe`).replace(/ \(deleted\)$/, '');
  } catch {
    path = null;
  }
  const startedAt = bootMs !== null && Number.isFinite(startTicks)
    ? new Date(bootMs + (startTicks / CLOCK_TICKS_PER_S) * 1000).toISOString()
    : null;
  const row: ProcessRow = { pid, ppid, name, cmd: cmdline || `[${name}]`, path, uid, startedAt };
  cache?.set(pid, { startTicks, row, seen: cache.generation });
  return row;
}

/**
 * Snapshot of every process in /proc. With a cache, a process seen before (same pid, start time
 * and parent) costs one read of its stat file and comes back as the same row object; a process's
 * command line is therefore read once (a later change of its title is not seen).
 */
export async function readProcProcesses(options: ProcReadOptions & { cache?: ProcCache } = {}): Promise<SourceResult<ProcessRow>> {
  const procRoot = options.procRoot ?? '/proc';
  const cache = options.cache;
  const fs = options.fs ?? cache?.fs ?? NODE_FS;
  let names: string[];
  try {
    names = fs.readdirSync(procRoot);
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
  }
  if (cache) {
    cache.generation = (cache.generation ?? 0) + 1;
    cache.fs ??= fs;
    if (!cache.heldFds) {
      cache.heldFds = new Set();
      heldFdsRegistry.register(cache, { fs, fds: cache.heldFds });
    }
  }
  const bootMs = cache?.bootMs ?? bootTimeMs(fs, procRoot);
  if (cache) cache.bootMs = bootMs;
  const pids: number[] = [];
  for (const name of names) {
    const pid = Number(name);
    if (Number.isInteger(pid) && pid > 0) pids.push(pid);
  }
  const keptUpTo = cache ? unchangedUpTo(fs, procRoot, cache, pids) : -1;
  const unreadable = new Set<number>();
  const rows: ProcessRow[] = [];
  let n = 0;
  for (const pid of pids) {
    if (rows.length >= MAX_PROCESS_ROWS) break;
    const known = pid <= keptUpTo ? cache?.get(pid) : undefined;
    let row: ProcessRow | null;
    if (known && cache) {
      known.seen = cache.generation;
      row = known.row;
    } else {
      row = readOne(fs, procRoot, pid, bootMs, cache);
    }
    if (row) rows.push(row);
    else unreadable.add(pid);
    if (++n % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
  }
  if (cache) cache.unreadable = unreadable;
  if (cache) {
    for (const [pid, entry] of cache) {
      if (entry.seen === cache.generation) continue;
      dropFd(cache, fs, entry);
      cache.delete(pid);
    }
  }
  return { ok: true, rows };
}

/** The last field of /proc/loadavg (the last pid handed out), or null. */
function allocatorLastPid(fs: ProcFs, procRoot: string): number | null {
  try {
    const m = /\s(\d+)\s*$/.exec(fs.readFileSync(`${procRoot}/loadavg`).toString('latin1'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function pidMaxOf(fs: ProcFs, procRoot: string): number {
  try {
    const n = Number(fs.readFileSync(`${procRoot}/sys/kernel/pid_max`).toString('latin1').trim());
    return Number.isInteger(n) && n > 0 ? n : 32_768;
  } catch {
    return 32_768; // the kernel's smallest default: the most careful bound
  }
}

/**
 * The highest pid whose known process need not be read again at this snapshot (ALLOCATOR_CHECK),
 * or -1: read every one. Records the allocator's value for the next snapshot.
 */
function unchangedUpTo(fs: ProcFs, procRoot: string, cache: ProcCache, pids: readonly number[]): number {
  const before = cache.lastPid ?? null;
  const now = allocatorLastPid(fs, procRoot);
  cache.lastPid = now;
  cache.pidMax ??= pidMaxOf(fs, procRoot);
  const generation = cache.generation ?? 0;
  const due = generation - (cache.fullCheckAt ?? 0) >= FULL_CHECK_EVERY;
  let upTo = before !== null && now !== null && now >= before && now - before < cache.pidMax / 2 && !due ? before : -1;
  for (let i = 0; upTo >= 0 && i < pids.length; i++) {
    const pid = pids[i] as number;
    // A process new to this cache at or below the previous value: the allocator's word does not hold here.
    if (pid <= upTo && !cache.has(pid) && !cache.unreadable?.has(pid)) upTo = -1;
  }
  if (upTo < 0) cache.fullCheckAt = generation;
  return upTo;
}

/** A /proc source that remembers what it read (one per agent). */
export function createProcProcessSource(options: ProcReadOptions = {}): () => Promise<SourceResult<ProcessRow>> {
  const cache: ProcCache = new Map();
  return () => readProcProcesses({ ...options, cache });
}
