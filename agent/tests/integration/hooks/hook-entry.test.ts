/**
 * The hook's own start-up path (src/hook-cli.ts, bundled by scripts/bundle-cli.mjs into
 * dist/bundle-hook): the entry the bin picks for `hook` answers a client as a real child process,
 * runs nothing but `hook`, and its bundle holds only the hook's code (no command table, no
 * @mcpwatch/shared / TypeBox, no npm package), with the config table left outside and lazy.
 * Runs the built agent: `npm run build` (tsc, then the bundle step) first.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runProcess, type ProcessRun } from '@mcpwatch/testkit';
import { cliEntry } from '../../../src/runtime/launch.js';
import { readJournal } from '../../../src/hooks/hook-journal.js';

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist');

/** Runs `entry`'s main(argv) in a child node, as the bin does, with `stdin` as the client's input. */
function runEntry(entry: string, argv: string[], stdin: string): Promise<ProcessRun> {
  const script = `import(${JSON.stringify(pathToFileURL(entry).href)}).then((m) => m.main(${JSON.stringify(argv)})).then((c) => { process.exitCode = c; });`;
  return runProcess(process.execPath, ['--input-type=module', '-e', script], { stdin });
}

const PRE = JSON.stringify({ session_id: 's-1', transcript_path: '/tmp/x', cwd: '/tmp', hook_event_name: 'PreToolUse', tool_name: 'mcp__github__delete_repo', tool_input: { repo: 'x' }, tool_use_id: 'toolu_1' });

describe('hook entry: the one-file start-up path of `mcpwatch-agent hook`', () => {
  let stateDir: string;
  beforeEach(() => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-hookentry-'));
    fs.writeFileSync(path.join(stateDir, 'tool-policy.json'), JSON.stringify({ mode: 'enforce', blockedTools: [{ server: 'github', tool: 'delete_*' }] }));
  });
  afterEach(() => fs.rmSync(stateDir, { recursive: true, force: true }));

  it('is the bundle while fresh, and answers and journals a tool call as a real child process', async () => {
    const entry = cliEntry(DIST, 'hook');
    expect(entry).toBe(path.join(DIST, 'bundle-hook', 'hook-cli.js'));
    const run = await runEntry(entry, ['hook', 'claude-code', '--state-dir', stateDir], PRE);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).hookSpecificOutput.permissionDecision).toBe('deny');
    const records = readJournal(stateDir).records as { server: string; tool: string; decision: string }[];
    expect(records.map((r) => [r.server, r.tool, r.decision])).toEqual([['github', 'delete_repo', 'deny']]);
  });

  it('runs nothing but `hook` (exit 2 for any other command)', async () => {
    const run = await runEntry(cliEntry(DIST, 'hook'), ['scan'], '');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('runs only "hook"');
  });

  it('bundles only the hook\'s own modules; imports nothing but node builtins and the lazy config table', () => {
    const bundleDir = path.join(DIST, 'bundle-hook');
    const manifest = JSON.parse(fs.readFileSync(path.join(bundleDir, 'manifest.json'), 'utf8')) as { inputs: { file: string }[] };
    const inputs = manifest.inputs.map((i) => path.resolve(bundleDir, i.file));
    expect(inputs.filter((f) => !f.startsWith(DIST + path.sep) || f.includes(`${path.sep}node_modules${path.sep}`))).toEqual([]);
    expect(inputs).toContain(path.join(DIST, 'commands', 'hook.js'));
    expect(inputs.filter((f) => /config-table|cli\.js$|commands[/\\]index/.test(path.relative(DIST, f)) && !f.endsWith('hook-cli.js'))).toEqual([]);
    const code = fs.readFileSync(path.join(bundleDir, 'hook-cli.js'), 'utf8');
    const specifiers = [...code.matchAll(/(?:from\s+|import\s*\(\s*)"([^"]+)"/g)].map((m) => m[1] as string);
    expect(specifiers.filter((s) => !s.startsWith('node:'))).toEqual(['../config/config-table.js']);
  });
});
