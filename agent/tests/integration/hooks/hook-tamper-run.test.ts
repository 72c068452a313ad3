/**
 * A tampered hook, end to end through `run` as a real process (the node bin, relaunched as in
 * production) on a fixture home, shipping to a real HTTP collector (testkit's FakeCollector):
 * - with the managed setting hooks=audit the agent installs its hook into Claude Code's user
 *   settings next to the user's own hook; someone then points mcpwatch's PreToolUse hook elsewhere;
 *   the keeper's next check reports it (`hook.status` tampered), the rules raise `hook-tampered`
 *   naming the file, the agent re-installs its hook (`hook.status` installed, "re-installed after
 *   tampering") and the finding is resolved; the user's own hook is kept throughout;
 * - with hooks=off run does not manage hooks (config table: "not managed by run"): a hook removed
 *   while the agent was stopped stays removed, and that run reports no hook state.
 * The keeper checks every 60 s, so the tamper is seen within about a minute: waits poll for the
 * outcome with generous limits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Finding, McpEvent } from '@mcpwatch/shared';
import { enrolledStateDir, FakeCollector, stopProcess, waitFor } from '@mcpwatch/testkit';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/mcpwatch-agent.js');
const AGENT = 'ag_hook_tamper';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
/** The keeper's check interval (hook-keeper.ts, 60 s) plus the rules' read and a loaded machine. */
const TAMPER_SEEN_MS = 240_000;

const USER_HOOK = { matcher: 'Bash', hooks: [{ type: 'command', command: 'my-own-bash-guard --strict' }] };

interface HookEntry { matcher?: string; hooks: { type: string; command: string }[] }
interface Settings { hooks: Record<string, HookEntry[]>; theme?: string }

const readSettings = (file: string): Settings => JSON.parse(fs.readFileSync(file, 'utf8')) as Settings;
/** Commands in `event` that name mcpwatch's hook for Claude Code. */
const ourCommands = (s: Settings, event: string): string[] =>
  (s.hooks[event] ?? []).flatMap((e) => e.hooks.map((h) => h.command)).filter((c) => c.includes(' hook claude-code'));

const hookStatuses = (events: McpEvent[], file: string) =>
  events.filter((e): e is Extract<McpEvent, { type: 'hook.status' }> => e.type === 'hook.status' && e.data.path === file).map((e) => e.data);
const findings = (events: McpEvent[], type: 'finding.raised' | 'finding.resolved'): Finding[] =>
  events.filter((e): e is Extract<McpEvent, { type: typeof type }> => e.type === type).map((e) => e.data as Finding).filter((f) => f.ruleId === 'hook-tampered');
const snapshots = (events: McpEvent[]) => events.filter((e): e is Extract<McpEvent, { type: 'inventory.snapshot' }> => e.type === 'inventory.snapshot');

let collector: FakeCollector;
let agent: ChildProcess | null = null;
let root: string | null = null;
beforeAll(async () => {
  collector = new FakeCollector(new Map([[AGENT, publicKey]]));
  await collector.listen();
});
afterEach(async () => {
  if (agent) await stopProcess(agent);
  agent = null;
  if (root) fs.rmSync(root, { recursive: true, force: true });
  root = null;
});
afterAll(async () => collector.close());

/** `mcpwatch-agent run` on `home` with the hooks setting given as the managed flag. */
function startRun(stateDir: string, home: string, hooks: 'off' | 'audit'): ChildProcess {
  const child = spawn(process.execPath, [BIN, 'run', '--state-dir', stateDir, '--home', home, '--platform', 'linux', '--sources', 'configs', '--hooks', hooks], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH, HOME: home, MCPWATCH_BATCH_MAX_WAIT_MS: '20', MCPWATCH_RETRY_BASE_MS: '50', MCPWATCH_RETRY_MAX_MS: '200', MCPWATCH_RECONNECT_JITTER_MS: '0', MCPWATCH_LOW_PRIORITY: 'false' },
  });
  child.stderr?.resume();
  return child;
}

