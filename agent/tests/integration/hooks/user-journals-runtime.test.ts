/**
 * A root/SYSTEM agent and its users' hooks: a hook that cannot write the agent's owner-only
 * journal writes the user's own `~/.mcpwatch/hook-journal`, and the running agent (AgentRuntime,
 * homes as scan finds them, injected here) pumps every user's journal: each call arrives once as a
 * schema-valid `tool.called` event carrying the user whose journal held it. A user's corrupted
 * journal is reported and its valid records still arrive; a user's journal folder that is a
 * symlink (pointing at another user's journal) is reported and never read; neither costs the
 * other users anything.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { INVENTORY_SCHEMA_ID, type InventoryDocument } from '@mcpwatch/shared';
import { enrolledStateDir } from '@mcpwatch/testkit';
import { AgentRuntime, type WatchEngine } from '../../../src/runtime/agent-runtime.js';
import { configDefaults, type AgentConfig } from '../../../src/config/config-table.js';
import { JOURNAL_DIR, userHookStateDir } from '../../../src/hooks/hook-journal.js';
import { validateEvent, schemaErrors } from '../../helpers/schemas.js';
import { collectorRuntimeFixture } from '../../helpers/runtime-fixture.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/mcpwatch-agent.js');
const AGENT = 'ag_users';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const emptyDoc = { schema: INVENTORY_SCHEMA_ID, generatedAt: new Date().toISOString(), host: { hostname: 'h', platform: 'linux', users: [] }, clients: [], servers: [], processes: [], sockets: [], findings: [], errors: [] } as InventoryDocument;

/** The real hook command, as Claude Code runs it, for a user whose HOME is `home`, against an agent journal it cannot write. */
function hookAs(home: string, blockedStateDir: string, tool: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'hook', 'claude-code', '--state-dir', blockedStateDir], { env: { ...process.env, HOME: home, USERPROFILE: home }, stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', reject);
    child.on('close', resolve);
    child.stdin.end(JSON.stringify({ session_id: 's-u', transcript_path: '/tmp/t', cwd: '/tmp', hook_event_name: 'PreToolUse', tool_name: `mcp__github__${tool}`, tool_input: { title: 't' } }));
  });
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const fx = collectorRuntimeFixture(AGENT, publicKey);
let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-userjournals-'));
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

test('the runtime pumps every user\'s hook journal; a corrupted or linked journal is reported and loses nothing else', async () => {
  // The hooks' view: the agent's journal is not writable (a file where its folder should be).
  const blocked = path.join(root, 'agent-owner-only');
  fs.mkdirSync(blocked);
  fs.writeFileSync(path.join(blocked, JOURNAL_DIR), 'not writable by users');
  const alice = path.join(root, 'home', 'alice');
  const bob = path.join(root, 'home', 'bob');
  const mallory = path.join(root, 'home', 'mallory');
  for (const h of [alice, bob, mallory]) fs.mkdirSync(h, { recursive: true });
  expect(await hookAs(alice, blocked, 'create_issue')).toBe(0);
  expect(await hookAs(bob, blocked, 'list_repos')).toBe(0);
  // Alice's journal gets a damaged region between two good records.
  const aliceFile = path.join(userHookStateDir(alice), JOURNAL_DIR, fs.readdirSync(path.join(userHookStateDir(alice), JOURNAL_DIR)).find((f) => f.endsWith('.log'))!);
  fs.appendFileSync(aliceFile, Buffer.concat([Buffer.from([0xff, 0xfe, 0x4d, 0x57, 9, 0, 0, 0]), Buffer.from('garbage that is no record')]));
  expect(await hookAs(alice, blocked, 'merge_pr')).toBe(0);
  // Mallory's journal folder is a link to Bob's: a root agent must neither read nor prune through it.
  fs.mkdirSync(userHookStateDir(mallory), { mode: 0o700 });
  fs.symlinkSync(path.join(userHookStateDir(bob), JOURNAL_DIR), path.join(userHookStateDir(mallory), JOURNAL_DIR));

  const stateDir = enrolledStateDir({ agentId: AGENT, endpointId: 'ep_users', server: fx.collector.url, privateKey, prefix: 'mcpw-userjournals-st-' });
  const config: AgentConfig = { ...configDefaults(), stateDir, heartbeatMs: 60_000, retryBaseMs: 10, retryMaxMs: 50, reconnectJitterMs: 0, batchMaxWaitMs: 10, lowPriority: false, enrollSecret: null };
  const errors: string[] = [];
  const start = () =>
    new AgentRuntime({
      config,
      createWatcher: (): WatchEngine => ({ start: async () => undefined, stop: async () => undefined, current: () => emptyDoc }),
      hostInfo: async () => ({ hostname: 'h', platform: 'linux', users: [] }),
      log: (level, message) => void (level === 'error' && errors.push(message)),
      userHomes: async () => [{ user: 'alice', home: alice }, { user: 'bob', home: bob }, { user: 'mallory', home: mallory }],
    });
  fx.runtime = start();
  await fx.runtime.start();
  const calls = () => fx.collector.events().filter((e) => e.type === 'tool.called');
  await until(() => calls().length === 3, 'three tool.called events');
  for (const e of calls()) expect(schemaErrors(validateEvent, e)).toBe('');
  const seen = calls().map((e) => e.data as { user?: string; tool: string });
  expect(seen.map((d) => `${d.user}:${d.tool}`).sort()).toEqual(['alice:create_issue', 'alice:merge_pr', 'bob:list_repos']);
  await until(() => errors.some((m) => m.includes('corrupted')) && errors.some((m) => m.includes('symbolic link')), 'both problems reported');
  expect(errors.find((m) => m.includes('corrupted'))).toMatch(/MCPW_ERR_HOOK_JOURNAL_IO.*alice.*1 corrupted region/);
  expect(errors.find((m) => m.includes('symbolic link'))).toMatch(/MCPW_ERR_HOOK_JOURNAL_IO.*mallory.*not read/);
  // Bob's journal is still there for him (nothing pruned through Mallory's link), and a restart repeats nothing.
  expect(fs.existsSync(path.join(userHookStateDir(bob), JOURNAL_DIR))).toBe(true);
  await fx.runtime.shutdown();
  expect(await hookAs(bob, blocked, 'get_issue')).toBe(0);
  fx.runtime = start();
  await fx.runtime.start();
  await until(() => calls().length === 4, 'the fourth call');
  await fx.runtime.flush();
  expect(calls().map((e) => (e.data as { tool: string }).tool).sort()).toEqual(['create_issue', 'get_issue', 'list_repos', 'merge_pr']);
});
