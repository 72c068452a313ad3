/**
 * Processes from ps-list: the macOS source, and the Linux fallback when /proc cannot be read.
 * Never throws: a failure is `{ ok: false }`.
 */
import { MAX_PROCESS_ROWS, type ProcessRow, type SourceResult } from './source-types.js';

/** All processes, from ps-list (loaded on first use). */
export async function psListSource(): Promise<SourceResult<ProcessRow>> {
  try {
    const { default: psList } = await import('ps-list');
    const list = await psList({ all: true });
    const rows: ProcessRow[] = [];
    for (const p of list.slice(0, MAX_PROCESS_ROWS)) {
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
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
  }
}
