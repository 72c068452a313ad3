/**
 * The hook keeper (setting `hooks`): installs the hook where a client's directory exists, reports
 * each state change once as a schema-valid `hook.status` event, re-installs after tampering when
 * the setting says so and only reports with hooks=off; hooks=audit caps a cached enforce policy.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { McpEvent } from '@mcpwatch/shared';
import { HookKeeper, type HooksSetting } from '../../../src/hooks/hook-keeper.js';
import { cacheToolPolicy } from '../../../src/hooks/journal-pump.js';
import { validateEvent, schemaErrors } from '../../helpers/schemas.js';

function rig(setting: HooksSetting) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-keeper-'));
  const home = path.join(root, 'home');
  fs.mkdirSync(path.join(home, '.cursor'), { recursive: true }); // Cursor present; the other clients absent
  const events: McpEvent[] = [];
  const errors: Error[] = [];
  const keeper = new HookKeeper({
    setting, stateDir: path.join(root, 'state'), platform: 'linux', homes: async () => [home],
    // No rules read the board here: a tampered hook is put back after this hold.
    tamperHoldMs: 1,
    command: (c) => `/opt/mcpwatch/mcpwatch-agent hook ${c} --state-dir /var/lib/mcpwatch`,
    endpointId: () => 'ep_keep', push: (e) => events.push(e), onError: (e) => errors.push(e),
  });
  return { home, keeper, events, errors, file: path.join(home, '.cursor', 'hooks.json') };
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

test('off: reports, never writes', async () => {
  const r = rig('off');
  await r.keeper.check();
  expect(states(r.events)).toEqual(['cursor:missing']);
  expect(fs.existsSync(r.file)).toBe(false);
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
