/**
 * Linux listening TCP sockets straight from /proc, for the tool prober (probe/, tools/), without
 * spawning `ss`/`netstat` at every probe poll: /proc/net/tcp and /proc/net/tcp6 give the
 * listening sockets with their inodes (only their listening part is read: readProcNetListeners). The owner of an inode is looked up once and kept while the
 * socket lives: first among the `priority` pids (the known MCP server processes: a few fd folders),
 * then, for inodes still unknown, by walking every /proc/<pid>/fd (lowest pid first, so a socket
 * shared by a forking server's workers is the master's; stopping once every unknown inode is
 * found) at most once per `walkEveryMs` (default 60 s: on a developer's machine listeners come
 * and go all the time, and a walk reads every descriptor of every process). Until a walk finds
 * it, or when no walk can (another user's process, no privilege), a socket's pid is null, as ss
 * shows it. Each row carries its inode: the same inode is the same socket, so the prober knows a
 * listener was not restarted whatever it learns about its owner later.
 *
 * Bounded: at most MAX_PROCESS_ROWS processes walked, MAX_SOCKET_ROWS rows, 32 MiB of each table
 * (readProcNet); yields to the event loop every YIELD_EVERY processes. Never throws: a /proc/net that
 * cannot be read comes back as `{ ok: false }` (the caller falls back to its socket source).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { MAX_PROCESS_ROWS, MAX_SOCKET_ROWS, type SocketRow, type SourceResult } from '../source-types.js';
import { parseProcNet, readProcNetListeners, socketInodes } from './socket-source.js';

const YIELD_EVERY = 200;

/** A listening socket with the inode that identifies it. */
export interface ListenerRow extends SocketRow {
  inode: number;
}

interface Owner {
  pid: number | null;
  processName: string;
}

function comm(procRoot: string, pid: number): string {
  try {
    return readFileSync(`${procRoot}/${pid}/comm`, 'utf8').trim().slice(0, 256);
  } catch {
    return '';
  }
}

/** The owners of `wanted` inodes (those found), walking every process's fd links. */
async function findOwners(procRoot: string, wanted: ReadonlySet<number>): Promise<Map<number, Owner>> {
  const out = new Map<number, Owner>();
  let pids: number[];
  try {
    pids = readdirSync(procRoot).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b).slice(0, MAX_PROCESS_ROWS);
  } catch {
    return out;
  }
  for (let i = 0; i < pids.length && out.size < wanted.size; i++) {
    if (i > 0 && i % YIELD_EVERY === 0) await new Promise<void>((r) => setImmediate(r));
    const pid = pids[i] as number;
    for (const inode of socketInodes(procRoot, pid)) {
      if (wanted.has(inode) && !out.has(inode)) out.set(inode, { pid, processName: comm(procRoot, pid) });
    }
  }
  return out;
}

export interface ProcListenerOptions {
  procRoot?: string;
  /** Least time between two walks of every process's descriptors. Default 60 s. */
  walkEveryMs?: number;
  now?: () => number;
}

/** Listening sockets; `priority`: pids whose sockets are looked up at once (see the module comment). */
export type ProcListenerSource = (priority?: ReadonlySet<number>) => Promise<SourceResult<ListenerRow>>;

/** A listener source keeping the owners it found between calls (see the module comment). */
export function createProcListenerSource(options: ProcListenerOptions = {}): ProcListenerSource {
  const procRoot = options.procRoot ?? '/proc';
  const walkEveryMs = options.walkEveryMs ?? 60_000;
  const now = options.now ?? Date.now;
  /** Owners by inode; pid null once a walk did not find it (not looked for again). */
  let owners = new Map<number, Owner>();
  let lastWalk = -Infinity;
  return async (priority = new Set<number>()) => {
    const listening: { protocol: 'tcp' | 'tcp6'; address: string; port: number; inode: number }[] = [];
    let readAny = false;
    for (const protocol of ['tcp', 'tcp6'] as const) {
      const text = readProcNetListeners(procRoot, protocol);
      if (text === null) continue;
      readAny = true;
      for (const s of parseProcNet(text, protocol, 'LISTEN')) {
        if (s.inode <= 0 || listening.length >= MAX_SOCKET_ROWS) continue;
        listening.push({ protocol, address: s.local.address, port: s.local.port, inode: s.inode });
      }
    }
    if (!readAny) return { ok: false, error: new Error(`cannot read ${procRoot}/net/tcp or ${procRoot}/net/tcp6`) };
    const unknown = new Set(listening.map((l) => l.inode).filter((i) => !owners.has(i)));
    const found = new Map<number, Owner>();
    for (const pid of unknown.size > 0 ? priority : []) {
      for (const inode of socketInodes(procRoot, pid)) if (unknown.has(inode) && !found.has(inode)) found.set(inode, { pid, processName: comm(procRoot, pid) });
    }
    const stillUnknown = new Set([...unknown].filter((i) => !found.has(i)));
    let walked = false;
    if (stillUnknown.size > 0 && now() - lastWalk >= walkEveryMs) {
      lastWalk = now();
      walked = true;
      for (const [inode, owner] of await findOwners(procRoot, stillUnknown)) found.set(inode, owner);
    }
    const next = new Map<number, Owner>();
    const rows: ListenerRow[] = [];
    for (const l of listening) {
      const owner = owners.get(l.inode) ?? found.get(l.inode) ?? null;
      if (owner) next.set(l.inode, owner);
      else if (walked) next.set(l.inode, { pid: null, processName: '' }); // no walk will find it
      const o = owner ?? { pid: null, processName: '' };
      rows.push({ protocol: l.protocol, localAddress: l.address, localPort: l.port, peerAddress: null, peerPort: null, state: 'LISTEN', pid: o.pid, processName: o.processName, inode: l.inode });
    }
    owners = next; // sockets that are gone are forgotten
    return { ok: true, rows };
  };
}
