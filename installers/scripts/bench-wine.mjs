#!/usr/bin/env node
/**
 * Benchmark: the win-x64 single executable under Wine next to the linux-x64 executable, same
 * machine, same run (figures only, no budget: Wine is not Windows).
 *
 *   node installers/scripts/bench-wine.mjs [--runs N] [--window-s S]      (npm run bench:wine)
 *
 * Needs wine64 (apt-get install wine64), mingw-w64 (scripts/install-build-tools.sh) and the
 * executables in installers/out or installers/.cache/test-out (npm run package, or npm test -w
 * @mcpwatch/installers).
 *
 * 1. Start to first scan: N alternating runs of `scan --json` of the win32 fixture home
 *    (--platform win32), process exit included; median and p90 wall time. Wine runs with a warm,
 *    persistent wineserver in a prepared Windows 10 prefix (as Windows has its kernel up); the
 *    prefix's creation is reported apart.
 * 2. One poll of the Windows sources spawned under Wine: mcpwatch-winsnap `processes` and
 *    `sockets` (compiled here with mingw-w64, as the build embeds it), and the fallbacks fastlist
 *    and `netstat -ano`, N runs each: wall time (median, p90), CPU of the spawned Windows process
 *    tree (user+sys from bash's `times`, ms resolution; median, p90) and the prefix wineserver's
 *    CPU (mean per run: /proc ticks are 10 ms). Then the parsers in-process over a 400-process /
 *    3000-socket table (agent/dist).
 * 3. Watch window: `watch --sources configs,processes,sockets` on the same fixture home for S
 *    seconds (after a 3 s settle); the agent process's CPU (user+sys of itself and its reaped
 *    children, from /proc/PID/stat) as % of one core, and its RSS (VmRSS) at the end and at most.
 *    Under Wine the process is the wine64-preloader running the executable; wineserver's own CPU
 *    is reported on its own line, not added.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compileWinsnap } from './lib/mingw.mjs';

const INSTALLERS_DIR = fileURLToPath(new URL('..', import.meta.url));
const REPO_ROOT = path.resolve(INSTALLERS_DIR, '..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '9' }, 'window-s': { type: 'string', default: '30' } } });
const runs = Number(values.runs);
const windowMs = Number(values['window-s']) * 1000;

const find = (name) => [path.join(INSTALLERS_DIR, 'out', name), path.join(INSTALLERS_DIR, '.cache', 'test-out', name)].find(existsSync);
const winExe = find('mcpwatch-agent-win-x64.exe');
const linuxExe = find('mcpwatch-agent-linux-x64');
const wine = ['/usr/lib/wine/wine64', '/usr/bin/wine64'].find(existsSync);
if (!winExe || !linuxExe || !wine) {
  process.stderr.write(`bench:wine: missing ${[!winExe && 'win-x64 executable', !linuxExe && 'linux-x64 executable', !wine && 'wine64'].filter(Boolean).join(', ')}\n`);
  process.exit(1);
}
const wineserver = path.join(path.dirname(wine), existsSync(path.join(path.dirname(wine), 'wineserver64')) ? 'wineserver64' : 'wineserver');
const work = mkdtempSync(path.join(os.tmpdir(), 'mcpwatch-bench-wine-'));
const env = { ...process.env, WINEPREFIX: path.join(work, 'prefix'), WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=', WINEARCH: 'win64' };
const winPath = (p) => `Z:${p.replace(/\//g, '\\')}`;
const fixture = path.join(REPO_ROOT, 'agent', 'tests', 'fixtures', 'homes', 'win32');
const scanArgs = (toPath) => ['scan', '--json', '--platform', 'win32', '--home', toPath(path.join(fixture, 'Users', 'alice')), '--system-root', toPath(path.join(fixture, 'system'))];
const watchArgs = (toPath) => ['watch', '--platform', 'win32', '--sources', 'configs,processes,sockets', '--home', toPath(path.join(fixture, 'Users', 'alice'))];
const quantile = (xs, q) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))]; };

/**
 * One spawn under bash, stdio in a file: wall ms, and the CPU ms (user+sys) of the spawned process
 * tree as bash's `times` reports it for its reaped children.
 */
