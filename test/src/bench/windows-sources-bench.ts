/**
 * bench:agent section: CPU per poll of the Windows source logic, in-process on any OS (the helper's
 * output is injected; its own cost under Wine is `npm run bench:wine`). One poll = the process
 * chain over a 400-process mcpwatch-winsnap document (command lines, users, start times) plus the
 * socket chain over a 3000-socket one. Same-run baseline: the fallback path, fastlist over the same
 * 400 processes (no command lines) and `netstat -ano` over the same 3000 sockets. CPU is
 * process.cpuUsage() (user + system) around each poll; median and p95 of BENCH_WIN_POLLS (default
 * 200) after 20 unmeasured ones.
 */
import { createWindowsProcessSource, createWindowsSocketSource } from '@mcpwatch/agent';
import { type BenchRow, envInt, median, percentile } from './bench-stats.js';

const PROCESSES = 400;
const SOCKETS = 3000;
const pid = (i: number) => 1000 + i * 4;

function winsnapProcesses(): string {
  const lines = ['MCPWATCH-WINSNAP\t1\tprocesses'];
  for (let i = 0; i < PROCESSES; i++) {
    const cmd = `="C:\\\\Program Files\\\\nodejs\\\\node.exe" C:\\\\Users\\\\alice\\\\AppData\\\\Roaming\\\\npm\\\\node_modules\\\\@acme\\\\tool-${i}\\\\dist\\\\index.js --stdio --workspace C:\\\\src\\\\project-${i % 7}`;
    lines.push(['P', pid(i), i === 0 ? 4 : pid(i - 1), `process-${i}.exe`, cmd, '=LAPTOP\\\\alice', '=2026-12-06T09:00:00.000Z', '=C:\\\\Program Files\\\\nodejs\\\\node.exe'].join('\t'));
  }
  return [...lines, `END\t${PROCESSES}\t${PROCESSES}`, ''].join('\n');
}

function winsnapSockets(): string {
  const lines = ['MCPWATCH-WINSNAP\t1\tsockets'];
  for (let i = 0; i < SOCKETS; i++) lines.push(['T', 4, '192.168.1.23', 10000 + i, `140.82.112.${i % 250}`, 443, 5, pid(i % PROCESSES)].join('\t'));
  return [...lines, `END\t${SOCKETS}\t${SOCKETS}`, ''].join('\n');
}

const fastlistEntries = Array.from({ length: PROCESSES }, (_, i) => ({ pid: pid(i), ppid: i === 0 ? 4 : pid(i - 1), name: `process-${i}.exe` }));
const netstatText = ['', 'Active Connections', '', '  Proto  Local Address          Foreign Address        State           PID',
  ...Array.from({ length: SOCKETS }, (_, i) => `  TCP    192.168.1.23:${10000 + i}     140.82.112.${i % 250}:443      ESTABLISHED     ${pid(i % PROCESSES)}`)].join('\r\n');

/** CPU µs of each of `polls` polls (after 20 unmeasured). */
async function cpuPerPoll(poll: () => Promise<void>, polls: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < polls + 20; i++) {
    const before = process.cpuUsage();
    await poll();
    const used = process.cpuUsage(before);
    if (i >= 20) out.push(used.user + used.system);
  }
  return out;
}

/** The Windows source chains' CPU per poll, next to the fastlist + netstat fallback. */
export async function runWindowsSourcesBench(polls = envInt('BENCH_WIN_POLLS', 200)): Promise<BenchRow[]> {
  const processesDoc = winsnapProcesses();
  const socketsDoc = winsnapSockets();
  const scope = { pids: new Set([pid(1), pid(2)]), names: new Map([[pid(1), 'process-1.exe']]) };
  const helperDeps = { winsnap: async (mode: 'processes' | 'sockets') => (mode === 'processes' ? processesDoc : socketsDoc) };
  const fallbackDeps = { winsnap: async () => { throw new Error('not embedded'); }, fastlist: async () => fastlistEntries, netstat: async () => netstatText };
  const cells: [string, typeof helperDeps | typeof fallbackDeps][] = [['mcpwatch-winsnap', helperDeps], ['fastlist + netstat (fallback, baseline)', fallbackDeps]];
  const rows: BenchRow[] = [];
  for (const [name, deps] of cells) {
    const processes = createWindowsProcessSource(deps);
    const sockets = createWindowsSocketSource(deps);
    const us = await cpuPerPoll(async () => {
      const p = await processes();
      const s = await sockets(scope);
      if (!p.ok || !s.ok || p.rows.length !== PROCESSES || s.rows.length !== SOCKETS) throw new Error(`${name}: the bench input did not parse`);
    }, polls);
    rows.push({ what: `Windows sources, CPU per poll: ${name}`, value: `${(median(us) / 1000).toFixed(2)} ms`, note: `median of ${polls}; p95 ${(percentile(us, 95) / 1000).toFixed(2)} ms; ${PROCESSES} processes + ${SOCKETS} sockets, parsing in-process` });
  }
  return rows;
}
