/**
 * Picks the MCP-related sockets out of a socket snapshot:
 *  - kind 'listen': TCP listeners owned by MCP server processes (local HTTP/SSE servers), with
 *    `allInterfaces` set when bound to 0.0.0.0 / :: (reachable from the network);
 *  - kind 'remote': established TCP connections from a client's process tree (or a server/bridge
 *    process) to an address that a configured remote MCP server's host name resolves to.
 * Pure; host names are resolved by the caller (see host-resolver.ts). Never throws.
 */
import type { ProcessRecord, ServerEntry, SocketRecord } from '@mcpwatch/shared';
import type { ProcessRow, SocketRow } from '../platform/source-types.js';
import { MAX_ANCESTOR_DEPTH } from './processes.js';

const ALL_INTERFACES = new Set(['0.0.0.0', '::', '*', '::0', '[::]', '']);
/** Upper bound on socket records in one inventory. */
export const MAX_SOCKET_RECORDS = 2000;

/** A remote server endpoint named in a config. */
export interface RemoteTarget {
  host: string;
  port: number;
  serverKey: string;
  client: string;
}

const targetMemo = new WeakMap<readonly ServerEntry[], RemoteTarget[]>();

/** Host and port of every remote server (url or a bridge's remoteUrl); remembered per servers list. */
export function remoteTargets(servers: readonly ServerEntry[]): RemoteTarget[] {
  const memo = targetMemo.get(servers);
  if (memo) return memo;
  const out: RemoteTarget[] = [];
  targetMemo.set(servers, out);
  for (const s of servers) {
    for (const raw of [s.url, s.remoteUrl]) {
      if (!raw) continue;
      try {
        const u = new URL(raw);
        const port = u.port ? Number(u.port) : u.protocol === 'http:' || u.protocol === 'ws:' ? 80 : 443;
        out.push({ host: u.hostname.replace(/^\[|\]$/g, '').toLowerCase(), port, serverKey: s.serverKey, client: s.client });
      } catch {
        // not a URL: nothing to match
      }
    }
  }
  return out;
}

export interface SocketCollectInput {
  sockets: readonly SocketRow[];
  /** The full process snapshot (to find a client's helper processes). */
  rows: readonly ProcessRow[];
  processes: readonly ProcessRecord[];
  servers: readonly ServerEntry[];
  /** host name → addresses (from HostResolver). */
  resolved: ReadonlyMap<string, string[]>;
}

/** Selects and labels MCP-related sockets; sorted for stable diffs. */
export function collectSockets(input: SocketCollectInput): SocketRecord[] {
  const serverProc = new Map<number, ProcessRecord>();
  const clientPid = new Map<number, string>();
  for (const p of input.processes) {
    if (p.kind === 'server') serverProc.set(p.pid, p);
    else if (p.client) clientPid.set(p.pid, p.client);
  }
  // Built only for a socket that needs it (most polls have none: listeners carry their record).
  let byPid: Map<number, ProcessRow> | null = null;
  const rowOf = (pid: number): ProcessRow | undefined => (byPid ??= new Map(input.rows.map((r) => [r.pid, r]))).get(pid);
  const clientTree = (pid: number): string | null => {
    let cur: number | null = pid;
    for (let i = 0; cur !== null && i <= MAX_ANCESTOR_DEPTH; i++) {
      const c = clientPid.get(cur);
      if (c) return c;
      cur = rowOf(cur)?.ppid ?? null;
    }
    return null;
  };

  const byAddress = new Map<string, RemoteTarget[]>();
  for (const t of remoteTargets(input.servers)) {
    for (const addr of input.resolved.get(t.host) ?? []) {
      const list = byAddress.get(addr) ?? [];
      list.push(t);
      byAddress.set(addr, list);
    }
  }

  const out: SocketRecord[] = [];
  for (const s of input.sockets) {
    if (out.length >= MAX_SOCKET_RECORDS) break;
    if (s.pid === null || !s.protocol.startsWith('tcp')) continue;
    const protocol = s.protocol === 'tcp6' || s.localAddress.includes(':') ? 'tcp6' : 'tcp';
    const proc = serverProc.get(s.pid);
    if (s.state === 'LISTEN') {
      if (!proc) continue;
      out.push({
        pid: s.pid,
        processName: (proc.name || s.processName).slice(0, 512),
        protocol,
        localAddress: s.localAddress.slice(0, 128) || '*',
        localPort: s.localPort,
        peerAddress: null,
        peerPort: null,
        kind: 'listen',
        allInterfaces: ALL_INTERFACES.has(s.localAddress),
        serverKey: proc.serverKey ?? null,
        client: proc.client ?? null,
      });
      continue;
    }
    if (s.state !== 'ESTABLISHED' || !s.peerAddress) continue;
    const peer = s.peerAddress.replace(/^::ffff:/i, '');
    const targets = byAddress.get(peer) ?? byAddress.get(s.peerAddress);
    if (!targets) continue;
    const client = proc?.client ?? clientTree(s.pid);
    if (!proc && !client) continue;
    const target = targets.find((t) => t.port === s.peerPort && (!client || t.client === client)) ??
      targets.find((t) => t.port === s.peerPort);
    if (!target) continue;
    out.push({
      pid: s.pid,
      processName: (proc?.name || s.processName || rowOf(s.pid)?.name || '').slice(0, 512),
      protocol,
      localAddress: s.localAddress.slice(0, 128),
      localPort: s.localPort,
      peerAddress: s.peerAddress.slice(0, 256),
      peerPort: s.peerPort,
      kind: 'remote',
      allInterfaces: false,
      serverKey: target.serverKey,
      client: client ?? target.client,
    });
  }
  return out.sort((a, b) => a.pid - b.pid || a.localPort - b.localPort || (a.peerPort ?? 0) - (b.peerPort ?? 0));
}
