/**
 * `npm run bench:hooks`: what mcpwatch's hook adds to each MCP tool call (DESIGN budget: p95 ≤ 60 ms
 * over the bare process start). One sample = process start → exit of `mcpwatch-agent hook
 * claude-code` fed a documented PreToolUse payload on stdin, with an enforce policy cached, the
 * agent's server map for this user (200 configured servers, the called one among them: the hook
 * resolves its fingerprint) and the journal written, as Claude Code runs it. In the same run,
 * interleaved call by call so all see the same machine load:
 *   - bare `node -e 0` (this Node) and the hook through the node bin (agent/bin/mcpwatch-agent.js);
 *   - when a single executable that knows `hook` is found (BENCH_HOOK_SEA, else installers/out or
 *     installers/.cache/test-out): its bare start — the unmodified Node binary it is made from
 *     (installers/.cache/node, same version) running `-e 0`, and the executable's `--version` —
 *     and its hook;
 *   - BENCH_HOOK_SEA_OTHER: a second executable's hook (e.g. an older build, for an A/B).
 * The budget rows: node-bin hook p95 minus bare node p95; executable hook p95 minus its bare Node
 * binary's p95. Wall times scale with the machine's load; on Linux each variant's mean CPU time
 * per call (user + system, from this process's reaped-children time) is printed too, and the
 * hooks' CPU over their bare starts. BENCH_HOOK_CALLS sets the sample count (default 200). Numbers only: no pass/fail
 * exit code.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { appendJournal, DEFAULT_JOURNAL_MAX_BYTES, pruneJournal, readJournal } from '@mcpwatch/agent';
import { type BenchRow, fmtMs, formatRows, median, percentile, readCpu } from './bench-stats.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const AGENT_BIN = path.join(REPO_ROOT, 'agent/bin/mcpwatch-agent.js');
const CALLS = Math.max(10, Number(process.env.BENCH_HOOK_CALLS ?? 200) || 200);

const PAYLOAD = JSON.stringify({
  session_id: 'bench-session',
  transcript_path: '/tmp/transcript.jsonl',
  cwd: REPO_ROOT,
  hook_event_name: 'PreToolUse',
  tool_name: 'mcp__filesystem__read_file',
  tool_input: { path: '/tmp/x', encoding: 'utf8' },
  tool_use_id: 'toolu_bench',
});

/** Reaped children's CPU time of this process, in ms (Linux /proc; null elsewhere). */
function childrenCpuMs(): number | null {
  const c = readCpu(process.pid);
  return c ? (c.withChildrenS - c.selfS) * 1000 : null;
}

/**
 * Start → exit of one process (wall ms), and its CPU time (user + system ms: the growth of this
 * process's reaped-children time, so calls must not overlap); stdin written and closed at once.
 */
