/**
 * A tampered hook, end to end through `run` as a real process (the node bin, relaunched as in
 * production) on a fixture home, shipping to a real HTTP collector (testkit's FakeCollector):
 * - with the managed setting hooks=audit the agent installs its hook into Claude Code's user
 *   settings next to the user's own hook; someone then points mcpwatch's PreToolUse hook elsewhere;
 *   the keeper's next check reports it (`hook.status` tampered), the rules raise `hook-tampered`
 *   naming the file, the agent re-installs its hook (`hook.status` installed, "re-installed after
 *   tampering") and the finding is resolved; the user's own hook is kept throughout;
 * - with hooks=off run installs and repairs nothing but still watches the hooks mcpwatch has
 *   install records of: the hook left from the audit period, removed while the agent was stopped,
 *   is reported tampered and raised, and stays removed;
 * - `hooks install` (the CLI, a real process) then `run --hooks off`: an altered hook is reported
 *   and raised, never repaired; put back, the finding resolves; altered again and then
 *   `hooks uninstall`: the record is gone, the finding resolves.
 * Runs use --hook-check-ms 1000 (default 60 s), so a change is seen within about a second; waits
 * poll for the outcome with generous limits for a loaded machine.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Finding, McpEvent } from '@mcpwatch/shared';
import { enrolledStateDir, FakeCollector, stopProcess, waitFor } from '@mcpwatch/testkit';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/mcpwatch-agent.js');
const AGENT = 'ag_hook_tamper';
const AGENT_CLI = 'ag_hook_tamper_cli';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
/** The keeper's check interval in these runs (setting hookCheckMs). */
const HOOK_CHECK_MS = 1000;
/** A check, the rules' read and a loaded machine. */
const SEEN_MS = 60_000;

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
  collector = new FakeCollector(new Map([[AGENT, publicKey], [AGENT_CLI, publicKey]]));
  await collector.listen();
});
afterEach(async () => {
  if (agent) await stopProcess(agent);
  agent = null;
  if (root) fs.rmSync(root, { recursive: true, force: true });
  root = null;
});
afterAll(async () => collector.close());

const ENV = (home: string) => ({ PATH: process.env.PATH, HOME: home, MCPWATCH_BATCH_MAX_WAIT_MS: '20', MCPWATCH_RETRY_BASE_MS: '50', MCPWATCH_RETRY_MAX_MS: '200', MCPWATCH_RECONNECT_JITTER_MS: '0', MCPWATCH_LOW_PRIORITY: 'false' });

/** `mcpwatch-agent run` on `home` with the hooks setting given as the managed flag. */
function startRun(stateDir: string, home: string, hooks: 'off' | 'audit'): ChildProcess {
  const child = spawn(process.execPath, [BIN, 'run', '--state-dir', stateDir, '--home', home, '--platform', 'linux', '--sources', 'configs', '--hooks', hooks, '--hook-check-ms', String(HOOK_CHECK_MS)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: ENV(home),
  });
  child.stderr?.resume();
  return child;
}

