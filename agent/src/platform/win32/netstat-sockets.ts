/**
 * Windows sockets from `netstat -ano` (System32's netstat.exe: no PowerShell, no WMI), each with
 * its owning pid. Data lines are recognised by their protocol (TCP/UDP, any header language):
 *   TCP  <local>  <foreign>  <state>  <pid>      UDP  <local>  *:*  <pid>
 * Addresses are `a.b.c.d:port` or `[v6%zone]:port`; states are mapped to the Linux names the
 * collectors use (LISTENING -> LISTEN, the rest unchanged). Process names come from the scope the
 * caller passes (netstat -o prints pids only).
 *
 * Contract: never throws. netstat missing, failing or timing out, output with no socket line, or
 * lines without the PID column are `{ ok: false }` with an AgentError coded
 * MCPW_ERR_SOCKET_SOURCE. The last one is Wine's netstat (8.0), which ignores `-o` and prints four
 * columns: sockets that cannot be tied to a process are reported as that failure, not as an empty
 * list. (Wine's netstat also omits TCP listeners of host processes: what it prints is not the
 * whole socket table of the Linux host it runs on.)
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { AgentCodes, AgentError } from '../../errors.js';
import { MAX_SOCKET_ROWS, type SocketRow, type SocketScope, type SourceResult } from '../source-types.js';

/** Runs `netstat -ano` and returns its standard output. */
export type NetstatRunner = () => Promise<string>;

const NETSTAT_TIMEOUT_MS = 15_000;
const NETSTAT_MAX_BYTES = 32 * 1024 * 1024;

/** System32's netstat.exe (not whatever `netstat` is first on PATH). */
function netstatPath(env: NodeJS.ProcessEnv = process.env): string {
  const root = env.SystemRoot ?? env.SYSTEMROOT ?? env.windir ?? 'C:\\Windows';
  return path.win32.join(root, 'System32', 'netstat.exe');
}

const defaultRunner: NetstatRunner = () =>
  new Promise((resolve, reject) => {
    const child = execFile(netstatPath(), ['-ano'], { windowsHide: true, timeout: NETSTAT_TIMEOUT_MS, maxBuffer: NETSTAT_MAX_BYTES, encoding: 'latin1' }, (error, stdout) => {
      if (error) reject(error);
      else resolve(stdout);
    });
    child.stdin?.end();
  });

/** `0.0.0.0:135`, `[::]:445`, `[fe80::1%7]:139`, `*:*` -> address and port (null for `*`). */
export function splitEndpoint(text: string): { address: string; port: number | null } | null {
  const m = /^(?:\[([^\]]*)\]|([^:]*|\*)):(\d+|\*)$/.exec(text);
  if (!m) return null;
  const address = m[1] ?? m[2] ?? '';
  const port = m[3] === '*' ? null : Number(m[3]);
  if (port !== null && (port < 0 || port > 65535)) return null;
  return { address: address.replace(/%.*$/, ''), port };
}

const STATE_NAMES: Readonly<Record<string, string>> = { LISTENING: 'LISTEN', LISTEN: 'LISTEN' };

/** What one netstat output yields: rows, and the count of socket lines that had no PID column. */
export interface NetstatParse {
  rows: SocketRow[];
  socketLines: number;
  withoutPid: number;
  unparsed: number;
}

/** Parses `netstat -ano` output (any header language; CRLF or LF). */
export function parseNetstat(stdout: string, names: ReadonlyMap<number, string> = new Map()): NetstatParse {
  const out: NetstatParse = { rows: [], socketLines: 0, withoutPid: 0, unparsed: 0 };
  for (const line of stdout.split(/\r?\n/)) {
    const fields = line.trim().split(/\s+/);
    const proto = fields[0]?.toUpperCase();
    if (proto !== 'TCP' && proto !== 'UDP' && proto !== 'TCPV6' && proto !== 'UDPV6') continue;
    out.socketLines += 1;
    const tcp = proto.startsWith('TCP');
    const withPid = tcp ? 5 : 4;
    if (fields.length === withPid - 1) {
      out.withoutPid += 1;
      continue;
    }
    const local = splitEndpoint(fields[1] ?? '');
    const peer = splitEndpoint(fields[2] ?? '');
    const pid = Number(fields[withPid - 1]);
    if (fields.length !== withPid || !local || local.port === null || !peer || !Number.isInteger(pid) || pid < 0) {
      out.unparsed += 1;
      continue;
    }
    if (out.rows.length >= MAX_SOCKET_ROWS) continue;
    const state = tcp ? (STATE_NAMES[fields[3]!] ?? fields[3]!) : '';
    const listening = state === 'LISTEN';
    out.rows.push({
      protocol: `${tcp ? 'tcp' : 'udp'}${local.address.includes(':') ? '6' : ''}`,
      localAddress: local.address,
      localPort: local.port,
      peerAddress: listening || peer.address === '*' ? null : peer.address,
      peerPort: listening ? null : peer.port,
      state,
      pid: pid > 0 ? pid : null,
      processName: names.get(pid) ?? '',
    });
  }
  return out;
}

/** Turns a parse into a source result: sockets without owners or no sockets at all are failures. */
export function netstatResult(parse: NetstatParse): SourceResult<SocketRow> {
  if (parse.withoutPid > 0) {
    return {
      ok: false,
      error: new AgentError(
        AgentCodes.socketSource,
        `netstat -ano printed ${parse.withoutPid} of ${parse.socketLines} socket line(s) without the PID column (Wine's netstat ignores -o): sockets cannot be tied to processes`,
      ),
    };
  }
  if (parse.rows.length === 0) {
    const why = parse.socketLines === 0 ? 'no socket line' : `${parse.unparsed} socket line(s), none parsed`;
    return { ok: false, error: new AgentError(AgentCodes.socketSource, `netstat -ano printed ${why}; the socket table is unknown`) };
  }
  return { ok: true, rows: parse.rows };
}

/** A Windows socket source over `netstat -ano`. */
export function createNetstatSocketSource(run: NetstatRunner = defaultRunner) {
  return async (scope?: SocketScope): Promise<SourceResult<SocketRow>> => {
    let stdout: string;
    try {
      stdout = await run();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { ok: false, error: new AgentError(AgentCodes.socketSource, `netstat -ano failed: ${reason}`, { cause: error }) };
    }
    return netstatResult(parseNetstat(stdout, scope?.names));
  };
}
