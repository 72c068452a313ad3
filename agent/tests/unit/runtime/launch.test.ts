import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LONG_RUNNING_NODE_OPTIONS, YOUNG_GENERATION_FLAG, cliEntry, launch, needsRelaunch, relaunchEnv } from '../../../src/runtime/launch.js';

describe('launch: run/watch relaunch with a small young generation, everything else starts plain', () => {
  it('relaunches only the long-running commands, and only when the flag is not there yet', () => {
    const plain = { execArgv: [], env: {} };
    expect(needsRelaunch(['run'], plain)).toBe(true);
    expect(needsRelaunch(['watch', '--home', '/h'], plain)).toBe(true);
    expect(needsRelaunch(['scan', '--json'], plain)).toBe(false);
    expect(needsRelaunch([], plain)).toBe(false);
    expect(needsRelaunch(['run'], { execArgv: ['--max-semi-space-size=4'], env: {} })).toBe(false);
    expect(needsRelaunch(['run'], { execArgv: [], env: { NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=2' } })).toBe(false);
    expect(needsRelaunch(['run'], { execArgv: [], env: { MCPWATCH_RELAUNCHED: '1' } })).toBe(false);
  });

  it("adds the command's flags to NODE_OPTIONS, keeping what was there, and marks the child", () => {
    expect(relaunchEnv({ NODE_OPTIONS: '--enable-source-maps', PATH: '/bin' }, 'watch')).toEqual({ NODE_OPTIONS: `--enable-source-maps ${YOUNG_GENERATION_FLAG}`, PATH: '/bin', MCPWATCH_RELAUNCHED: '1' });
    expect(relaunchEnv({}, 'watch').NODE_OPTIONS).toBe(YOUNG_GENERATION_FLAG);
    // The service runs without the JIT; watch keeps it.
    expect(relaunchEnv({}, 'run').NODE_OPTIONS).toBe(`${YOUNG_GENERATION_FLAG} --jitless`);
    expect(LONG_RUNNING_NODE_OPTIONS).toEqual({ run: '--max-semi-space-size=2 --jitless', watch: '--max-semi-space-size=2' });
  });

  it('every NODE_OPTIONS of a long-running command is one node accepts there', async () => {
    const { execFileSync } = await import('node:child_process');
    for (const options of Object.values(LONG_RUNNING_NODE_OPTIONS)) {
      // node refuses an option it does not allow in NODE_OPTIONS (exit 9): the relaunch would then fail.
      const out = execFileSync(process.execPath, ['-e', 'process.stdout.write(String(typeof WebAssembly))'], { env: { ...process.env, NODE_OPTIONS: options } }).toString();
      expect(out).toBe(options.includes('--jitless') ? 'undefined' : 'object');
    }
  });

  it('runs a short command in this process with its argv', async () => {
    const seen: string[][] = [];
    const code = await launch('/nonexistent/script.js', ['scan', '--json'], async (argv) => (seen.push(argv), 3), { execPath: '/nonexistent/node', execArgv: [], env: {} });
    expect(code).toBe(3);
    expect(seen).toEqual([['scan', '--json']]);
  });

  it('runs the command here, without the flag, when the relaunch cannot start (never fails to run)', async () => {
    const seen: string[][] = [];
    const code = await launch('/nonexistent/script.js', ['watch'], async (argv) => (seen.push(argv), 0), { execPath: '/nonexistent/node', execArgv: [], env: {} });
    expect(code).toBe(0);
    expect(seen).toEqual([['watch']]);
  });
});

describe('cliEntry: the bundled CLI only while it matches the compiled files', () => {
  let dist: string;
  beforeEach(() => {
    dist = mkdtempSync(path.join(os.tmpdir(), 'mcpw-entry-'));
    mkdirSync(path.join(dist, 'bundle'));
    writeFileSync(path.join(dist, 'cli.js'), 'export {}');
    writeFileSync(path.join(dist, 'x.js'), 'export const x = 1;');
    const st = statSync(path.join(dist, 'x.js'));
    writeFileSync(path.join(dist, 'bundle', 'manifest.json'), JSON.stringify({ entry: 'cli.js', inputs: [{ file: '../x.js', size: st.size, mtimeMs: st.mtimeMs }] }));
  });
  afterEach(() => rmSync(dist, { recursive: true, force: true }));

  it('picks the bundle when every input is unchanged', () => {
    expect(cliEntry(dist)).toBe(path.join(dist, 'bundle', 'cli.js'));
  });

  it('falls back to the compiled files when an input changed, vanished, or there is no manifest', () => {
    writeFileSync(path.join(dist, 'x.js'), 'export const x = 22;');
    expect(cliEntry(dist)).toBe(path.join(dist, 'cli.js'));
    rmSync(path.join(dist, 'x.js'));
    expect(cliEntry(dist)).toBe(path.join(dist, 'cli.js'));
    rmSync(path.join(dist, 'bundle', 'manifest.json'));
    expect(cliEntry(dist)).toBe(path.join(dist, 'cli.js'));
  });

  it('gives `hook` its own one-file bundle by the same rule, falling back to the compiled hook entry', () => {
    mkdirSync(path.join(dist, 'bundle-hook'));
    const st = statSync(path.join(dist, 'x.js'));
    writeFileSync(path.join(dist, 'bundle-hook', 'manifest.json'), JSON.stringify({ entry: 'hook-cli.js', inputs: [{ file: '../x.js', size: st.size, mtimeMs: st.mtimeMs }] }));
    expect(cliEntry(dist, 'hook')).toBe(path.join(dist, 'bundle-hook', 'hook-cli.js'));
    expect(cliEntry(dist, 'scan')).toBe(path.join(dist, 'bundle', 'cli.js'));
    writeFileSync(path.join(dist, 'x.js'), 'export const x = 22;');
    expect(cliEntry(dist, 'hook')).toBe(path.join(dist, 'hook-cli.js'));
    rmSync(path.join(dist, 'bundle-hook'), { recursive: true });
    expect(cliEntry(dist, 'hook')).toBe(path.join(dist, 'hook-cli.js'));
  });
});
