/**
 * Windows processes from ps-list's fastlist helper: the fallback of the Windows process chain
 * (sources.ts) when mcpwatch-winsnap cannot run. fastlist is a small native executable that walks
 * the Toolhelp snapshot; it ships in ps-list's vendor folder and, inside the single executable, as
 * a SEA asset extracted on first use. It runs wherever Win32 runs, Wine included, in one spawn.
 *
 * What fastlist gives: pid, parent pid, image name. What it lacks (FASTLIST_LACKS): the command
 * line, the executable path, the user and the start time; rows carry `cmd` = the image name and
 * null for the rest, so matching goes by image name and process tree, not arguments.
 *
 * Contract: never throws. A helper that is missing, fails, times out, prints rows that do not
 * parse, or lists no process at all (impossible: the agent itself runs) is `{ ok: false }` with an
 * AgentError coded MCPW_ERR_PROCESS_SOURCE, so the inventory carries an error record instead of an
 * empty list that reads as "nothing running".
 */
import { AgentCodes, AgentError } from '../../errors.js';
import { MAX_PROCESS_ROWS, type ProcessRow, type SourceResult } from '../source-types.js';

/** The ProcessRow fields fastlist cannot fill (reported to whoever asks what a source lacks). */
export const FASTLIST_LACKS = Object.freeze(['cmd', 'path', 'user', 'uid', 'startedAt'] as const);

/** One row as ps-list returns it on Windows (parsed from fastlist's `pid\tppid\tname` lines). */
export interface FastlistEntry {
  pid: unknown;
  ppid?: unknown;
  name?: unknown;
}

/** Runs fastlist and returns its rows (ps-list's Windows path by default). */
export type FastlistRunner = () => Promise<readonly FastlistEntry[]>;

const defaultRunner: FastlistRunner = async () => {
  const { default: psList } = await import('ps-list');
  return psList();
};

/**
 * Parses fastlist's own output (`pid<TAB>ppid<TAB>name`, CRLF line ends) as ps-list does; used by
 * tests on captured output and by callers that run the helper themselves.
 */
export function parseFastlistOutput(stdout: string): FastlistEntry[] {
  return stdout
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [pid, ppid, ...name] = line.split('\t');
      return { pid: Number(pid), ppid: Number(ppid), name: name.join('\t') };
    });
}

const isPid = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** Maps fastlist entries to rows; entries without a valid pid or name are counted, not kept. */
export function fastlistRows(entries: readonly FastlistEntry[]): { rows: ProcessRow[]; rejected: number } {
  const rows: ProcessRow[] = [];
  let rejected = 0;
  for (const e of entries) {
    if (rows.length >= MAX_PROCESS_ROWS) break;
    if (!isPid(e.pid) || typeof e.name !== 'string' || e.name === '') {
      rejected += 1;
      continue;
    }
    rows.push({ pid: e.pid, ppid: isPid(e.ppid) ? e.ppid : null, name: e.name, cmd: e.name, path: null, uid: null, user: null, startedAt: null });
  }
  return { rows, rejected };
}

/** A Windows process source over fastlist. */
export function createFastlistProcessSource(run: FastlistRunner = defaultRunner): () => Promise<SourceResult<ProcessRow>> {
  return async () => {
    let entries: readonly FastlistEntry[];
    try {
      entries = await run();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { ok: false, error: new AgentError(AgentCodes.processSource, `fastlist failed: ${reason}`, { cause: error }) };
    }
    if (!Array.isArray(entries)) return { ok: false, error: new AgentError(AgentCodes.processSource, 'fastlist returned no list') };
    const { rows, rejected } = fastlistRows(entries);
    if (rows.length === 0) {
      const what = entries.length === 0 ? 'no process at all' : `${rejected} line(s), none with a pid and a name`;
      return { ok: false, error: new AgentError(AgentCodes.processSource, `fastlist listed ${what}; the process list is unknown`) };
    }
    return { ok: true, rows };
  };
}
