/**
 * How the `mcpwatch-agent` bin starts a command. The long-running commands (`run`, `watch`) want
 * V8's young generation small (`--max-semi-space-size=2`: about 25 MB less RSS at the same CPU),
 * and V8 reads that flag only when the heap is set up, so it must be on the command line or in
 * NODE_OPTIONS; on the bin's shebang it cost every short command (`scan`, `status`, `hook`) its
 * start-up. So the bin starts plain and `run`/`watch` relaunch themselves once with the flag in
 * NODE_OPTIONS; every other command runs in the first process.
 *
 * `run` (the service) also runs without V8's JIT (`--jitless`, also read only at start-up): no
 * baseline (Sparkplug) or optimized code and regular expressions interpreted, so no executable
 * code is made and the compilers' part of the node binary is never paged in. Same-window A/B, run
 * mode with 10 listening MCP servers, 6 agents at a time: RSS median 73.5-78.3 -> 65.0-70.3 MB
 * (file-backed 42.9 -> 38.2), CPU +8-12 % of the agent's own (0.34-0.37 -> 0.35-0.40 % on a
 * loaded machine); 4 agents on a quiet one: RSS 78.5/73.7 -> 71.8/72.5 MB, CPU 0.408/0.462 ->
 * 0.416/0.479 % (+2-4 %). It also means no WebAssembly in the agent, which uses none (its HTTP is
 * node:http; Node's fetch, undici with its WebAssembly parser, is never loaded: probe/web-lite.ts).
 * `watch`, an interactive command well within its memory budget, keeps the JIT.
 * LONG_RUNNING_NODE_OPTIONS is what a service definition sets (installers/), so the service
 * starts that way without a relaunch.
 *
 * Contract:
 * - No relaunch when the flag is already there (execArgv or NODE_OPTIONS, e.g. a service
 *   definition sets it) or the process is itself the relaunched one (MCPWATCH_RELAUNCHED=1).
 * - The relaunched child inherits stdio, cwd and environment; SIGINT, SIGTERM and SIGHUP sent to
 *   the parent are passed on; the parent exits with the child's code (128 + signal number when
 *   the child died of a signal). If the parent dies without passing anything on (kill -9), the
 *   child sees its IPC channel close and stops as on SIGTERM: it never outlives its launcher. A
 *   SIGINT or SIGTERM the child receives twice (group-wide and passed on) stops it once.
 * - A child that cannot be started is reported on stderr and the command runs in this process
 *   (without the flag): the agent still runs.
 *
 * `cliEntry` picks the code the bin runs: the bundled CLI (dist/bundle, scripts/bundle-cli.mjs:
 * fewer, larger modules start faster) only while every file it was built from is unchanged
 * (size and mtime in its manifest), else the compiled dist/cli.js, so a rebuild without the
 * bundle step never runs stale code. The `hook` command, which a client runs around every MCP
 * tool call, has its own entry by the same rule: the one-file dist/bundle-hook (hook-cli.ts), else
 * the compiled dist/hook-cli.js.
 */
import { readFileSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';

export const YOUNG_GENERATION_FLAG = '--max-semi-space-size=2';
/** The NODE_OPTIONS each long-running command runs under (see the module comment). */
export const LONG_RUNNING_NODE_OPTIONS: Readonly<Record<string, string>> = {
  run: `${YOUNG_GENERATION_FLAG} --jitless`,
  watch: YOUNG_GENERATION_FLAG,
};
const LONG_RUNNING = new Set(Object.keys(LONG_RUNNING_NODE_OPTIONS));
const RELAUNCHED = 'MCPWATCH_RELAUNCHED';
const HAS_FLAG = /(?:^|\s)--max-semi-space-size(?:=|\s|$)/;
const FORWARDED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface LaunchProcess {
  execPath: string;
  execArgv: readonly string[];
  env: NodeJS.ProcessEnv;
}

/** Whether `command` is one of the long-running commands (`run`, `watch`). */
export function isLongRunning(command: string | undefined): boolean {
  return LONG_RUNNING.has(command ?? '');
}

/** Whether `argv` (the command line after the script) should relaunch with the flag. */
export function needsRelaunch(argv: readonly string[], proc: Pick<LaunchProcess, 'execArgv' | 'env'>): boolean {
  if (!isLongRunning(argv[0])) return false;
  if (proc.env[RELAUNCHED] === '1') return false;
  return !proc.execArgv.some((a) => HAS_FLAG.test(a)) && !HAS_FLAG.test(proc.env.NODE_OPTIONS ?? '');
}

/** The child's environment for `command`: NODE_OPTIONS with its flags added, and the relaunch marker. */
export function relaunchEnv(env: NodeJS.ProcessEnv, command: string): NodeJS.ProcessEnv {
  const flags = LONG_RUNNING_NODE_OPTIONS[command] ?? YOUNG_GENERATION_FLAG;
  return { ...env, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} ${flags}`.trim(), [RELAUNCHED]: '1' };
}

/**
 * Runs `start(argv)` here, or relaunches `script argv` with the flag and resolves the child's
 * exit code. See the module comment.
 */
export async function launch(script: string, argv: readonly string[], start: (argv: string[]) => Promise<number>, proc: LaunchProcess = process): Promise<number> {
  if (!needsRelaunch(argv, proc)) {
    if (proc.env[RELAUNCHED] === '1') stopWithLauncher();
    return start([...argv]);
  }
  const { spawn } = await import('node:child_process');
  let child: import('node:child_process').ChildProcess;
  try {
    child = spawn(proc.execPath, [...proc.execArgv, script, ...argv], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'], env: relaunchEnv(proc.env, argv[0]!) });
  } catch (error) {
    process.stderr.write(`mcpwatch-agent: could not relaunch with ${LONG_RUNNING_NODE_OPTIONS[argv[0]!]} (${error instanceof Error ? error.message : String(error)}); running without it\n`);
    return start([...argv]);
  }
  const pass = (signal: NodeJS.Signals) => () => child.kill(signal);
  const handlers = FORWARDED.map((signal) => [signal, pass(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  return new Promise<number>((resolve) => {
    child.once('error', (error) => {
      process.stderr.write(`mcpwatch-agent: could not relaunch with ${LONG_RUNNING_NODE_OPTIONS[argv[0]!]} (${error.message}); running without it\n`);
      for (const [signal, handler] of handlers) process.off(signal, handler);
      resolve(start([...argv]));
    });
    child.once('exit', (code, signal) => {
      for (const [s, handler] of handlers) process.off(s, handler);
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
}

/**
 * In the relaunched child: a signal may arrive twice (from the terminal or service manager to the
 * whole group, and passed on by the launcher); the command's own handler takes the first, a
 * repeat is absorbed instead of killing a shutdown in progress. And stop (as on SIGTERM) when the
 * launcher's IPC channel closes.
 */
function stopWithLauncher(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, absorb);
  const channel = (process as { channel?: { unref(): void } }).channel;
  if (!channel) return;
  channel.unref(); // the channel alone must not keep the agent alive
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

function absorb(): void {
  // a repeated stop signal: the shutdown the first one started is already under way (and bounded)
}

/** Each entry's bundle folder and compiled fallback, relative to dist. */
const ENTRIES = {
  cli: { bundle: 'bundle', compiled: 'cli.js' },
  hook: { bundle: 'bundle-hook', compiled: 'hook-cli.js' },
} as const;

/**
 * The module the bin should import, given the compiled `dist` folder and the command about to run
 * (`hook` gets its own entry; see the module comment). Both entries export `main(argv)`. Never throws.
 */
export function cliEntry(distDir: string, command?: string): string {
  const entry = command === 'hook' ? ENTRIES.hook : ENTRIES.cli;
  const bundleDir = path.join(distDir, entry.bundle);
  try {
    const manifest = JSON.parse(readFileSync(path.join(bundleDir, 'manifest.json'), 'utf8')) as { entry: string; inputs: { file: string; size: number; mtimeMs: number }[] };
    for (const input of manifest.inputs) {
      const st = statSync(path.resolve(bundleDir, input.file));
      if (st.size !== input.size || st.mtimeMs !== input.mtimeMs) return path.join(distDir, entry.compiled);
    }
    return path.join(bundleDir, manifest.entry);
  } catch {
    return path.join(distDir, entry.compiled); // no bundle (or an unreadable one): the compiled files
  }
}