function timeProcess(cmd: string, args: string[], stdin: string | null): Promise<{ ms: number; cpuMs: number | null }> {
  return new Promise((resolve, reject) => {
    const cpu0 = childrenCpuMs();
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: [stdin === null ? 'ignore' : 'pipe', 'ignore', 'ignore'] });
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = performance.now() - t0;
      const cpu1 = childrenCpuMs();
      if (code === 0) resolve({ ms, cpuMs: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0 });
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`));
    });
    if (stdin !== null && child.stdin) child.stdin.end(stdin);
  });
}

interface Sea { path: string; nodeBinary: string | null; nodeVersion: string }

/** A built single executable that knows `hook`, and the unmodified Node binary it was made from. */
function findSea(candidates: (string | undefined)[]): { sea: Sea | null; why: string } {
  const found = candidates.filter((p): p is string => !!p).find((p) => existsSync(p));
  if (!found) return { sea: null, why: 'no single executable built (npm run package)' };
  const help = spawnSync(found, ['hook', '--help'], { encoding: 'utf8', timeout: 10_000 });
  if (!(help.stdout ?? '').includes('mcpwatch-agent hook')) return { sea: null, why: `${path.relative(REPO_ROOT, found)} predates the hook command (rebuild with npm run package)` };
  const nodeVersion = /node (\d+\.\d+\.\d+)/.exec(spawnSync(found, ['--version'], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '')?.[1] ?? '';
  const nodeBinary = path.join(REPO_ROOT, 'installers/.cache/node', `node-${process.platform}-${process.arch}-${nodeVersion}`, 'node');
  return { sea: { path: found, nodeBinary: nodeVersion && existsSync(nodeBinary) ? nodeBinary : null, nodeVersion }, why: '' };
}

/** `p50 / p95` of samples. */
const p50p95 = (xs: readonly number[]): string => `${fmtMs(median(xs))} / ${fmtMs(percentile(xs, 95))}`;
/** `p50 / p95` of a minus b (each percentile taken separately). */
const over = (a: readonly number[], b: readonly number[]): string => `${fmtMs(median(a) - median(b))} / ${fmtMs(percentile(a, 95) - percentile(b, 95))}`;

async function main(): Promise<void> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'mcpw-bench-hooks-'));
  writeFileSync(path.join(stateDir, 'tool-policy.json'), JSON.stringify({ mode: 'enforce', blockedTools: [{ server: 'github', tool: 'delete_*' }], blockedServers: ['evil-*'], contact: 'security@example.com' }));
  // The server map the running agent writes (agent/src/hooks/hook-server-map.ts): this user's file.
  const entries = Array.from({ length: 200 }, (_, i) => ({ c: i % 4 === 0 ? 'cursor' : 'claude-code', n: i === 7 ? 'filesystem' : `server-${i}`, f: `fp${String(i).padStart(30, '0')}`, p: `@scope/mcp-server-${i}`, s: i % 3 === 0 ? 'project' : 'user', ...(i % 3 === 0 ? { d: `/home/dev/project-${i}` } : {}) }));
  mkdirSync(path.join(stateDir, 'hook-servers'));
  writeFileSync(path.join(stateDir, 'hook-servers', `${encodeURIComponent(os.userInfo().username).replace(/\./g, '%2E')}.json`), JSON.stringify({ v: 1, generatedAt: new Date().toISOString(), entries }));
  const { sea, why } = findSea([process.env.BENCH_HOOK_SEA, path.join(REPO_ROOT, 'installers/out/mcpwatch-agent-linux-x64'), path.join(REPO_ROOT, 'installers/.cache/test-out/mcpwatch-agent-linux-x64')]);
  const other = process.env.BENCH_HOOK_SEA_OTHER ? findSea([process.env.BENCH_HOOK_SEA_OTHER]).sea : null;
  const hookArgs = ['hook', 'claude-code', '--state-dir', stateDir];
  /** The measured variants, run in this order once per round. */
  const variants: { name: string; label: string; cmd: string; args: string[]; stdin: string | null; samples: number[]; cpuMs: number[] }[] = [
    { name: 'bare', label: 'bare `node -e 0`', cmd: process.execPath, args: ['-e', '0'], stdin: null, samples: [], cpuMs: [] },
    { name: 'hookNode', label: 'hook (node bin)', cmd: process.execPath, args: [AGENT_BIN, ...hookArgs], stdin: PAYLOAD, samples: [], cpuMs: [] },
  ];
  if (sea) {
    if (sea.nodeBinary) variants.push({ name: 'seaBare', label: `node ${sea.nodeVersion} -e 0`, cmd: sea.nodeBinary, args: ['-e', '0'], stdin: null, samples: [], cpuMs: [] });
    variants.push({ name: 'seaVersion', label: 'executable --version', cmd: sea.path, args: ['--version'], stdin: null, samples: [], cpuMs: [] });
    variants.push({ name: 'hookSea', label: 'hook (single executable)', cmd: sea.path, args: hookArgs, stdin: PAYLOAD, samples: [], cpuMs: [] });
  }
  if (other) variants.push({ name: 'hookOther', label: 'hook (BENCH_HOOK_SEA_OTHER)', cmd: other.path, args: hookArgs, stdin: PAYLOAD, samples: [], cpuMs: [] });
  // warm-up: file cache, not measured
  for (let i = 0; i < 5; i++) for (const v of variants) await timeProcess(v.cmd, v.args, v.stdin);
  for (let i = 0; i < CALLS; i++) {
    for (const v of variants) {
      const { ms, cpuMs } = await timeProcess(v.cmd, v.args, v.stdin);
      v.samples.push(ms);
      if (cpuMs !== null) v.cpuMs.push(cpuMs);
    }
  }
  rmSync(stateDir, { recursive: true, force: true });
  const s = Object.fromEntries(variants.map((v) => [v.name, v.samples])) as Record<string, number[]>;
  const bare = s.bare!;
  const hookNode = s.hookNode!;
  const rows: BenchRow[] = [
    { what: 'bare `node -e 0` p50 / p95', value: p50p95(bare), note: `node ${process.version}` },
    { what: 'hook (node bin) p50 / p95', value: p50p95(hookNode) },
    { what: 'hook (node bin) over bare node, p50 / p95', value: over(hookNode, bare), budget: 'p95 ≤ 60 ms' },
  ];
  if (sea) {
    const rel = path.relative(REPO_ROOT, sea.path);
    const seaBare = s.seaBare;
    if (seaBare) rows.push({ what: `bare \`node -e 0\`, the executable's Node binary, p50 / p95`, value: p50p95(seaBare), note: `unmodified node ${sea.nodeVersion}` });
    else rows.push({ what: "bare start of the executable's Node binary", value: 'not measured', note: `no node-${process.platform}-${process.arch}-${sea.nodeVersion} in installers/.cache/node` });
    rows.push({ what: 'executable `--version` p50 / p95', value: p50p95(s.seaVersion!), note: rel });
    rows.push({ what: 'hook (single executable) p50 / p95', value: p50p95(s.hookSea!), note: rel });
    if (seaBare) rows.push({ what: "hook (single executable) over its Node's bare start, p50 / p95", value: over(s.hookSea!, seaBare), budget: 'p95 ≤ 60 ms' });
    rows.push({ what: 'hook (single executable) over its `--version`, p50 / p95', value: over(s.hookSea!, s.seaVersion!) });
    if (seaBare) rows.push({ what: "executable `--version` over its Node's bare start, p50 / p95", value: over(s.seaVersion!, seaBare) });
  } else rows.push({ what: 'hook (single executable)', value: 'not measured', note: why });
  if (other && s.hookOther) {
    rows.push({ what: 'hook (BENCH_HOOK_SEA_OTHER) p50 / p95', value: p50p95(s.hookOther), note: path.relative(REPO_ROOT, other.path) });
    if (s.hookSea) rows.push({ what: 'hook (single executable) minus BENCH_HOOK_SEA_OTHER, p50 / p95', value: over(s.hookSea, s.hookOther) });
  }
  // CPU time per call: what the machine's load distorts least (mean: /proc counts in clock ticks).
  if (variants.every((v) => v.cpuMs.length === CALLS)) {
    const cpu = Object.fromEntries(variants.map((v) => [v.name, v.cpuMs.reduce((a, b) => a + b, 0) / CALLS])) as Record<string, number>;
    for (const v of variants) rows.push({ what: `CPU per call (user + sys, mean): ${v.label}`, value: fmtMs(cpu[v.name]!) });
    rows.push({ what: 'hook CPU over bare node', value: fmtMs(cpu.hookNode! - cpu.bare!), note: 'node bin' });
    if (cpu.hookSea !== undefined && cpu.seaBare !== undefined) rows.push({ what: "hook CPU over its Node's bare start", value: fmtMs(cpu.hookSea - cpu.seaBare), note: 'single executable' });
  }
  rows.push(...journalThroughput());
  const [load1, load5] = os.loadavg();
  rows.push({ what: 'load average 1 / 5 min at the end', value: `${load1!.toFixed(2)} / ${load5!.toFixed(2)}` });
  process.stdout.write(`${formatRows(`bench:hooks — ${CALLS} calls each, process start → exit, interleaved, ${os.cpus().length} CPUs`, rows)}\n`);
}

