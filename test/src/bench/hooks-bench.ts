/**
 * `npm run bench:hooks`: what mcpwatch's hook adds to each MCP tool call (DESIGN budget: p95 ≤ 60 ms
 * over the bare process start). One sample = process start → exit of `mcpwatch-agent hook
 * claude-code` fed a documented PreToolUse payload on stdin, with an enforce policy cached, the
 * agent's server map for this user (200 configured servers, the called one among them: the hook
 * resolves its fingerprint) and the journal written, as Claude Code runs it. In the same run, interleaved call by call so both see
 * the same machine load: bare `node -e 0`, and, when a single executable that knows `hook` is
 * found (installers/out or installers/.cache/test-out, or BENCH_HOOK_SEA), that executable.
 * BENCH_HOOK_CALLS sets the sample count (default 200). Numbers only: no pass/fail exit code.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type BenchRow, fmtMs, formatRows, median, percentile } from './bench-stats.js';

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

/** Start → exit of one process, in ms; stdin written and closed at once. */
function timeProcess(cmd: string, args: string[], stdin: string | null): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: [stdin === null ? 'ignore' : 'pipe', 'ignore', 'ignore'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`))));
    if (stdin !== null && child.stdin) child.stdin.end(stdin);
  });
}

function findSea(): { path: string | null; why: string } {
  const candidates = [process.env.BENCH_HOOK_SEA, path.join(REPO_ROOT, 'installers/out/mcpwatch-agent-linux-x64'), path.join(REPO_ROOT, 'installers/.cache/test-out/mcpwatch-agent-linux-x64')].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(p));
  if (!found) return { path: null, why: 'no single executable built (npm run package)' };
  const help = spawnSync(found, ['hook', '--help'], { encoding: 'utf8', timeout: 10_000 });
  if (!(help.stdout ?? '').includes('mcpwatch-agent hook')) return { path: null, why: `${path.relative(REPO_ROOT, found)} predates the hook command (rebuild with npm run package)` };
  return { path: found, why: '' };
}

async function main(): Promise<void> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'mcpw-bench-hooks-'));
  writeFileSync(path.join(stateDir, 'tool-policy.json'), JSON.stringify({ mode: 'enforce', blockedTools: [{ server: 'github', tool: 'delete_*' }], blockedServers: ['evil-*'], contact: 'security@example.com' }));
  // The server map the running agent writes (agent/src/hooks/hook-server-map.ts): this user's file.
  const entries = Array.from({ length: 200 }, (_, i) => ({ c: i % 4 === 0 ? 'cursor' : 'claude-code', n: i === 7 ? 'filesystem' : `server-${i}`, f: `fp${String(i).padStart(30, '0')}`, p: `@scope/mcp-server-${i}`, s: i % 3 === 0 ? 'project' : 'user', ...(i % 3 === 0 ? { d: `/home/dev/project-${i}` } : {}) }));
  mkdirSync(path.join(stateDir, 'hook-servers'));
  writeFileSync(path.join(stateDir, 'hook-servers', `${encodeURIComponent(os.userInfo().username).replace(/\./g, '%2E')}.json`), JSON.stringify({ v: 1, generatedAt: new Date().toISOString(), entries }));
  const sea = findSea();
  const bare: number[] = [];
  const hookNode: number[] = [];
  const hookSea: number[] = [];
  // warm-up: file cache, not measured
  for (let i = 0; i < 5; i++) {
    await timeProcess(process.execPath, ['-e', '0'], null);
    await timeProcess(process.execPath, [AGENT_BIN, 'hook', 'claude-code', '--state-dir', stateDir], PAYLOAD);
    if (sea.path) await timeProcess(sea.path, ['hook', 'claude-code', '--state-dir', stateDir], PAYLOAD);
  }
  for (let i = 0; i < CALLS; i++) {
    bare.push(await timeProcess(process.execPath, ['-e', '0'], null));
    hookNode.push(await timeProcess(process.execPath, [AGENT_BIN, 'hook', 'claude-code', '--state-dir', stateDir], PAYLOAD));
    if (sea.path) hookSea.push(await timeProcess(sea.path, ['hook', 'claude-code', '--state-dir', stateDir], PAYLOAD));
  }
  rmSync(stateDir, { recursive: true, force: true });
  const p95Bare = percentile(bare, 95);
  const rows: BenchRow[] = [
    { what: 'bare `node -e 0` p50 / p95', value: `${fmtMs(median(bare))} / ${fmtMs(p95Bare)}`, note: `node ${process.version}` },
    { what: 'hook (node bin) p50 / p95', value: `${fmtMs(median(hookNode))} / ${fmtMs(percentile(hookNode, 95))}` },
    { what: 'hook (node bin) p95 over bare p95', value: fmtMs(percentile(hookNode, 95) - p95Bare), budget: '≤ 60 ms' },
  ];
  if (sea.path) {
    rows.push({ what: 'hook (single executable) p50 / p95', value: `${fmtMs(median(hookSea))} / ${fmtMs(percentile(hookSea, 95))}`, note: path.relative(REPO_ROOT, sea.path) });
    rows.push({ what: 'hook (single executable) p95 over bare p95', value: fmtMs(percentile(hookSea, 95) - p95Bare), budget: '≤ 60 ms' });
  } else rows.push({ what: 'hook (single executable)', value: 'not measured', note: sea.why });
  process.stdout.write(`${formatRows(`bench:hooks — ${CALLS} calls each, process start → exit, interleaved, ${os.cpus().length} CPUs`, rows)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:hooks failed: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