/** `mcpwatch-agent hooks install|uninstall` on `home` (every client present there, or `client`), as an administrator runs it: a real process. */
function hooksCli(action: 'install' | 'uninstall', stateDir: string, home: string, client?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, 'hooks', action, ...(client ? ['--client', client] : []), '--home', home, '--platform', 'linux', '--state-dir', stateDir], { env: ENV(home), timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`hooks ${action}: ${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

/** A fixture home with Claude Code (the user's own hook and settings, and one server) and Cursor. */
function claudeHome(root: string): { home: string; settingsFile: string; cursorFile: string } {
  const home = path.join(root, 'home');
  const settingsFile = path.join(home, '.claude', 'settings.json');
  fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
  fs.mkdirSync(path.join(home, '.cursor'), { recursive: true });
  fs.writeFileSync(settingsFile, `${JSON.stringify({ theme: 'dark', hooks: { PreToolUse: [USER_HOOK] } }, null, 2)}\n`);
  fs.writeFileSync(path.join(home, '.claude.json'), JSON.stringify({ mcpServers: { docs: { command: 'npx', args: ['-y', '@example/docs-mcp@1.2.3'] } } }));
  return { home, settingsFile, cursorFile: path.join(home, '.cursor', 'hooks.json') };
}

/**
 * Returns once the running keeper has made a whole check after this call: mcpwatch's hook is taken
 * out of Cursor's (recorded) hook file and the test waits for that to be reported. What the checks
 * before it did to other files (e.g. a repair) is done by then.
 */
async function laterCheck(cursorFile: string): Promise<void> {
  const from = collector.events().length;
  fs.writeFileSync(cursorFile, '{ "version": 1, "hooks": {} }\n');
  await waitFor('a later check (the change to Cursor\'s hook file reported)', () => hookStatuses(collector.events().slice(from), cursorFile).some((s) => s.state === 'tampered'), SEEN_MS, 200);
}

/** Points mcpwatch's PreToolUse hook at another state dir (its calls would go unseen there). */
function alterCommand(settingsFile: string, command: string, stateDir: string, elsewhere: string): string {
  const altered = command.replace(stateDir, elsewhere);
  fs.writeFileSync(settingsFile, fs.readFileSync(settingsFile, 'utf8').replace(JSON.stringify(command).slice(1, -1), JSON.stringify(altered).slice(1, -1)));
  expect(ourCommands(readSettings(settingsFile), 'PreToolUse')).toEqual([altered]);
  return fs.readFileSync(settingsFile, 'utf8');
}

test('hooks=audit: a tampered hook is reported, raised as hook-tampered and re-installed; hooks=off reports a removed one and leaves it removed', async () => {
  // Arrange: Claude Code on the fixture home, with one hook of the user's own and a server.
  const stateDir = enrolledStateDir({ agentId: AGENT, endpointId: 'ep_tamper', server: collector.url, privateKey, settings: {}, prefix: 'mcpw-hook-tamper-' });
  root = path.dirname(stateDir);
  const { home, settingsFile, cursorFile } = claudeHome(root);

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
  alterCommand(settingsFile, command!, stateDir, path.join(root, 'elsewhere'));

  // Assert 2: reported, raised, re-installed, resolved.
  await waitFor('the re-install after tampering', () => hookStatuses(collector.events().slice(before), settingsFile).some((s) => s.state === 'installed' && /re-installed after tampering/.test(s.detail ?? '')), SEEN_MS, 200);
  const after = collector.events().slice(before);
  const tampered = hookStatuses(after, settingsFile).find((s) => s.state === 'tampered');
  expect(tampered).toMatchObject({ client: 'claude-code', scope: 'user', detail: expect.stringContaining('was changed after it was installed') });
  const raised = await waitFor('the hook-tampered finding', () => findings(collector.events().slice(before), 'finding.raised')[0], SEEN_MS, 200);
  expect(raised).toMatchObject({ ruleId: 'hook-tampered', subject: { client: 'claude-code', configPath: settingsFile } });
  await waitFor('the finding resolved', () => findings(collector.events().slice(before), 'finding.resolved').some((f) => f.id === raised.id), SEEN_MS, 200);
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

  // Assert 3: the audit period's install record makes the removal tampering: reported and raised,
  // and the hook stays removed (hooks=off never writes a hook file).
  const offStatus = await waitFor('hook.status from the hooks=off run', () => hookStatuses(collector.events().slice(beforeOff), settingsFile)[0], 120_000, 200);
  expect(offStatus).toMatchObject({ client: 'claude-code', scope: 'user', state: 'tampered', detail: expect.stringContaining('was removed from') });
  const offRaised = await waitFor('hook-tampered with hooks=off', () => findings(collector.events().slice(beforeOff), 'finding.raised')[0] ?? snapshots(collector.events().slice(beforeOff)).flatMap((e) => e.data.findings).find((f) => f.ruleId === 'hook-tampered'), SEEN_MS, 200);
  expect(offRaised.subject).toMatchObject({ client: 'claude-code', configPath: settingsFile });
  // A later check: still only that one state, and the file as it was left.
  await laterCheck(cursorFile);
  expect(hookStatuses(collector.events().slice(beforeOff), settingsFile).map((s) => s.state)).toEqual(['tampered']);
  expect(fs.readFileSync(settingsFile, 'utf8')).toBe(removedText);
}, 600_000);

test('hooks install, then run with hooks=off: an altered hook is reported and raised, never repaired; restored or uninstalled, the finding resolves', async () => {
  const stateDir = enrolledStateDir({ agentId: AGENT_CLI, endpointId: 'ep_tamper_cli', server: collector.url, privateKey, settings: {}, prefix: 'mcpw-hook-tamper-cli-' });
  root = path.dirname(stateDir);
  const { home, settingsFile, cursorFile } = claudeHome(root);

  // Arrange: an administrator installs the hook with the CLI, into the agent's state dir (Claude Code and Cursor are present).
  const install = await hooksCli('install', stateDir, home);
  expect(install).toMatch(/claude-code +user +installed/);
  expect(install).toMatch(/cursor +user +installed/);
  const installedText = fs.readFileSync(settingsFile, 'utf8');
  const [command] = ourCommands(readSettings(settingsFile), 'PreToolUse');
  expect(command).toContain(`hook claude-code --state-dir ${stateDir}`);
  const start = collector.events().length;
  agent = startRun(stateDir, home, 'off');
  await waitFor('the recorded hook reported installed', () => hookStatuses(collector.events().slice(start), settingsFile).some((s) => s.state === 'installed'), 120_000, 200);

  // Act 1: the hook is altered while the agent runs.
  const before = collector.events().length;
  const alteredText = alterCommand(settingsFile, command!, stateDir, path.join(root, 'elsewhere'));

  // Assert 1: hook.status tampered and hook-tampered reach the collector; the file is not repaired.
  const tampered = await waitFor('hook.status tampered', () => hookStatuses(collector.events().slice(before), settingsFile).find((s) => s.state === 'tampered'), SEEN_MS, 200);
  expect(tampered).toMatchObject({ client: 'claude-code', scope: 'user', detail: expect.stringContaining('was changed after it was installed') });
  const raised = await waitFor('the hook-tampered finding', () => findings(collector.events().slice(before), 'finding.raised')[0], SEEN_MS, 200);
  expect(raised).toMatchObject({ ruleId: 'hook-tampered', subject: { client: 'claude-code', configPath: settingsFile } });
  await laterCheck(cursorFile);
  expect(fs.readFileSync(settingsFile, 'utf8')).toBe(alteredText);
  expect(hookStatuses(collector.events().slice(before), settingsFile).map((s) => s.state)).toEqual(['tampered']);

  // Act 2: someone puts the hook back as installed. Assert: installed again, the finding resolved.
  const beforeRestore = collector.events().length;
  fs.writeFileSync(settingsFile, installedText);
  await waitFor('the finding resolved after the restore', () => findings(collector.events().slice(beforeRestore), 'finding.resolved').some((f) => f.id === raised.id), SEEN_MS, 200);
  expect(hookStatuses(collector.events().slice(beforeRestore), settingsFile).map((s) => s.state)).toEqual(['installed']);

  // Act 3: altered again, raised again; then the administrator uninstalls (the record goes). Assert: resolved, no longer watched.
  const beforeAgain = collector.events().length;
  alterCommand(settingsFile, command!, stateDir, path.join(root, 'elsewhere'));
  await waitFor('raised again', () => findings(collector.events().slice(beforeAgain), 'finding.raised').some((f) => f.id === raised.id), SEEN_MS, 200);
  const beforeUninstall = collector.events().length;
  expect(await hooksCli('uninstall', stateDir, home, 'claude-code')).toMatch(/claude-code +user +removed/);
  await waitFor('the finding resolved after hooks uninstall', () => findings(collector.events().slice(beforeUninstall), 'finding.resolved').some((f) => f.id === raised.id), SEEN_MS, 200);
  const released = hookStatuses(collector.events().slice(beforeUninstall), settingsFile);
  expect(released).toEqual([expect.objectContaining({ state: 'missing', detail: expect.stringContaining('no install record') })]);
  const settings = readSettings(settingsFile);
  expect(ourCommands(settings, 'PreToolUse')).toEqual([]);
  expect(settings.hooks.PreToolUse).toContainEqual(USER_HOOK);
}, 600_000);
