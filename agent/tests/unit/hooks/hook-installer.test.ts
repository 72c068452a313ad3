/**
 * hooks install / uninstall / status round trips on fixture homes laid out per OS (user scope)
 * and on a fixture system root (managed scope), for every client that documents a hook file:
 * the user's hooks, comments and indentation survive; install is idempotent; uninstall gives the
 * original bytes back when nothing else changed and keeps the user's later edits otherwise;
 * tampering shows; a file that does not parse is never written.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'jsonc-parser';
import { HOOK_CLIENTS, type HookClientId } from '../../../src/hooks/hook-catalog.js';
import { hookFileOf, hookStatus, installHook, uninstallHook, type HookTarget } from '../../../src/hooks/hook-installer.js';
import type { Platform } from '../../../src/types.js';
import { runCli } from '../../helpers/cli-run.js';

const INSTALLABLE: HookClientId[] = ['claude-code', 'cursor', 'gemini-cli', 'windsurf', 'copilot-cli', 'codex'];
const PLATFORMS: Platform[] = ['linux', 'darwin', 'win32'];
const CMD = (c: HookClientId) => `/opt/mcpwatch/bin/mcpwatch-agent hook ${c}`;

function fixture(): { home: string; systemRoot: string; stateDir: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-hooks-'));
  for (const d of ['home', 'sys', 'state']) fs.mkdirSync(path.join(root, d));
  return { home: path.join(root, 'home'), systemRoot: path.join(root, 'sys'), stateDir: path.join(root, 'state') };
}

function userFileText(client: HookClientId): string {
  switch (client) {
    case 'claude-code':
      return '{\n\t// team settings\n\t"model": "opus",\n\t"hooks": {\n\t\t"PreToolUse": [\n\t\t\t{ "matcher": "Bash", "hooks": [ { "type": "command", "command": "./lint.sh" } ] } // keep\n\t\t]\n\t}\n}\n';
    case 'gemini-cli':
      return '{\n    /* mine */\n    "theme": "dark",\n    "hooks": { "BeforeTool": [ { "matcher": "write_file", "hooks": [ { "type": "command", "command": "./check.sh" } ] } ] }\n}\n';
    case 'cursor':
      return '{\n  "version": 1,\n  // my hooks\n  "hooks": {\n    "beforeShellExecution": [ { "command": "./audit.sh" } ],\n    "beforeMCPExecution": [ { "command": "./mine.sh" } ]\n  }\n}\n';
    case 'copilot-cli': // docs.github.com cli-hooks-reference: version 1, entries with bash/powershell
      return '{\n  "version": 1,\n  "hooks": {\n    "preToolUse": [ { "type": "command", "bash": "./copilot-guard.sh", "powershell": "./copilot-guard.ps1", "timeoutSec": 30 } ]\n  }\n}\n';
    case 'codex': // developers.openai.com/codex/hooks: event -> matcher group -> handlers
      return '{\n  // codex hooks\n  "hooks": {\n    "PreToolUse": [ { "matcher": "Bash", "hooks": [ { "type": "command", "command": "./bash-guard.sh", "statusMessage": "Checking Bash command" } ] } ]\n  }\n}\n';
    default:
      return '{\n  "hooks": {\n    "pre_run_command": [ { "command": "python3 guard.py", "show_output": true } ]\n  }\n}\n';
  }
}

function ours(client: HookClientId, text: string): number {
  const spec = HOOK_CLIENTS[client];
  const doc = parse(text) as { hooks?: Record<string, unknown[]> };
  let n = 0;
  for (const ev of [spec.preEvent, spec.postEvent]) {
    for (const e of doc.hooks?.[ev] ?? []) {
      const entry = e as { command?: string; bash?: string; hooks?: { command?: string }[] };
      const cmds = entry.hooks ? entry.hooks.map((h) => h.command) : [entry.bash ?? entry.command];
      n += cmds.filter((c) => c === CMD(client)).length;
    }
  }
  return n;
}

