/**
 * Linux TCP sockets of chosen processes straight from /proc, without spawning `ss`/`netstat`:
 * /proc/net/tcp and /proc/net/tcp6 give the sockets with their inode, /proc/<pid>/fd links
 * (`socket:[inode]`) give the owner. Only the pids asked for are looked at (the MCP processes and
 * their clients' trees), and the tables are re-read only when those processes' sockets change
 * (see ProcSocketCache). Never throws: a /proc that cannot
 * be read comes back as `{ ok: false }` (the caller falls back to systeminformation).
 */
import { closeSync, openSync, readFileSync, readSync, readdirSync, readlinkSync } from 'node:fs';
import { MAX_SOCKET_ROWS, type SocketRow, type SourceResult } from '../source-types.js';

/** TCP states of /proc/net/tcp (include/net/tcp_states.h). */
const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED', '02': 'SYN_SENT', '03': 'SYN_RECV', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2', '06': 'TIME_WAIT',
  '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN', '0B': 'CLOSING',
};
const MAX_FDS_PER_PROCESS = 4096;
const MAX_NET_BYTES = 32 * 1024 * 1024;

/** Decodes a /proc/net address (`0100007F:0CEA`, IPv6 as four little-endian words). */
export function decodeProcAddress(hex: string): { address: string; port: number } | null {
  const [addr, portHex] = hex.split(':');
  if (!addr || !portHex) return null;
  const port = parseInt(portHex, 16);
  if (addr.length === 8) {
    const n = parseInt(addr, 16);
    return { address: [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255].join('.'), port };
  }
  if (addr.length !== 32) return null;
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = addr.slice(w * 8, w * 8 + 8);
    for (let b = 3; b >= 0; b--) bytes.push(parseInt(word.slice(b * 2, b * 2 + 2), 16));
  }
  // IPv4-mapped (::ffff:a.b.c.d): give the IPv4 form, as ss and netstat do.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255) {
    return { address: bytes.slice(12).join('.'), port };
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return { address: compressIpv6(groups), port };
}

function compressIpv6(groups: string[]): string {
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** One parsed line of /proc/net/tcp[6]. */
export interface ProcNetSocket {
  protocol: 'tcp' | 'tcp6';
  local: { address: string; port: number };
  peer: { address: string; port: number };
  state: string;
  inode: number;
}

/** Parses the text of /proc/net/tcp or /proc/net/tcp6 (only sockets in `onlyState`, e.g. LISTEN, when given). Bad lines are skipped. */
export function parseProcNet(text: string, protocol: 'tcp' | 'tcp6', onlyState?: string): ProcNetSocket[] {
  const out: ProcNetSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    if (onlyState !== undefined && TCP_STATES[(f[3] ?? '').toUpperCase()] !== onlyState) continue;
    const local = decodeProcAddress(f[1] ?? '');
    const peer = decodeProcAddress(f[2] ?? '');
    const inode = Number(f[9]);
    if (!local || !peer || !Number.isInteger(inode)) continue;
    out.push({ protocol, local, peer, state: TCP_STATES[(f[3] ?? '').toUpperCase()] ?? 'UNKNOWN', inode });
  }
  return out;
}

/** The text of /proc/net/tcp or tcp6 (at most MAX_NET_BYTES), or null when it cannot be read. */
export function readProcNet(procRoot: string, protocol: 'tcp' | 'tcp6'): string | null {
  try {
    return readFileSync(`${procRoot}/net/${protocol}`, 'utf8').slice(0, MAX_NET_BYTES);
  } catch {
    return null;
  }
}

/** Bytes asked for per read of the LISTEN prefix (the kernel formats about this much per call). */
const LISTEN_READ_BYTES = 4096;

/**
 * Whether the complete lines of a /proc/net/tcp[6] text (header skipped) include one whose
 * state is not LISTEN (0A). `from` is where to start looking (a line start).
 */
function hasNonListenLine(text: string, from: number): boolean {
  let start = from;
  for (;;) {
    const end = text.indexOf('\n', start);
    if (end < 0) return false;
    const f = text.slice(start, end).trim().split(/\s+/);
    if (f.length >= 4 && f[0] !== 'sl' && (f[3] ?? '').toUpperCase() !== '0A') return true;
    start = end + 1;
  }
}

