/**
 * The Windows process and socket sources, each a chain that never goes silent:
 * - processes: mcpwatch-winsnap (command line, user, start time, path), else fastlist (pid, parent
 *   pid and image name only: the result is `partial`, naming the helper's failure and the fields
 *   fastlist lacks), else `{ ok: false }` with both reasons;
 * - sockets: mcpwatch-winsnap (owning pid from GetExtendedTcpTable/GetExtendedUdpTable), else
 *   `netstat -ano` (the same fields, so a netstat answer is complete), else `{ ok: false }` with
 *   both reasons.
 * Neither needs PowerShell or WMI. Every step is injectable, so the chain runs on Linux in tests
 * with captured helper output.
 */
import { AgentCodes, AgentError } from '../../errors.js';
import type { ProcessSource, SocketSource } from '../source-types.js';
import { createNetstatSocketSource, type NetstatRunner } from './netstat-sockets.js';
import { FASTLIST_LACKS, createFastlistProcessSource, type FastlistRunner } from './process-source.js';
import { createWinsnapProcessSource, createWinsnapSocketSource, winsnapRunner, type WinsnapRunner } from './winsnap.js';

/** The programs the chains run (defaults: the embedded helper, ps-list's fastlist, System32's netstat). */
export interface WindowsSourceDeps {
  winsnap?: WinsnapRunner;
  fastlist?: FastlistRunner;
  netstat?: NetstatRunner;
}

/** Processes: winsnap, then fastlist with its missing fields declared. */
export function createWindowsProcessSource(deps: WindowsSourceDeps = {}): ProcessSource {
  const helper = createWinsnapProcessSource(deps.winsnap ?? winsnapRunner());
  const fastlist = createFastlistProcessSource(deps.fastlist);
  return async () => {
    const first = await helper();
    if (first.ok) return first;
    const second = await fastlist();
    if (second.ok) {
      return { ok: true, rows: second.rows, partial: new AgentError(AgentCodes.processSource, `${first.error.message}; processes from fastlist, without ${FASTLIST_LACKS.join(', ')}`) };
    }
    return { ok: false, error: new AgentError(AgentCodes.processSource, `${first.error.message}; ${second.error.message}`) };
  };
}

/** Sockets: winsnap, then `netstat -ano`. */
export function createWindowsSocketSource(deps: WindowsSourceDeps = {}): SocketSource {
  const helper = createWinsnapSocketSource(deps.winsnap ?? winsnapRunner());
  const netstat = createNetstatSocketSource(deps.netstat);
  return async (scope) => {
    const first = await helper(scope);
    if (first.ok) return first;
    const second = await netstat(scope);
    if (second.ok) return second;
    return { ok: false, error: new AgentError(AgentCodes.socketSource, `${first.error.message}; ${second.error.message}`) };
  };
}