describe.each(PLATFORMS)('on %s', (platform) => {
  describe.each(INSTALLABLE)('%s', (client) => {
    for (const scope of ['user', 'managed'] as const) {
      test(`${scope}: install keeps the user's hooks and comments, is idempotent, uninstall restores the bytes`, () => {
        const fx = fixture();
        const t: HookTarget = { client, scope, platform, home: fx.home, systemRoot: fx.systemRoot };
        const file = hookFileOf(t) as string;
        if (file === null) {
          // Codex documents no system config layer on Windows.
          expect([client, scope, platform]).toEqual(['codex', 'managed', 'win32']);
          expect(installHook(t, { stateDir: fx.stateDir, command: CMD(client) }).action).toBe('unsupported');
          return;
        }
        expect(file.startsWith(scope === 'user' ? fx.home : fx.systemRoot)).toBe(true);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const original = userFileText(client);
        fs.writeFileSync(file, original);
        const ctx = { stateDir: fx.stateDir, command: CMD(client) };
        const tt = t;

        expect(installHook(tt, ctx).action).toBe('installed');
        const installed = fs.readFileSync(file, 'utf8');
        expect(ours(client, installed)).toBe(2);
        for (const kept of ['./lint.sh', './check.sh', './audit.sh', './mine.sh', 'guard.py', './copilot-guard.ps1', './bash-guard.sh', '// codex hooks', '// team settings', '/* mine */', '// my hooks', '// keep']) {
          if (original.includes(kept)) expect(installed).toContain(kept);
        }
        if (client === 'claude-code') expect(installed).toMatch(/\n\t\t\t\{\n\t\t\t\t"matcher": "mcp__\.\*"/); // the file's tab indentation
        expect(hookStatus(tt, ctx).state).toBe('installed');

        expect(installHook(tt, ctx).action).toBe('unchanged');
        expect(fs.readFileSync(file, 'utf8')).toBe(installed);

        expect(uninstallHook(tt, ctx).action).toBe('restored');
        expect(fs.readFileSync(file, 'utf8')).toBe(original);
        expect(hookStatus(tt, ctx).state).toBe('missing');
      });
    }

    test('uninstall after the user edited the file removes only our entries and keeps the edit', () => {
      const fx = fixture();
      const t: HookTarget = { client, scope: 'user', platform, home: fx.home, systemRoot: fx.systemRoot };
      const file = hookFileOf(t) as string;
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, userFileText(client));
      const ctx = { stateDir: fx.stateDir, command: CMD(client) };
      installHook(t, ctx);
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/^\{/, '{\n  "addedLater": true,'));
      expect(uninstallHook(t, ctx).action).toBe('removed');
      const after = fs.readFileSync(file, 'utf8');
      expect(ours(client, after)).toBe(0);
      expect((parse(after) as { addedLater?: boolean }).addedLater).toBe(true);
      const mine: Record<string, string> = { windsurf: 'guard.py', cursor: './mine.sh', 'gemini-cli': './check.sh', 'claude-code': './lint.sh', 'copilot-cli': './copilot-guard.sh', codex: './bash-guard.sh' };
      expect(after).toContain(mine[client]);
    });

    test('tampering: our entry removed or changed after install shows as tampered; install repairs it', () => {
      const fx = fixture();
      const t: HookTarget = { client, scope: 'user', platform, home: fx.home, systemRoot: fx.systemRoot };
      const file = hookFileOf(t) as string;
      const ctx = { stateDir: fx.stateDir, command: CMD(client) };
      expect(installHook(t, ctx).action).toBe('installed'); // file and directory did not exist
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').split(CMD(client)).join(`${CMD(client)} --evil`));
      // the changed command no longer equals ours, but still names the mcpwatch hook: it counts as changed
      const changed = hookStatus(t, ctx);
      expect(changed.state).toBe('tampered');
      fs.writeFileSync(file, '{}');
      const removed = hookStatus(t, ctx);
      expect(removed.state).toBe('tampered');
      expect(removed.detail).toContain('was removed');
      expect(installHook(t, ctx).action).toBe('installed');
      expect(hookStatus(t, ctx).state).toBe('installed');
      // The version found at repair time (without our entries) is what uninstall gives back.
      expect(uninstallHook(t, ctx).action).toBe('restored');
      expect(fs.readFileSync(file, 'utf8')).toBe('{}');
    });

    test('a file that does not parse is reported and left byte-identical', () => {
      const fx = fixture();
      const t: HookTarget = { client, scope: 'user', platform, home: fx.home, systemRoot: fx.systemRoot };
      const file = hookFileOf(t) as string;
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, '{ "hooks": [ broken');
      const r = installHook(t, { stateDir: fx.stateDir, command: CMD(client) });
      expect([r.action, r.code]).toEqual(['error', 'MCPW_ERR_HOOK_FILE']);
      expect(fs.readFileSync(file, 'utf8')).toBe('{ "hooks": [ broken');
      expect(hookStatus(t, { stateDir: fx.stateDir, command: CMD(client) }).state).toBe('error');
    });
  });
});