/**
 * The hook journal in process: JOURNAL_RECORDS tool.called records of the shape the hook writes
 * (hook-runner.ts), appended one call each (each opens, writes one CRC frame with O_APPEND and
 * closes, as one hook process does) into a fresh state dir at the default size bound, then read
 * back and pruned the way the running agent's pump does. Records/s and CPU µs per record.
 */
function journalThroughput(): BenchRow[] {
  const n = Math.max(100, Number(process.env.BENCH_JOURNAL_RECORDS ?? 5000) || 5000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcpw-bench-journal-'));
  try {
    const record = (i: number) => ({
      v: 1, client: 'claude-code', user: 'dev', sessionHash: 'a'.repeat(64), phase: i % 2 === 0 ? 'pre' : 'post', server: 'filesystem',
      serverFingerprint: 'f'.repeat(64), tool: 'read_file', argumentNames: ['path', 'encoding'], decision: 'allow', enforced: true, mode: 'enforce',
      rule: 'default-allow', reason: 'no rule blocks this tool', ...(i % 2 === 1 ? { durationMs: 12, success: true } : {}), calledAt: new Date().toISOString(),
    });
    let dropped = 0;
    let failed = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const w = appendJournal(dir, record(i), { maxBytes: DEFAULT_JOURNAL_MAX_BYTES });
      if (w.ok) dropped += w.dropped;
      else failed++;
    }
    const appendMs = performance.now() - t0;
    const appendCpu = process.cpuUsage(cpu0);
    const cpu1 = process.cpuUsage();
    const t1 = performance.now();
    let read = 0;
    let cursor = { file: 0, offset: 0 };
    for (;;) {
      const r = readJournal(dir, cursor);
      read += r.records.length;
      if (r.records.length === 0) break;
      cursor = r.cursor;
      pruneJournal(dir, cursor);
    }
    const readMs = performance.now() - t1;
    const readCpu = process.cpuUsage(cpu1);
    const perRecordUs = (c: NodeJS.CpuUsage, k: number) => `${((c.user + c.system) / k).toFixed(1)} µs CPU/record`;
    return [
      { what: `journal append, ${n} records (one open/write/close each)`, value: `${Math.round(n / (appendMs / 1000)).toLocaleString('en-US')} records/s`, note: `${perRecordUs(appendCpu, n)}; ${dropped} dropped, ${failed} failed (bound ${DEFAULT_JOURNAL_MAX_BYTES / 1024 / 1024} MiB)` },
      { what: 'journal read + prune (the agent\'s pump)', value: `${Math.round(read / (readMs / 1000)).toLocaleString('en-US')} records/s`, note: `${read} records read; ${perRecordUs(readCpu, Math.max(1, read))}` },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:hooks failed: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
