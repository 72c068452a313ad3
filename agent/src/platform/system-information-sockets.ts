/**
 * Sockets from systeminformation's networkConnections(): the macOS and Windows source, and the
 * Linux fallback when /proc cannot be read or no scope is given. Never throws.
 */
import { MAX_SOCKET_ROWS, type SocketRow, type SourceResult } from './source-types.js';

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