test('win32 layout: the catalog names the documented Windows locations', () => {
  const t = (client: HookClientId, scope: 'user' | 'managed') => hookFileOf({ client, scope, platform: 'win32', home: 'C:\\Users\\alice', systemRoot: 'C:\\' });
  expect(t('claude-code', 'user')).toBe('C:\\Users\\alice\\.claude\\settings.json');
  expect(t('claude-code', 'managed')).toBe('C:\\Program Files\\ClaudeCode\\managed-settings.json');
  expect(t('cursor', 'managed')).toBe('C:\\ProgramData\\Cursor\\hooks.json');
  expect(t('windsurf', 'user')).toBe('C:\\Users\\alice\\.codeium\\windsurf\\hooks.json');
  expect(t('windsurf', 'managed')).toBe('C:\\ProgramData\\Windsurf\\hooks.json');
  expect(t('gemini-cli', 'managed')).toBe('C:\\ProgramData\\gemini-cli\\settings.json');
  expect(t('copilot-cli', 'user')).toBe('C:\\Users\\alice\\.copilot\\hooks\\mcpwatch.json');
  expect(t('copilot-cli', 'managed')).toBe('C:\\ProgramData\\GitHub\\Copilot\\policy.d\\mcpwatch.json');
  expect(t('codex', 'user')).toBe('C:\\Users\\alice\\.codex\\hooks.json');
  expect(t('codex', 'managed')).toBeNull();
  expect(t('vscode', 'user')).toBeNull(); // served by the copilot-cli and claude-code files
});

test('Copilot CLI entry: bash and powershell commands, a quoted program path run through PowerShell\'s call operator', () => {
  const fx = fixture();
  const t: HookTarget = { client: 'copilot-cli', scope: 'user', platform: 'win32', home: fx.home, systemRoot: fx.systemRoot };
  const command = '"C:\\Program Files\\mcpwatch\\mcpwatch-agent.exe" hook copilot-cli';
  expect(installHook(t, { stateDir: fx.stateDir, command }).action).toBe('installed');
  const doc = JSON.parse(fs.readFileSync(hookFileOf(t) as string, 'utf8'));
  expect(doc.version).toBe(1);
  expect(doc.hooks.preToolUse).toEqual([{ type: 'command', bash: command, powershell: `& ${command}`, timeoutSec: 10 }]);
  expect(doc.hooks.postToolUse).toHaveLength(1);
  expect(hookStatus(t, { stateDir: fx.stateDir, command }).state).toBe('installed');
});

test('Codex: installs say the user must trust the hook; the managed file is trusted by policy', () => {
  const fx = fixture();
  const user = installHook({ client: 'codex', scope: 'user', platform: 'linux', home: fx.home, systemRoot: fx.systemRoot }, { stateDir: fx.stateDir, command: CMD('codex') });
  expect(user).toMatchObject({ action: 'installed', message: expect.stringContaining('/hooks') });
  const managed = installHook({ client: 'codex', scope: 'managed', platform: 'linux', home: fx.home, systemRoot: fx.systemRoot }, { stateDir: fx.stateDir, command: CMD('codex') });
  expect(managed.path).toBe(path.join(fx.systemRoot, 'etc', 'codex', 'hooks.json'));
  expect(managed.message).toBeUndefined();
  const doc = JSON.parse(fs.readFileSync(managed.path as string, 'utf8'));
  expect(doc.hooks.PreToolUse).toEqual([{ matcher: 'mcp__.*', hooks: [{ type: 'command', command: CMD('codex'), timeout: 10 }] }]);
});

test('darwin and linux managed locations', () => {
  expect(hookFileOf({ client: 'claude-code', scope: 'managed', platform: 'darwin', home: '/Users/a', systemRoot: '/' })).toBe('/Library/Application Support/ClaudeCode/managed-settings.json');
  expect(hookFileOf({ client: 'claude-code', scope: 'managed', platform: 'linux', home: '/home/a', systemRoot: '/' })).toBe('/etc/claude-code/managed-settings.json');
  expect(hookFileOf({ client: 'cursor', scope: 'managed', platform: 'linux', home: '/home/a', systemRoot: '/' })).toBe('/etc/cursor/hooks.json');
  expect(hookFileOf({ client: 'windsurf', scope: 'managed', platform: 'darwin', home: '/Users/a', systemRoot: '/' })).toBe('/Library/Application Support/Windsurf/hooks.json');
});

