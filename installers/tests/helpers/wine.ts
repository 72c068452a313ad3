/**
 * Wine (Debian's wine64, Wine 8) for the Windows tests: one fresh prefix per test file, set to
 * Windows 10 (Node refuses Wine's default Windows 7), WINEDEBUG=-all, Mono/Gecko installers
 * disabled. Windows programs run with stdout/stderr redirected to files: Node under Wine cannot
 * use a pipe as its stdio (EBADF). Services live only while a wineserver does: `create(wine, s)`
 * keeps one running; `close()` ends it (`wineserver -k`) and removes the prefix.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CANDIDATES = ['/usr/lib/wine/wine64', '/usr/bin/wine64', '/usr/lib/x86_64-linux-gnu/wine/wine64'];

/** The wine64 loader, or null when Wine is not installed (`apt-get install wine64`). */
export function findWine64(): string | null {
  for (const candidate of CANDIDATES) if (existsSync(candidate)) return candidate;
  const onPath = spawnSync('sh', ['-c', 'command -v wine64'], { encoding: 'utf8' }).stdout.trim();
  return onPath || null;
}

/** `/a/b` -> `Z:\a\b` (Wine maps the Linux root to drive Z:). */
export function windowsPath(linuxPath: string): string {
  return `Z:${linuxPath.replace(/\//g, '\\')}`;
}

export interface WineResult { status: number | null; stdout: string; stderr: string; timedOut: boolean }

export class WinePrefix {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  private readonly wine: string;
  private readonly server: string;
  private runs = 0;

  private constructor(wine: string, dir: string) {
    this.wine = wine;
    this.dir = dir;
    this.server = path.join(path.dirname(wine), existsSync(path.join(path.dirname(wine), 'wineserver64')) ? 'wineserver64' : 'wineserver');
    this.env = { ...process.env, WINEPREFIX: path.join(dir, 'prefix'), WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=', WINEARCH: 'win64' };
  }

  /**
   * A new Windows 10 prefix in a temporary directory. `persistSeconds`: keep its wineserver alive
   * that long after the last program exits (services run only while a wineserver does). The
   * persistent server is started before the prefix is made: a `wineserver -p` started after
   * winecfg is a no-op while winecfg's server lingers, and when it waits that one out, Wine 8
   * gives the services it then starts ProgramData=C:\users\Public (seen: the service host's
   * %ProgramData%\mcpwatch\logs went there), not C:\ProgramData.
   */
  static async create(wine: string, persistSeconds?: number): Promise<WinePrefix> {
    const prefix = new WinePrefix(wine, mkdtempSync(path.join(os.tmpdir(), 'mcpwatch-wine-')));
    if (persistSeconds !== undefined) {
      mkdirSync(prefix.env.WINEPREFIX!, { recursive: true }); // the server runs in the prefix directory
      spawnSync(prefix.server, [`-p${persistSeconds}`], { env: prefix.env, stdio: 'ignore' });
    }
    const result = await prefix.run(['winecfg', '/v', 'win10'], { timeoutMs: 120_000 });
    if (result.status !== 0) throw new Error(`winecfg /v win10 failed (${result.status}): ${result.stderr}`);
    return prefix;
  }

  /** The Linux path of `C:\...` inside this prefix. */
  driveC(...parts: string[]): string {
    return path.join(this.dir, 'prefix', 'drive_c', ...parts);
  }

  /** Runs `wine64 args...` to completion, stdio through files; never rejects on a non-zero exit. */
  run(args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<WineResult> {
    const n = ++this.runs;
    const outFile = path.join(this.dir, `run-${n}.out`);
    const errFile = path.join(this.dir, `run-${n}.err`);
    const out = openSync(outFile, 'w');
    const err = openSync(errFile, 'w');
    return new Promise((resolve, reject) => {
      const child = spawn(this.wine, args, { env: { ...this.env, ...options.env }, stdio: ['ignore', out, err] });
      closeSync(out);
      closeSync(err);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, options.timeoutMs ?? 120_000);
      child.once('error', (e) => { clearTimeout(timer); reject(e); });
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ status: code, stdout: readFileSync(outFile, 'utf8'), stderr: readFileSync(errFile, 'utf8'), timedOut });
      });
    });
  }

  /** Starts `wine64 args...` in the background (stdio to files); returns its Linux pid and a stop function. */
  start(args: string[]): { pid: number; stop: () => Promise<void> } {
    const n = ++this.runs;
    const out = openSync(path.join(this.dir, `bg-${n}.out`), 'w');
    const child = spawn(this.wine, args, { env: this.env, stdio: ['ignore', out, out] });
    closeSync(out);
    const stop = () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
    return { pid: child.pid ?? -1, stop };
  }

  /** Ends every Windows process of the prefix and its wineserver, then deletes the prefix. */
  close(): void {
    spawnSync(this.server, ['-k'], { env: this.env, stdio: 'ignore', timeout: 30_000 });
    spawnSync(this.server, ['-w'], { env: this.env, stdio: 'ignore', timeout: 30_000 });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
