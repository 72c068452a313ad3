/**
 * The hook keeper (setting `hooks`): installs the hook where a client's directory exists, reports
 * each state change once as a schema-valid `hook.status` event, re-installs after tampering when
 * the setting says so; with hooks=off it installs nothing and only reports on the hooks mcpwatch
 * has install records of (`hooks install`: the same record store), until the records are removed;
 * it checks again by itself every intervalMs. hooks=audit caps a cached enforce policy.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { McpEvent } from '@mcpwatch/shared';
import { HookKeeper, type HooksSetting } from '../../../src/hooks/hook-keeper.js';
import { cacheToolPolicy } from '../../../src/hooks/journal-pump.js';
import { installHook, uninstallHook, type HookTarget } from '../../../src/hooks/hook-installer.js';
import { waitFor } from '@mcpwatch/testkit';
import { validateEvent, schemaErrors } from '../../helpers/schemas.js';

const COMMAND = (c: string) => `/opt/mcpwatch/mcpwatch-agent hook ${c} --state-dir /var/lib/mcpwatch`;

function rig(setting: HooksSetting, intervalMs?: number) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-keeper-'));
  const home = path.join(root, 'home');
  const stateDir = path.join(root, 'state');
  fs.mkdirSync(path.join(home, '.cursor'), { recursive: true }); // Cursor present; the other clients absent
  const events: McpEvent[] = [];
  const errors: Error[] = [];
  const keeper = new HookKeeper({
    setting, stateDir, platform: 'linux', homes: async () => [home],
    // No rules read the board here: a tampered hook is put back after this hold.
    tamperHoldMs: 1,
    ...(intervalMs !== undefined ? { intervalMs } : {}),
    command: COMMAND,
    endpointId: () => 'ep_keep', push: (e) => events.push(e), onError: (e) => errors.push(e),
  });
  const cursor: HookTarget = { client: 'cursor', scope: 'user', platform: 'linux', home, systemRoot: '/' };
  return { root, home, stateDir, keeper, events, errors, cursor, file: path.join(home, '.cursor', 'hooks.json') };
}

const states = (events: McpEvent[]) => events.map((e) => `${(e.data as { client: string }).client}:${(e.data as { state: string }).state}`);

test('enforce: installs where the client is present, reports once, repairs tampering', async () => {
  const r = rig('enforce');
  await r.keeper.check();
  expect(states(r.events)).toEqual(['cursor:installed']);
  expect(fs.readFileSync(r.file, 'utf8')).toContain('mcpwatch-agent hook cursor');
  expect(fs.existsSync(path.join(r.home, '.claude'))).toBe(false);
  await r.keeper.check();
  expect(r.events).toHaveLength(1); // no change, no event

  fs.writeFileSync(r.file, '{ "version": 1, "hooks": {} }');
  await r.keeper.check();
  expect(states(r.events)).toEqual(['cursor:installed', 'cursor:tampered', 'cursor:installed']);
  expect((r.events[2]!.data as { detail: string }).detail).toBe('re-installed after tampering');
  expect(fs.readFileSync(r.file, 'utf8')).toContain('mcpwatch-agent hook cursor');
  for (const e of r.events) expect(schemaErrors(validateEvent, e)).toBe('');
  expect(r.errors).toEqual([]);
  r.keeper.shutdown();
});

test('off, nothing recorded: installs nothing, reports nothing', async () => {
  const r = rig('off');
  await r.keeper.check();
  expect(r.events).toEqual([]);
  expect(fs.existsSync(r.file)).toBe(false);
  expect(r.errors).toEqual([]);
});

test('off: a recorded hook (hooks install, same state dir) is watched; tampering reported once per change, never repaired; released by hooks uninstall', async () => {
  const r = rig('off');
  const user = '{\n  "version": 1,\n  "hooks": { "beforeShellExecution": [ { "command": "./audit.sh" } ] }\n}\n';
  fs.writeFileSync(r.file, user);
  // What `mcpwatch-agent hooks install --state-dir <the agent's>` does.
  expect(installHook(r.cursor, { stateDir: r.stateDir, command: COMMAND('cursor') }).action).toBe('installed');
  const installed = fs.readFileSync(r.file, 'utf8');
  await r.keeper.check();
  expect(states(r.events)).toEqual(['cursor:installed']);

  // Someone takes mcpwatch's hook out, keeping their own.
  fs.writeFileSync(r.file, user);
  await r.keeper.check();
  await r.keeper.check();
  expect(states(r.events)).toEqual(['cursor:installed', 'cursor:tampered']);
  expect(r.events[1]!.data).toMatchObject({ client: 'cursor', scope: 'user', path: r.file, detail: expect.stringContaining('was removed from') });
  expect(fs.readFileSync(r.file, 'utf8')).toBe(user); // not repaired

  // Put back as it was installed: reported installed again.
  fs.writeFileSync(r.file, installed);
  await r.keeper.check();
  expect(states(r.events)).toEqual(['cursor:installed', 'cursor:tampered', 'cursor:installed']);

  // Tampered again, then the records are cleared by `hooks uninstall`: reported once as it is now, then no longer watched.
  fs.writeFileSync(r.file, installed.replaceAll(COMMAND('cursor'), '/tmp/fake-mcpwatch-agent hook cursor'));
  await r.keeper.check();
  expect(uninstallHook(r.cursor, { stateDir: r.stateDir }).action).toBe('removed');
  await r.keeper.check();
  expect(states(r.events)).toEqual(['cursor:installed', 'cursor:tampered', 'cursor:installed', 'cursor:tampered', 'cursor:missing']);
  expect((r.events[4]!.data as { detail: string }).detail).toContain('no install record');
  const after = fs.readFileSync(r.file, 'utf8');
  await r.keeper.check();
  expect(r.events).toHaveLength(5);
  expect(fs.readFileSync(r.file, 'utf8')).toBe(after);
  for (const e of r.events) expect(schemaErrors(validateEvent, e)).toBe('');
  expect(r.errors).toEqual([]);
});

test('off: a recorded file deleted with its folder is reported tampered, and no folder is created', async () => {
  const r = rig('off');
  expect(installHook(r.cursor, { stateDir: r.stateDir, command: COMMAND('cursor') }).action).toBe('installed');
  await r.keeper.check();
  fs.rmSync(path.join(r.home, '.cursor'), { recursive: true });
  await r.keeper.check();
  expect(states(r.events)).toEqual(['cursor:installed', 'cursor:tampered']);
  expect((r.events[1]!.data as { detail: string }).detail).toContain('was deleted');
  expect(fs.existsSync(path.join(r.home, '.cursor'))).toBe(false);
});

test('enforce: a recorded file whose folder is gone is reported, not re-created', async () => {
  const r = rig('enforce');
  await r.keeper.check();
  fs.rmSync(path.join(r.home, '.cursor'), { recursive: true });
  await r.keeper.check();
  expect(states(r.events)).toEqual(['cursor:installed', 'cursor:tampered']);
  expect(fs.existsSync(path.join(r.home, '.cursor'))).toBe(false);
});

test('off: records of hook files outside the homes watched are left alone', async () => {
  const r = rig('off');
  const elsewhere = path.join(r.root, 'other-home');
  fs.mkdirSync(path.join(elsewhere, '.cursor'), { recursive: true });
  expect(installHook({ ...r.cursor, home: elsewhere }, { stateDir: r.stateDir, command: COMMAND('cursor') }).action).toBe('installed');
  fs.writeFileSync(path.join(elsewhere, '.cursor', 'hooks.json'), '{}');
  await r.keeper.check();
  expect(r.events).toEqual([]);
});

test('started, the keeper checks again by itself every intervalMs', async () => {
  const r = rig('off', 20);
  expect(installHook(r.cursor, { stateDir: r.stateDir, command: COMMAND('cursor') }).action).toBe('installed');
  await r.keeper.start();
  expect(states(r.events)).toEqual(['cursor:installed']);
  fs.writeFileSync(r.file, '{ "version": 1, "hooks": {} }');
  await waitFor('the tampered state from a timed check', () => states(r.events).includes('cursor:tampered'), 10_000, 10);
  r.keeper.shutdown();
  expect(r.errors).toEqual([]);
});

test('hooks=audit caps an enforce policy in the cached file; enforce keeps it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-cap-'));
  const policy = { mode: 'enforce', blockedServers: ['x'] };
  expect(cacheToolPolicy(dir, policy, () => undefined, 'audit')).toBe(true);
  expect(JSON.parse(fs.readFileSync(path.join(dir, 'tool-policy.json'), 'utf8'))).toEqual({ mode: 'audit', blockedServers: ['x'] });
  expect(cacheToolPolicy(dir, policy, () => undefined, 'enforce')).toBe(true);
  expect(JSON.parse(fs.readFileSync(path.join(dir, 'tool-policy.json'), 'utf8')).mode).toBe('enforce');
  const errors: Error[] = [];
  expect(cacheToolPolicy(dir, { mode: 'lockdown' }, (e) => errors.push(e))).toBe(false);
  expect(errors.map((e) => (e as Error & { code: string }).code)).toEqual(['MCPW_ERR_HOOK_POLICY_INVALID']);
  expect(JSON.parse(fs.readFileSync(path.join(dir, 'tool-policy.json'), 'utf8')).mode).toBe('enforce'); // the cached one is kept
});
