/**
 * Socket snapshot source: TCP connections and listeners with their owning pid, from /proc on
 * Linux (linux-socket-source.ts) or systeminformation's networkConnections(). Tests inject rows.
 * Never throws.
 */
import { MAX_SOCKET_ROWS, type SocketRow, type SocketSource, type SourceResult } from '../platform/source-types.js';

export { MAX_SOCKET_ROWS, type SocketRow, type SocketScope, type SocketSource } from '../platform/source-types.js';

/**
 * The real socket source: on Linux /proc for the processes in scope (systeminformation when /proc
 * cannot be read or no scope is given), elsewhere systeminformation's networkConnections().
 */
export function createSystemSocketSource(): SocketSource {
  const cache: { current: import('../platform/linux/socket-source.js').ProcSocketCache | null } = { current: null };
  return async (scope) => {
    if (process.platform === 'linux' && scope) {
      const { readProcSockets } = await import('../platform/linux/socket-source.js');
      const rows = await readProcSockets(scope.pids, scope.names, { cache });
      if (rows.ok) return rows;
    }
    return systemInformationSockets();
  };
}

/** All TCP/UDP sockets with owners, from systeminformation. */
export const systemInformationSockets = async (): Promise<SourceResult<SocketRow>> => {
  try {
    const si = await import('systeminformation');
    const conns = await si.default.networkConnections();
    const rows: SocketRow[] = conns.slice(0, MAX_SOCKET_ROWS).map((c) => ({
      protocol: String(c.protocol || 'tcp').toLowerCase(),
      localAddress: String(c.localAddress ?? ''),
      localPort: toPort(c.localPort),
      peerAddress: c.peerAddress && c.peerAddress !== '*' ? String(c.peerAddress) : null,
      peerPort: c.peerPort && c.peerPort !== '*' ? toPort(c.peerPort) : null,
      state: String(c.state ?? '').toUpperCase(),
      pid: typeof c.pid === 'number' && c.pid > 0 ? c.pid : null,
      processName: String(c.process ?? ''),
    }));
    return { ok: true, rows };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
  }
};

function toPort(v: unknown): number {
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : 0;
}
