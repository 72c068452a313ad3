/**
 * Windows processes from systeminformation (ps-list has no command lines there). Never throws:
 * a failure is `{ ok: false }`.
 */
import { MAX_PROCESS_ROWS, type ProcessRow, type SourceResult } from '../source-types.js';

/** All processes, from systeminformation (loaded on first use). */
export async function windowsProcessSource(): Promise<SourceResult<ProcessRow>> {
  try {
    const si = await import('systeminformation');
    const data = await si.default.processes();
    const rows: ProcessRow[] = data.list.slice(0, MAX_PROCESS_ROWS).map((p) => ({
      pid: p.pid,
      ppid: typeof p.parentPid === 'number' ? p.parentPid : null,
      name: p.name,
      cmd: [p.path && p.command ? `${p.path}\\${p.command}` : p.command || p.name, p.params].filter(Boolean).join(' '),
      path: p.path || null,
      uid: null,
      user: p.user || null,
      startedAt: p.started ? toIso(p.started) : null,
    }));
    return { ok: true, rows };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
  }
}

function toIso(s: string): string | null {
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