/**
 * The listening sockets' part of /proc/net/tcp or tcp6. The kernel prints its listening hash
 * first and the established hash after it (net/ipv4/tcp_ipv4.c, tcp_get_idx: listening_get_idx,
 * then established_get_idx; tcp6 the same through tcp_seq_ops), so reading stops after the
 * chunk holding the first line in another state: formatting the established part (every
 * connection, TIME_WAIT included, through a walk of the whole connection hash) is most of what
 * reading the table costs on a busy machine. The text ends at a line end (a record cut by the
 * last read is left out). Parse it with onlyState 'LISTEN'. At most MAX_NET_BYTES; null when
 * unreadable.
 */
export function readProcNetListeners(procRoot: string, protocol: 'tcp' | 'tcp6'): string | null {
  let fd: number;
  try {
    fd = openSync(`${procRoot}/net/${protocol}`, 'r');
  } catch {
    return null;
  }
  try {
    const buf = Buffer.allocUnsafe(LISTEN_READ_BYTES);
    let text = '';
    let checked = 0;
    while (text.length < MAX_NET_BYTES) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      text += buf.toString('latin1', 0, n);
      const lastNl = text.lastIndexOf('\n');
      if (hasNonListenLine(text, checked)) return text.slice(0, lastNl + 1);
      if (lastNl >= 0) checked = lastNl + 1;
    }
    return text.slice(0, MAX_NET_BYTES);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** Socket inodes a process holds, from its fd links (at most MAX_FDS_PER_PROCESS fds looked at). */
export function socketInodes(procRoot: string, pid: number): number[] {
  const dir = `${procRoot}/${pid}/fd`;
  let fds: string[];
  try {
    fds = readdirSync(dir).slice(0, MAX_FDS_PER_PROCESS);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`${dir}/${fd}`));
      if (m) out.push(Number(m[1]));
    } catch {
      // fd closed meanwhile
    }
  }
  return out;
}

/**
 * What the last read of the socket tables found, for the same set of socket inodes. Reading
 * /proc/net/tcp costs the kernel a walk of its whole connection hash table (milliseconds even on
 * a quiet machine), so while the processes in scope hold exactly the same sockets, all of them
 * listening or established, the tables are not read again (up to maxAgeMs).
 */
export interface ProcSocketCache {
  key: string;
  rows: SocketRow[];
  at: number;
}

export interface ProcSocketOptions {
  procRoot?: string;
  cache?: { current: ProcSocketCache | null };
  maxAgeMs?: number;
  now?: () => number;
}

const STABLE_STATES = new Set(['LISTEN', 'ESTABLISHED']);

/** TCP sockets owned by `pids` (name of each process from `names`). */
export async function readProcSockets(
  pids: ReadonlySet<number>,
  names: ReadonlyMap<number, string> = new Map(),
  options: ProcSocketOptions = {},
): Promise<SourceResult<SocketRow>> {
  const procRoot = options.procRoot ?? '/proc';
  const now = options.now ?? Date.now;
  const owner = new Map<number, number>();
  for (const pid of pids) for (const inode of socketInodes(procRoot, pid)) owner.set(inode, pid);
  const key = [...owner].sort((a, b) => a[0] - b[0]).map(([i, p]) => `${i}:${p}`).join(',');
  const cached = options.cache?.current;
  if (cached && cached.key === key && now() - cached.at < (options.maxAgeMs ?? 60_000)) {
    return { ok: true, rows: cached.rows.map((r) => ({ ...r, processName: names.get(r.pid ?? -1) ?? r.processName })) };
  }
  const rows: SocketRow[] = [];
  let readAny = false;
  for (const protocol of ['tcp', 'tcp6'] as const) {
    if (owner.size === 0 && readAny) break;
    const text = readProcNet(procRoot, protocol);
    if (text === null) continue;
    readAny = true;
    if (owner.size === 0) break;
    for (const s of parseProcNet(text, protocol)) {
      const pid = owner.get(s.inode);
      if (pid === undefined || rows.length >= MAX_SOCKET_ROWS) continue;
      rows.push({
        protocol,
        localAddress: s.local.address,
        localPort: s.local.port,
        peerAddress: s.state === 'LISTEN' ? null : s.peer.address,
        peerPort: s.state === 'LISTEN' ? null : s.peer.port,
        state: s.state,
        pid,
        processName: names.get(pid) ?? '',
      });
    }
  }
  if (!readAny) return { ok: false, error: new Error(`cannot read ${procRoot}/net/tcp`) };
  if (options.cache) {
    options.cache.current = rows.every((r) => STABLE_STATES.has(r.state)) ? { key, rows, at: now() } : null;
  }
  return { ok: true, rows };
}
