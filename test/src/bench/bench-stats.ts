/**
 * Small helpers shared by the benchmarks: size knobs from the environment, order statistics,
 * /proc sampling of a process's CPU time and RSS (Linux), and a results table. No timers left
 * running; nothing here throws on a process that already exited (samples come back null).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

/** A positive whole number from the environment variable `name` (a bench's size knob), else `fallback`. */
export function envInt(name: string, fallback: number): number {
  const n = Number(process.env[name]);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** Median of the values (NaN for none). */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

let clockTicks: number | null = null;
/** Kernel clock ticks per second (getconf CLK_TCK; 100 when unknown). */
export function clkTck(): number {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** CPU seconds of a process from /proc/<pid>/stat: itself, and itself plus reaped children. */
export interface CpuSample {
  selfS: number;
  withChildrenS: number;
}

export function readCpu(pid: number): CpuSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(fields[i]));
    const tck = clkTck();
    return { selfS: ((utime ?? 0) + (stime ?? 0)) / tck, withChildrenS: ((utime ?? 0) + (stime ?? 0) + (cutime ?? 0) + (cstime ?? 0)) / tck };
  } catch {
    return null;
  }
}

/** Resident set size in bytes from /proc/<pid>/status (VmRSS). */
export function readRssBytes(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Number of processes on this machine (entries of /proc that are pids). */
export function processCount(): number {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ')[3]?.split('/').map(Number)[1] ?? 0;
  } catch {
    return 0;
  }
}

/** One row of a results table. */
export interface BenchRow {
  what: string;
  value: string;
  budget?: string;
  note?: string;
}

/** Prints rows as an aligned table. */
export function formatRows(title: string, rows: readonly BenchRow[]): string {
  const header = ['what', 'value', 'budget', 'note'];
  const cells = rows.map((r) => [r.what, r.value, r.budget ?? '', r.note ?? '']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]): string => c.map((x, i) => x.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [title, line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export const fmtMs = (ms: number): string => `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
export const fmtMb = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** CPU and RSS of a measured process next to an idle baseline process over one window. */
export interface ResourceWindow {
  elapsedS: number;
  /** Median number of processes on the machine during the window. */
  processes: number;
  subjectCpu: { self: string; withChildren: string };
  idleCpu: string;
  subjectRss: number[];
  idleRss: number[];
}

/**
 * Samples `subjectPid` and `idlePid` once a second for `seconds`: CPU % of one core over the
 * window (from /proc/<pid>/stat), RSS samples, and the machine's process count.
 */
export async function sampleResourceWindow(subjectPid: number, idlePid: number, seconds: number): Promise<ResourceWindow> {
  const cpu0 = { subject: readCpu(subjectPid), idle: readCpu(idlePid) };
  const t0 = performance.now();
  const subjectRss: number[] = [];
  const idleRss: number[] = [];
  const procs: number[] = [];
  while (performance.now() - t0 < seconds * 1000) {
    await sleep(1000);
    const s = readRssBytes(subjectPid);
    if (s !== null) subjectRss.push(s);
    const i = readRssBytes(idlePid);
    if (i !== null) idleRss.push(i);
    procs.push(processCount());
  }
  const elapsedS = (performance.now() - t0) / 1000;
  const cpu1 = { subject: readCpu(subjectPid), idle: readCpu(idlePid) };
  const pct = (a: number | undefined, b: number | undefined): string =>
    a === undefined || b === undefined ? 'n/a' : `${(((b - a) / elapsedS) * 100).toFixed(2)} %`;
  return {
    elapsedS,
    processes: median(procs),
    subjectCpu: {
      self: pct(cpu0.subject?.selfS, cpu1.subject?.selfS),
      withChildren: pct(cpu0.subject?.withChildrenS, cpu1.subject?.withChildrenS),
    },
    idleCpu: pct(cpu0.idle?.selfS, cpu1.idle?.selfS),
    subjectRss,
    idleRss,
  };
}

/** Starts `sleep` processes until the machine holds at least `target` processes; returns a stopper. */
export function padProcesses(target: number): () => void {
  const extra: ChildProcess[] = [];
  const missing = Math.min(1000, Math.max(0, target - processCount()));
  for (let i = 0; i < missing; i++) extra.push(spawn('sleep', ['3600'], { stdio: 'ignore' }));
  return () => {
    for (const c of extra) c.kill('SIGKILL');
  };
}

/**
 * The node flags a collector build runs with in production (its collector/node-flags.json, found
 * from the bin: `<root>/collector/bin/x.js` -> `<root>/collector/node-flags.json`), so benches
 * measure the collector as deployed; none for a build older than that file, or with
 * BENCH_COLLECTOR_NODE_FLAGS=0 (to A/B the flags themselves: pass them as a bench's extra node args).
 */
export function collectorNodeFlags(bin: string): string[] {
  if (process.env.BENCH_COLLECTOR_NODE_FLAGS === '0') return [];
  const file = join(dirname(dirname(bin)), 'node-flags.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { flags: string[] }).flags : [];
}

/**
 * Collector settings for benches that play many agents against one collector (bench:fleet,
 * bench:heartbeat): per-agent limits and enrollment caps out of the way (the agents share pooled
 * key pairs), and a timestamp window wide enough for batches signed before the measured phase.
 */
export const SIMULATED_FLEET_COLLECTOR_ENV: Readonly<Record<string, string>> = {
  MCPWATCH_RATE_LIMIT_PER_AGENT_PER_S: '1000',
  MCPWATCH_RATE_LIMIT_BURST: '1000',
  MCPWATCH_ENROLL_MAX_AGENTS_PER_KEY: '1000000',
  MCPWATCH_ENROLL_LIMIT_PER_SECRET: '100000000',
  MCPWATCH_ENROLL_LIMIT_GLOBAL: '100000000',
  MCPWATCH_TIMESTAMP_WINDOW_S: '3600',
};
