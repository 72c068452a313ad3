/**
 * Process snapshot sources. A ProcessSource returns one row per running process; the real one
 * uses ps-list (Linux/macOS) or systeminformation (Windows, where ps-list has no command lines).
 * Tests inject their own rows. Sources never throw: a failure comes back as `{ ok: false }`.
 */
import os from 'node:os';
import type { Platform } from '../types.js';

/** One running process as the collectors see it. `cmd` is the raw command line (may hold secrets). */
export interface ProcessRow {
  pid: number;
  ppid: number | null;
  /** Executable name (comm). */
  name: string;
  /** Full command line, raw. Never leaves the agent without redaction. */
  cmd: string;
  /** Executable path when known. */
  path?: string | null;
  uid: number | null;
  /** User name when the source knows it (systeminformation on Windows). */
  user?: string | null;
  startedAt: string | null;
}

export type SourceResult<T> = { ok: true; rows: T[] } | { ok: false; error: Error };

/** Returns a snapshot of running processes. */
export type ProcessSource = () => Promise<SourceResult<ProcessRow>>;

/** Upper bound on processes taken from one snapshot (a runaway host must not blow the agent up). */
export const MAX_PROCESS_ROWS = 20000;

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

/** The ps-list source on any OS (exported for comparison tests). */
export const psListProcessSource: ProcessSource = () => psListSource();

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
