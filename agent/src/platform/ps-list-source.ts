/**
 * Processes from ps-list: the macOS source, and the Linux fallback when /proc cannot be read.
 * Never throws: a failure is `{ ok: false }` with an AgentError coded MCPW_ERR_PROCESS_SOURCE, and
 * so is a list with no process at all (the agent itself runs: `ps` printed nothing usable).
 */
import { AgentCodes, AgentError } from '../errors.js';
import { MAX_PROCESS_ROWS, type ProcessRow, type SourceResult } from './source-types.js';

/** One ps-list row (the fields this source reads). */
export interface PsListRow { pid: number; ppid?: number; name: string; cmd?: string; path?: string; uid?: number; startTime?: Date }

const defaultPsList = async (): Promise<PsListRow[]> => {
  const { default: psList } = await import('ps-list');
  return psList({ all: true });
};

/** All processes, from ps-list (loaded on first use; `list` is injectable for tests). */
export async function psListSource(list: () => Promise<readonly PsListRow[]> = defaultPsList): Promise<SourceResult<ProcessRow>> {
  let listed: readonly PsListRow[];
  try {
    listed = await list();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, error: new AgentError(AgentCodes.processSource, `ps-list failed: ${reason}`, { cause: error }) };
  }
  if (listed.length === 0) return { ok: false, error: new AgentError(AgentCodes.processSource, 'ps-list listed no process at all; the process list is unknown') };
  const rows: ProcessRow[] = [];
  for (const p of listed.slice(0, MAX_PROCESS_ROWS)) {
    rows.push({
      pid: p.pid,
      ppid: typeof p.ppid === 'number' ? p.ppid : null,
      name: p.name,
      cmd: p.cmd ?? p.name,
      path: p.path ?? null,
      uid: typeof p.uid === 'number' ? p.uid : null,
      startedAt: p.startTime instanceof Date && !Number.isNaN(p.startTime.getTime()) ? p.startTime.toISOString() : null,
    });
  }
  return { ok: true, rows };
}