test('hooks=audit: a tampered hook is reported, raised as hook-tampered and re-installed; hooks=off leaves a removed hook alone', async () => {
  // Arrange: Claude Code on the fixture home, with one hook of the user's own and a server.
  const stateDir = enrolledStateDir({ agentId: AGENT, endpointId: 'ep_tamper', server: collector.url, privateKey, settings: {}, prefix: 'mcpw-hook-tamper-' });
  root = path.dirname(stateDir);
  const home = path.join(root, 'home');
  const settingsFile = path.join(home, '.claude', 'settings.json');
  fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
  fs.writeFileSync(settingsFile, `${JSON.stringify({ theme: 'dark', hooks: { PreToolUse: [USER_HOOK] } }, null, 2)}\n`);
  fs.writeFileSync(path.join(home, '.claude.json'), JSON.stringify({ mcpServers: { docs: { command: 'npx', args: ['-y', '@example/docs-mcp@1.2.3'] } } }));

  // Act 1: run with hooks=audit installs the hook.
  agent = startRun(stateDir, home, 'audit');
  await waitFor('the hook installed by run', () => hookStatuses(collector.events(), settingsFile).some((s) => s.state === 'installed'), 120_000, 200);
  const installed = readSettings(settingsFile);
  const [command] = ourCommands(installed, 'PreToolUse');
  expect(command).toContain(`hook claude-code --state-dir ${stateDir}`);
  expect(ourCommands(installed, 'PostToolUse')).toEqual([command]);
  expect(installed.hooks.PreToolUse).toContainEqual(USER_HOOK);

  // Act 2: someone points mcpwatch's PreToolUse hook at another state dir (its calls would go unseen).
  const before = collector.events().length;
  const altered = command!.replace(stateDir, path.join(root, 'elsewhere'));
  fs.writeFileSync(settingsFile, fs.readFileSync(settingsFile, 'utf8').replace(JSON.stringify(command).slice(1, -1), JSON.stringify(altered).slice(1, -1)));
  expect(ourCommands(readSettings(settingsFile), 'PreToolUse')).toEqual([altered]);

  // Assert 2: reported, raised, re-installed, resolved.
  await waitFor('the re-install after tampering', () => hookStatuses(collector.events().slice(before), settingsFile).some((s) => s.state === 'installed' && /re-installed after tampering/.test(s.detail ?? '')), TAMPER_SEEN_MS, 500);
  const after = collector.events().slice(before);
  const tampered = hookStatuses(after, settingsFile).find((s) => s.state === 'tampered');
  expect(tampered).toMatchObject({ client: 'claude-code', scope: 'user', detail: expect.stringContaining('was changed after it was installed') });
  const raised = await waitFor('the hook-tampered finding', () => findings(collector.events().slice(before), 'finding.raised')[0], 60_000, 200);
  expect(raised).toMatchObject({ ruleId: 'hook-tampered', subject: { client: 'claude-code', configPath: settingsFile } });
  await waitFor('the finding resolved', () => findings(collector.events().slice(before), 'finding.resolved').some((f) => f.id === raised.id), 60_000, 200);
  const repaired = readSettings(settingsFile);
  expect(ourCommands(repaired, 'PreToolUse')).toEqual([command]);
  expect(ourCommands(repaired, 'PostToolUse')).toEqual([command]);
  expect(repaired.hooks.PreToolUse).toContainEqual(USER_HOOK);
  expect(repaired.theme).toBe('dark');

  // Act 3: the agent stops; mcpwatch's hook is removed; run starts again with hooks=off.
  await stopProcess(agent);
  const removedText = `${JSON.stringify({ theme: 'dark', hooks: { PreToolUse: [USER_HOOK] } }, null, 2)}\n`;
  fs.writeFileSync(settingsFile, removedText);
  const beforeOff = collector.events().length;
  agent = startRun(stateDir, home, 'off');

  // Assert 3: that run's start snapshot arrives (the keeper, were it on, checks before the watcher
  // starts); the hook stays removed and that run reports no hook state and no hook-tampered.
  const snapshot = await waitFor('the hooks=off start snapshot', () => snapshots(collector.events().slice(beforeOff))[0], 120_000, 200);
  expect(snapshot.data.findings.filter((f) => f.ruleId === 'hook-tampered')).toEqual([]);
  expect(hookStatuses(collector.events().slice(beforeOff), settingsFile)).toEqual([]);
  expect(fs.readFileSync(settingsFile, 'utf8')).toBe(removedText);
}, 600_000);
