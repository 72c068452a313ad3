/**
 * The bin relaunches `watch` (and `run`) with --max-semi-space-size=2 in NODE_OPTIONS: the child
 * really has the small young generation, a SIGTERM to the launcher stops both cleanly, and a
 * launcher killed with SIGKILL takes its child with it. Linux (/proc) only.
 */
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startWatch } from '../support/watch-process.js';

const linuxIt = process.platform === 'linux' ? it : it.skip;

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
    if (text) out.push(...text.split(/\s+/).map(Number));
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat); // a zombie has exited
  } catch {
    return false;
  }
}

async function until(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('bin relaunch of the long-running commands', () => {
  let home: string;
  beforeEach(() => {
    home = mkdtempSync(path.join(os.tmpdir(), 'mcpw-launch-'));
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  linuxIt('watch runs in a child with the flag; SIGTERM to the launcher stops both with code 0', async () => {
    const w = startWatch(['--home', home, '--platform', 'linux']);
    await w.ready;
    const [child] = childrenOf(w.child.pid as number);
    expect(child).toBeDefined();
    const environ = readFileSync(`/proc/${child}/environ`, 'utf8').split('\0');
    expect(environ).toContain('NODE_OPTIONS=--max-semi-space-size=2');
    expect(environ).toContain('MCPWATCH_RELAUNCHED=1');
    expect(await w.stop('SIGTERM')).toBe(0);
    await until(() => !alive(child as number), 'the relaunched child to exit');
    expect(w.stderr()).not.toMatch(/could not relaunch/);
  }, 30_000);

  linuxIt('a launcher killed with SIGKILL takes its relaunched child with it', async () => {
    const w = startWatch(['--home', home, '--platform', 'linux']);
    await w.ready;
    const [child] = childrenOf(w.child.pid as number);
    expect(child).toBeDefined();
    await w.stop('SIGKILL');
    await until(() => !alive(child as number), 'the orphaned child to stop');
    expect(alive(child as number)).toBe(false);
  }, 30_000);
});
