/**
 * Sockets from systeminformation's networkConnections(): the macOS source, and the Linux fallback
 * when /proc cannot be read or no scope is given. Never throws. systeminformation answers an
 * empty list when its tool (netstat, lsof, ss) is missing or fails, and a running machine always
 * has some socket (the agent's own collector connection, the OS's services): so an empty table is
 * reported as `{ ok: false }` coded MCPW_ERR_SOCKET_SOURCE, not as "no sockets".
 */
import type { Systeminformation } from 'systeminformation';
import { AgentCodes, AgentError } from '../errors.js';
import { MAX_SOCKET_ROWS, type SocketRow, type SourceResult } from './source-types.js';

type Connections = () => Promise<Systeminformation.NetworkConnectionsData[]>;
const defaultConnections: Connections = async () => (await import('systeminformation')).default.networkConnections();

/** All TCP/UDP sockets with owners, from systeminformation (`connections` injectable for tests). */
export const systemInformationSockets = async (connections: Connections = defaultConnections): Promise<SourceResult<SocketRow>> => {
  try {
    const conns = await connections();
    if (conns.length === 0) return { ok: false, error: new AgentError(AgentCodes.socketSource, 'systeminformation listed no socket at all (netstat/lsof/ss missing or failed); the socket table is unknown') };
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
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, error: new AgentError(AgentCodes.socketSource, `systeminformation failed: ${reason}`, { cause: error }) };
  }
};

function toPort(v: unknown): number {
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : 0;
}
