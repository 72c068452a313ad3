import { YOUNG_GENERATION_FLAG, launch, needsRelaunch, relaunchEnv } from '../../../src/runtime/launch.js';

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

  it('adds the flag to NODE_OPTIONS, keeping what was there, and marks the child', () => {
    expect(relaunchEnv({ NODE_OPTIONS: '--enable-source-maps', PATH: '/bin' })).toEqual({ NODE_OPTIONS: `--enable-source-maps ${YOUNG_GENERATION_FLAG}`, PATH: '/bin', MCPWATCH_RELAUNCHED: '1' });
    expect(relaunchEnv({}).NODE_OPTIONS).toBe(YOUNG_GENERATION_FLAG);
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
