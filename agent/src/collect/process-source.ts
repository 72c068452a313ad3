/**
 * Process snapshot sources. A ProcessSource returns one row per running process; the real one
 * uses ps-list (Linux/macOS) or systeminformation (Windows, where ps-list has no command lines).
 * Tests inject their own rows. Sources never throw: a failure comes back as `{ ok: false }`.
 */
import os from 'node:os';
import type { Platform } from '../types.js';
import { MAX_PROCESS_ROWS, type ProcessRow, type ProcessSource, type SourceResult } from '../platform/source-types.js';

export { MAX_PROCESS_ROWS, type ProcessRow, type ProcessSource, type SourceResult } from '../platform/source-types.js';

/**
 * The real process source for `platform` (the OS this agent runs on): /proc on Linux (ps-list
 * when /proc cannot be read), ps-list on macOS, systeminformation on Windows.
 */
export function systemProcessSource(platform: Platform = os.platform() as Platform): ProcessSource {
  if (platform === 'win32') return windowsProcessSource;
  if (platform === 'linux') {
    let proc: ProcessSource | null = null;
    return async () => {
      proc ??= (await import('../platform/linux/proc-source.js')).createProcProcessSource();
      const rows = await proc();
      return rows.ok ? rows : psListSource();
    };
  }
  return psListSource;
}

async function psListSource(): Promise<SourceResult<ProcessRow>> {
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

async function windowsProcessSource(): Promise<SourceResult<ProcessRow>> {
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