function cpuTimed(command, args) {
  const started = process.hrtime.bigint();
  const result = spawnSync('bash', ['-c', '"$@" >"$OUT" 2>&1; status=$?; times; exit $status', 'bash', command, ...args], { env: { ...env, OUT: path.join(work, 'out.txt') }, encoding: 'utf8' });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${path.basename(args[0] ?? command)} exited ${result.status}: ${readFileSync(path.join(work, 'out.txt'), 'utf8').slice(0, 2000)}`);
  const children = result.stdout.trim().split('\n').at(-1) ?? '';
  const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
  return { wallMs, cpuMs: seconds * 1000 };
}

/** Runs to completion with stdio in files (Node under Wine cannot write to a pipe); wall ms. */
function timed(command, args) {
  const out = openSync(path.join(work, 'out.txt'), 'w');
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { env, stdio: ['ignore', out, out] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  closeSync(out);
  if (result.status !== 0) throw new Error(`${path.basename(args[0] ?? command)} exited ${result.status}: ${readFileSync(path.join(work, 'out.txt'), 'utf8').slice(0, 2000)}`);
  return ms;
}

const TICK = 100; // USER_HZ on Linux
function cpuTicks(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]); // utime stime cutime cstime
}
const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
/** This prefix's wineserver (another prefix's, e.g. a test's, is not counted). */
function prefixWineserver() {
  const pids = readdirSync('/proc').filter((x) => /^\d+$/.test(x)).map(Number);
  return pids.find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('wineserver') && readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`WINEPREFIX=${env.WINEPREFIX}\0`);
    } catch {
      return false;
    }
  });
}

async function watchWindow(command, args, isWine) {
  const out = openSync(path.join(work, 'watch.txt'), 'w');
  const child = spawn(command, args, { env, stdio: ['ignore', out, out] });
  closeSync(out);
  await new Promise((r) => setTimeout(r, 3000));
  const pid = child.pid;
  const server = isWine ? prefixWineserver() : undefined;
  const c0 = cpuTicks(pid);
  const s0 = server ? cpuTicks(server) : 0;
  let peak = 0;
  const started = Date.now();
  while (Date.now() - started < windowMs) {
    peak = Math.max(peak, rssMb(pid));
    await new Promise((r) => setTimeout(r, 500));
  }
  const elapsedS = (Date.now() - started) / 1000;
  const cpu = ((cpuTicks(pid) - c0) / TICK / elapsedS) * 100;
  const serverCpu = server ? ((cpuTicks(server) - s0) / TICK / elapsedS) * 100 : null;
  const end = rssMb(pid);
  child.kill('SIGKILL');
  return { cpu, end, peak, serverCpu };
}

const lines = [];
try {
  mkdirSync(env.WINEPREFIX, { recursive: true });
  spawnSync(wineserver, ['-p600'], { env, stdio: 'ignore' }); // before winecfg: a later -p is a no-op while winecfg's server lingers
  const prefixMs = timed(wine, ['winecfg', '/v', 'win10']);
  lines.push(`Wine: ${spawnSync(wine, ['--version'], { encoding: 'utf8', env }).stdout.trim() || 'wine64'}; prefix creation (winecfg /v win10) ${prefixMs.toFixed(0)} ms; runs per cell: ${runs}; watch window ${windowMs / 1000} s`);
  timed(wine, [winPath(winExe), '--version']); // warm the page cache and the prefix once
  const wall = { 'linux-x64 executable': [], 'win-x64 executable under Wine': [] };
  for (let i = 0; i < runs; i += 1) {
    wall['linux-x64 executable'].push(timed(linuxExe, scanArgs((p) => p)));
    wall['win-x64 executable under Wine'].push(timed(wine, [winPath(winExe), ...scanArgs(winPath)]));
  }
  for (const [name, ms] of Object.entries(wall)) lines.push(`start to first scan (win32 fixture home)  ${name.padEnd(30)} median ${quantile(ms, 0.5).toFixed(0)} ms  p90 ${quantile(ms, 0.9).toFixed(0)} ms`);
  // One poll of the Windows sources: the helpers spawn under Wine (wall and CPU), then the parsing
  // in-process (agent/dist, over a 400-process fastlist and a 3000-socket netstat table).
  const fastlist = path.join(REPO_ROOT, 'node_modules', 'ps-list', 'vendor', 'fastlist-0.3.0-x64.exe');
  const winsnap = winPath(await compileWinsnap(INSTALLERS_DIR, work));
  const spawns = {
    'mcpwatch-winsnap processes': [winsnap, 'processes'],
    'mcpwatch-winsnap sockets': [winsnap, 'sockets'],
    'fastlist (fallback)': [winPath(fastlist)],
    'netstat -ano (fallback)': ['netstat', '-ano'],
  };
  for (const [name, args] of Object.entries(spawns)) {
    const wallMs = [];
    const cpuMs = [];
    const server = prefixWineserver();
    const s0 = server ? cpuTicks(server) : 0;
    for (let i = 0; i < runs; i += 1) {
      const one = cpuTimed(wine, args);
      wallMs.push(one.wallMs);
      cpuMs.push(one.cpuMs);
    }
    const serverMs = server ? ((cpuTicks(server) - s0) * (1000 / TICK)) / runs : null;
    lines.push(`one poll, spawn under Wine  ${name.padEnd(30)} wall median ${quantile(wallMs, 0.5).toFixed(0)} ms  p90 ${quantile(wallMs, 0.9).toFixed(0)} ms  CPU median ${quantile(cpuMs, 0.5).toFixed(0)} ms  p90 ${quantile(cpuMs, 0.9).toFixed(0)} ms${serverMs === null ? '' : `  (wineserver ${serverMs.toFixed(0)} ms/run)`}`);
  }
  const { parseFastlistOutput, fastlistRows } = await import(path.join(REPO_ROOT, 'agent', 'dist', 'platform', 'win32', 'process-source.js'));
  const { parseNetstat } = await import(path.join(REPO_ROOT, 'agent', 'dist', 'platform', 'win32', 'netstat-sockets.js'));
  const fastlistText = Array.from({ length: 400 }, (_, i) => `${1000 + i * 4}\t${i === 0 ? 4 : 1000 + (i - 1) * 4}\tprocess-${i}.exe`).join('\r\n');
  const netstatText = ['', 'Active Connections', '', '  Proto  Local Address          Foreign Address        State           PID',
    ...Array.from({ length: 3000 }, (_, i) => `  TCP    192.168.1.23:${10000 + i}     140.82.112.${i % 250}:443      ESTABLISHED     ${1000 + (i % 400) * 4}`)].join('\r\n');
  for (const [name, fn] of [['parse 400-process fastlist', () => fastlistRows(parseFastlistOutput(fastlistText))], ['parse 3000-socket netstat', () => parseNetstat(netstatText)]]) {
    const us = [];
    for (let i = 0; i < 200; i += 1) { const t = process.hrtime.bigint(); fn(); us.push(Number(process.hrtime.bigint() - t) / 1e3); }
    lines.push(`one poll, in-process (node ${process.version})  ${name.padEnd(30)} median ${quantile(us, 0.5).toFixed(0)} µs  p90 ${quantile(us, 0.9).toFixed(0)} µs`);
  }
  const linuxWatch = await watchWindow(linuxExe, watchArgs((p) => p), false);
  const wineWatch = await watchWindow(wine, [winPath(winExe), ...watchArgs(winPath)], true);
  for (const [name, w] of [['linux-x64 executable', linuxWatch], ['win-x64 executable under Wine', wineWatch]]) {
    lines.push(`watch window  ${name.padEnd(30)} CPU ${w.cpu.toFixed(2)} % of a core  RSS end ${w.end.toFixed(1)} MB  peak ${w.peak.toFixed(1)} MB${w.serverCpu === null ? '' : `  (wineserver ${w.serverCpu.toFixed(2)} %)`}`);
  }
} finally {
  spawnSync(wineserver, ['-k'], { env });
  rmSync(work, { recursive: true, force: true });
}
process.stdout.write(`${lines.join('\n')}\n`);