test('CLI: hooks install/status/uninstall on a fixture home, only for clients present there', async () => {
  const fx = fixture();
  fs.mkdirSync(path.join(fx.home, '.cursor'));
  const args = ['--home', fx.home, '--platform', 'darwin', '--state-dir', fx.stateDir, '--command', CMD('cursor')];
  const inst = await runCli(['hooks', 'install', ...args, '--json']);
  expect(inst.code).toBe(0);
  expect(JSON.parse(inst.stdout)).toEqual([{ client: 'cursor', scope: 'user', path: path.join(fx.home, '.cursor', 'hooks.json'), action: 'installed' }]);
  expect(fs.existsSync(path.join(fx.home, '.claude'))).toBe(false);
  const status = await runCli(['hooks', 'status', ...args, '--json']);
  const states = Object.fromEntries((JSON.parse(status.stdout) as { client: string; state: string }[]).map((s) => [s.client, s.state]));
  expect(states).toEqual({ 'claude-code': 'missing', cursor: 'installed', 'gemini-cli': 'missing', 'copilot-cli': 'missing', codex: 'missing', vscode: 'unsupported', windsurf: 'missing' });
  const un = await runCli(['hooks', 'uninstall', ...args]);
  expect(un.code).toBe(0);
  expect(un.stdout).toContain('restored');
  expect(fs.existsSync(path.join(fx.home, '.cursor', 'hooks.json'))).toBe(false);
  expect((await runCli(['hooks', 'frobnicate'])).code).toBe(2);
  expect((await runCli(['hooks', 'install', '--client', 'nope'])).code).toBe(2);
});

test('a client is present by its own folder: Copilot CLI\'s ~/.copilot without a hooks folder gets the hook file', async () => {
  const fx = fixture();
  fs.mkdirSync(path.join(fx.home, '.copilot'));
  const args = ['--home', fx.home, '--platform', 'linux', '--state-dir', fx.stateDir, '--command', CMD('copilot-cli')];
  const inst = await runCli(['hooks', 'install', ...args, '--json']);
  expect(JSON.parse(inst.stdout)).toEqual([{ client: 'copilot-cli', scope: 'user', path: path.join(fx.home, '.copilot', 'hooks', 'mcpwatch.json'), action: 'installed' }]);
  expect((await runCli(['hooks', 'uninstall', ...args])).stdout).toContain('restored');
  expect(fs.existsSync(path.join(fx.home, '.copilot', 'hooks', 'mcpwatch.json'))).toBe(false);
});

test('Claude Code reads settings.json as strict JSON: a file with comments gets the hook, and says it is inactive', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-strict-'));
  const t: HookTarget = { client: 'claude-code', scope: 'user', platform: 'linux', home: root, systemRoot: root };
  const ctx = { stateDir: path.join(root, 'state'), command: CMD('claude-code') };
  fs.mkdirSync(path.join(root, '.claude'));
  fs.writeFileSync(path.join(root, '.claude', 'settings.json'), '{\n  // mine\n  "model": "opus"\n}\n');
  const r = installHook(t, ctx);
  expect(r).toMatchObject({ action: 'installed', code: 'MCPW_ERR_HOOK_FILE', message: expect.stringContaining('installed but inactive: Claude Code reads this file as strict JSON') });
  expect(hookStatus(t, ctx)).toMatchObject({ state: 'installed', detail: expect.stringContaining('inactive') });
  // a strict-JSON file: no warning
  fs.writeFileSync(path.join(root, '.claude', 'settings.json'), '{ "model": "opus" }\n');
  fs.rmSync(path.join(root, 'state'), { recursive: true });
  expect(installHook(t, ctx).message).toBeUndefined();
  expect(hookStatus(t, ctx).detail).toBeUndefined();
});

test('CLI text output: a note without a code (Codex: trust the hook first) prints as the note alone', async () => {
  const fx = fixture();
  fs.mkdirSync(path.join(fx.home, '.codex'));
  const args = ['--home', fx.home, '--platform', 'linux', '--state-dir', fx.stateDir, '--client', 'codex', '--scope', 'user', '--command', CMD('codex')];
  const text = await runCli(['hooks', 'install', ...args]);
  expect(text.code).toBe(0);
  expect(text.stdout).toContain('(Codex runs a user hook only after the user trusts it');
  expect(text.stdout).not.toContain('undefined');
});
