/**
 * One install record store for `hooks install|uninstall|status` and run's hook keeper: a hook the
 * CLI installed is the keeper's to watch (hooks=off: tampering reported), and records the older
 * layouts left (the CLI's `<stateDir>/hooks/<client>-<scope>.json`, the keeper's
 * `<stateDir>/hook-homes/<home>/hooks/`) are moved into it with their backups, so uninstall still
 * gives the original bytes back.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { McpEvent } from '@mcpwatch/shared';
import { HookKeeper } from '../../../src/hooks/hook-keeper.js';
import { hookStatus, installHook, uninstallHook, type HookTarget } from '../../../src/hooks/hook-installer.js';
import { hookRecordDir, listHookRecords, readHookRecord } from '../../../src/hooks/hook-records.js';
import { runCli } from '../../helpers/cli-run.js';

const CMD = '/opt/mcpwatch/bin/mcpwatch-agent hook claude-code --state-dir /var/lib/mcpwatch';
const ORIGINAL = '{\n  // mine\n  "model": "opus"\n}\n';

function fixture() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-records-'));
  const home = path.join(root, 'home');
  const stateDir = path.join(root, 'state');
  const file = path.join(home, '.claude', 'settings.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, ORIGINAL);
  const target: HookTarget = { client: 'claude-code', scope: 'user', platform: 'linux', home, systemRoot: path.join(root, 'sys') };
  return { root, home, stateDir, file, target };
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** What an older agent left: the hook in the file, its record and backup at `dir`. */
function legacyInstall(f: ReturnType<typeof fixture>, dir: string): string {
  const installed = `{\n  // mine\n  "model": "opus",\n  "hooks": {\n    "PreToolUse": [ { "matcher": "mcp__.*", "hooks": [ { "type": "command", "command": "${CMD}", "timeout": 10 } ] } ],\n    "PostToolUse": [ { "matcher": "mcp__.*", "hooks": [ { "type": "command", "command": "${CMD}", "timeout": 10 } ] } ]\n  }\n}\n`;
  fs.writeFileSync(f.file, installed);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'claude-code-user.json'), JSON.stringify({ path: f.file, existed: true, command: CMD, installedSha256: sha256(installed) }));
  fs.writeFileSync(path.join(dir, 'claude-code-user.orig'), ORIGINAL);
  return installed;
}

test('the CLI installs into the store the keeper reads: with hooks=off the keeper reports that hook tampered', async () => {
  const f = fixture();
  const args = ['--client', 'claude-code', '--home', f.home, '--platform', 'linux', '--state-dir', f.stateDir, '--command', CMD];
  expect((await runCli(['hooks', 'install', ...args])).code).toBe(0);
  expect(listHookRecords(f.stateDir)).toEqual([
    { client: 'claude-code', scope: 'user', path: f.file, existed: true, command: CMD, installedSha256: expect.any(String), events: ['PreToolUse', 'PostToolUse', 'PostToolUseFailure'] },
  ]);

  const events: McpEvent[] = [];
  const keeper = new HookKeeper({
    setting: 'off', stateDir: f.stateDir, platform: 'linux', homes: async () => [f.home],
    command: () => 'a different command the keeper would install', endpointId: () => 'ep', push: (e) => events.push(e), onError: (e) => { throw e; },
  });
  await keeper.check();
  fs.writeFileSync(f.file, ORIGINAL);
  await keeper.check();
  expect(events.map((e) => (e.data as { state: string }).state)).toEqual(['installed', 'tampered']);
  expect((await runCli(['hooks', 'status', ...args])).stdout).toContain('tampered');
});

test("an older CLI's record moves into the store: status sees the install, uninstall restores the original bytes", () => {
  const f = fixture();
  legacyInstall(f, path.join(f.stateDir, 'hooks'));
  // That agent hooked PreToolUse and PostToolUse only: an outdated install, not a tampered one.
  expect(hookStatus(f.target, { stateDir: f.stateDir, command: 'other' }).state).toBe('outdated');
  expect(fs.existsSync(path.join(f.stateDir, 'hooks', 'claude-code-user.json'))).toBe(false);
  expect(fs.existsSync(path.join(f.stateDir, 'hooks', 'claude-code-user.orig'))).toBe(false);
  expect(readHookRecord(f.stateDir, { client: 'claude-code', scope: 'user', path: f.file })?.command).toBe(CMD);
  expect(uninstallHook(f.target, { stateDir: f.stateDir }).action).toBe('restored');
  expect(fs.readFileSync(f.file, 'utf8')).toBe(ORIGINAL);
  expect(fs.readdirSync(hookRecordDir(f.stateDir))).toEqual([]);
});

test("an older keeper's per-home record moves into the store and is listed (the hooks=off keeper watches it)", () => {
  const f = fixture();
  legacyInstall(f, path.join(f.stateDir, 'hook-homes', encodeURIComponent(f.home), 'hooks'));
  expect(listHookRecords(f.stateDir).map((r) => r.path)).toEqual([f.file]);
  expect(fs.readdirSync(path.join(f.stateDir, 'hook-homes', encodeURIComponent(f.home), 'hooks'))).toEqual([]);
  expect(uninstallHook(f.target, { stateDir: f.stateDir }).action).toBe('restored');
  expect(fs.readFileSync(f.file, 'utf8')).toBe(ORIGINAL);
});

test('both older places hold a record of the same file: the most recent one is kept', () => {
  const f = fixture();
  const cliDir = path.join(f.stateDir, 'hooks');
  const keeperDir = path.join(f.stateDir, 'hook-homes', encodeURIComponent(f.home), 'hooks');
  legacyInstall(f, keeperDir);
  const installed = legacyInstall(f, cliDir);
  fs.writeFileSync(path.join(cliDir, 'claude-code-user.json'), JSON.stringify({ path: f.file, existed: true, command: `${CMD} --newer`, installedSha256: sha256(installed) }));
  fs.utimesSync(path.join(keeperDir, 'claude-code-user.json'), new Date('2026-01-01'), new Date('2026-01-01'));
  expect(listHookRecords(f.stateDir).map((r) => r.command)).toEqual([`${CMD} --newer`]);
  expect(fs.readdirSync(keeperDir)).toEqual([]);
});

test('install records are per hook file: two homes keep one record each', () => {
  const f = fixture();
  const other = path.join(f.root, 'home2');
  fs.mkdirSync(path.join(other, '.claude'), { recursive: true });
  expect(installHook(f.target, { stateDir: f.stateDir, command: CMD }).action).toBe('installed');
  expect(installHook({ ...f.target, home: other }, { stateDir: f.stateDir, command: CMD }).action).toBe('installed');
  expect(listHookRecords(f.stateDir).map((r) => r.path).sort()).toEqual([f.file, path.join(other, '.claude', 'settings.json')].sort());
  expect(uninstallHook(f.target, { stateDir: f.stateDir }).action).toBe('restored');
  expect(fs.readFileSync(f.file, 'utf8')).toBe(ORIGINAL);
  expect(hookStatus({ ...f.target, home: other }, { stateDir: f.stateDir, command: CMD }).state).toBe('installed');
});
