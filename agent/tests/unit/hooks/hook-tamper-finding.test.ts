/**
 * A hook removed or altered by someone else becomes the rules engine's `hook-tampered` finding
 * (real hook files in a fixture home, the real keeper, board and rules evaluation as run mode wires
 * them): with hooks=enforce the finding is raised, then resolved by the agent's re-install (which
 * waits until the rules saw the tampered state); with hooks=off it stays until an administrator
 * re-installs or `hooks uninstall` removes the install record; disabledRules silences it; the
 * finding names the file, never its content.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Finding, McpEvent } from '@mcpwatch/shared';
import { HookKeeper, type HooksSetting } from '../../../src/hooks/hook-keeper.js';
import { HookStateBoard } from '../../../src/hooks/hook-state-board.js';
import { withHookSupport } from '../../../src/hooks/hook-findings.js';
import { installHook, uninstallHook } from '../../../src/hooks/hook-installer.js';
import type { ScanRulesInput } from '../../../src/inventory/scan.js';
import type { RulesOptions } from '../../../src/rules/index.js';

const COMMAND = '/opt/mcpwatch/mcpwatch-agent hook claude-code --state-dir /var/lib/mcpwatch';

function rig(setting: HooksSetting, options: RulesOptions = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-tamper-'));
  const home = path.join(root, 'home');
  const file = path.join(home, '.claude', 'settings.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ model: 'opus', permissions: { allow: ['Bash(ls)'] } }, null, 2));
  const board = new HookStateBoard();
  const evaluate = withHookSupport(() => [], { board, serverMap: null, options: () => options });
  // What the watch engine does on a change: evaluate the rules again; each evaluation is recorded.
  const evaluations: Finding[][] = [];
  const input = { ctx: { platform: 'linux' }, files: [], servers: [], processes: [], sockets: [] } as unknown as ScanRulesInput;
  board.onChange(() => evaluations.push(evaluate(input)));
  const events: McpEvent[] = [];
  const keeper = new HookKeeper({
    setting, stateDir: path.join(root, 'state'), platform: 'linux', homes: async () => [home], board,
    command: () => COMMAND, endpointId: () => 'ep_t', push: (e) => events.push(e), onError: (e) => { throw e; },
    now: () => new Date('2026-12-06T10:00:00Z'),
  });
  const tamper = () => {
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    delete doc.hooks;
    fs.writeFileSync(file, JSON.stringify(doc, null, 2));
  };
  return { root, home, file, board, keeper, evaluations, events, tamper };
}

const tampered = (fs_: Finding[]) => fs_.filter((f) => f.ruleId === 'hook-tampered');

test('enforce: removal is raised as hook-tampered, the agent re-installs after the rules saw it, the finding resolves', async () => {
  const r = rig('enforce');
  await r.keeper.check();
  expect(fs.readFileSync(r.file, 'utf8')).toContain('mcpwatch-agent hook claude-code');
  expect(r.evaluations.flatMap(tampered)).toEqual([]);

  r.tamper();
  await r.keeper.check();
  // The evaluation made when the tampered state was posted holds the finding; the one after the re-install does not.
  const withFinding = r.evaluations.findIndex((e) => tampered(e).length === 1);
  expect(withFinding).toBeGreaterThan(-1);
  const f = tampered(r.evaluations[withFinding]!)[0]!;
  expect(f).toMatchObject({ ruleId: 'hook-tampered', severity: 'high', subject: { client: 'claude-code', configPath: r.file } });
  expect(f.description).toContain('re-installs');
  expect(f.evidence?.detail).toContain('removed');
  expect(JSON.stringify(f)).not.toContain('Bash(ls)'); // the file's other content stays out
  expect(tampered(r.evaluations[r.evaluations.length - 1]!)).toEqual([]);
  expect(fs.readFileSync(r.file, 'utf8')).toContain('mcpwatch-agent hook claude-code');
  expect(JSON.parse(fs.readFileSync(r.file, 'utf8')).permissions).toEqual({ allow: ['Bash(ls)'] });
  expect(r.events.map((e) => (e.data as { state: string }).state)).toEqual(['installed', 'tampered', 'installed']);
  // Same id on every evaluation: Security Hub updates one finding.
  r.tamper();
  await r.keeper.check();
  expect(tampered(r.evaluations.find((e, i) => i > withFinding + 1 && tampered(e).length === 1)!)[0]!.id).toBe(f.id);
});

test('a changed command is tampering too', async () => {
  const r = rig('enforce');
  await r.keeper.check();
  fs.writeFileSync(r.file, fs.readFileSync(r.file, 'utf8').replaceAll(COMMAND, '/tmp/fake-mcpwatch-agent hook claude-code'));
  await r.keeper.check();
  const hit = r.evaluations.flatMap(tampered)[0];
  expect(hit?.evidence?.detail).toContain('was changed');
});

test('off: the finding stays open until the hook is installed again; disabled rule: no finding', async () => {
  const r = rig('enforce');
  await r.keeper.check();
  // The same keeper state, now with hooks=off (it reports, never writes).
  const off = new HookKeeper({
    setting: 'off', stateDir: path.join(r.root, 'state'), platform: 'linux', homes: async () => [r.home], board: r.board,
    command: () => COMMAND, endpointId: () => 'ep_t', push: () => undefined, onError: (e) => { throw e; },
  });
  r.tamper();
  await off.check();
  await off.check();
  expect(tampered(r.evaluations[r.evaluations.length - 1]!)).toHaveLength(1);
  expect(fs.readFileSync(r.file, 'utf8')).not.toContain('mcpwatch-agent');
  // An administrator re-installs (`hooks install` with the agent's state dir: the keeper's record store).
  const target = { client: 'claude-code', scope: 'user', platform: 'linux', home: r.home, systemRoot: '/' } as const;
  expect(installHook(target, { stateDir: path.join(r.root, 'state'), command: COMMAND }).action).toBe('installed');
  await off.check();
  expect(tampered(r.evaluations[r.evaluations.length - 1]!)).toEqual([]);

  // Tampered again, then `hooks uninstall` removes the record: the finding resolves, nothing is re-installed.
  r.tamper();
  await off.check();
  expect(tampered(r.evaluations[r.evaluations.length - 1]!)).toHaveLength(1);
  expect(uninstallHook(target, { stateDir: path.join(r.root, 'state') }).action).toBe('absent');
  await off.check();
  expect(tampered(r.evaluations[r.evaluations.length - 1]!)).toEqual([]);
  expect(fs.readFileSync(r.file, 'utf8')).not.toContain('mcpwatch-agent');

  const quiet = rig('off', { disabledRules: ['hook-tampered'] });
  quiet.board.post({ client: 'cursor', scope: 'user', path: '/x/hooks.json', state: 'tampered', detail: 'removed' });
  expect(quiet.evaluations.flatMap(tampered)).toEqual([]);
});

test('with no rules reading the board, the re-install still happens after tamperHoldMs', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-tamper-'));
  const home = path.join(root, 'home');
  fs.mkdirSync(path.join(home, '.cursor'), { recursive: true });
  const keeper = new HookKeeper({
    setting: 'audit', stateDir: path.join(root, 'state'), platform: 'linux', homes: async () => [home], board: new HookStateBoard(), tamperHoldMs: 10,
    command: (c) => `/opt/mcpwatch/mcpwatch-agent hook ${c}`, endpointId: () => 'ep', push: () => undefined, onError: (e) => { throw e; },
  });
  await keeper.check();
  fs.writeFileSync(path.join(home, '.cursor', 'hooks.json'), '{"version":1,"hooks":{}}');
  await keeper.check();
  expect(fs.readFileSync(path.join(home, '.cursor', 'hooks.json'), 'utf8')).toContain('mcpwatch-agent hook cursor');
});
