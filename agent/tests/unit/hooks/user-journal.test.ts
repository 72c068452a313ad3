/**
 * Per-user hook journals: a hook that cannot write the agent's journal (an owner-only state dir of
 * an agent running as root, a client running as an ordinary user) journals into the user's own
 * `~/.mcpwatch/hook-journal` (owner-only), and the running agent's JournalPump ships both journals,
 * each with its own cursor in the agent's state dir, so a second pump repeats nothing.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { McpEvent } from '@mcpwatch/shared';
import { runHook } from '../../../src/hooks/hook-runner.js';
import { readJournal, userHookStateDir, JOURNAL_DIR } from '../../../src/hooks/hook-journal.js';
import { FULL_READ_EVERY, JournalPump } from '../../../src/hooks/journal-pump.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/mcpwatch-agent.js');
const pre = (tool: string) => JSON.stringify({ session_id: 's-1', transcript_path: '/tmp/t', cwd: '/tmp', hook_event_name: 'PreToolUse', tool_name: `mcp__github__${tool}`, tool_input: { title: 't' }, tool_use_id: 'toolu_1' });

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-userjournal-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

/** A state dir whose journal cannot be written (a file where the journal folder should be). */
function blockedStateDir(): string {
  const dir = path.join(root, 'agent-state-blocked');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, JOURNAL_DIR), 'not a directory');
  return dir;
}

test('the hook command journals into the user\'s ~/.mcpwatch/hook-journal (0700) when the agent\'s journal is not writable', async () => {
  const home = path.join(root, 'home-alice');
  fs.mkdirSync(home);
  const stateDir = blockedStateDir();
  const run = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'hook', 'claude-code', '--state-dir', stateDir], { env: { ...process.env, HOME: home }, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
    child.stdin.end(pre('create_issue'));
  });
  expect(run).toEqual({ code: 0, stderr: '' });
  const journalDir = path.join(userHookStateDir(home), JOURNAL_DIR);
  expect(fs.statSync(journalDir).mode & 0o777).toBe(0o700);
  expect(fs.statSync(userHookStateDir(home)).mode & 0o777).toBe(0o700);
  expect((readJournal(userHookStateDir(home)).records as { tool: string }[]).map((r) => r.tool)).toEqual(['create_issue']);
});

test('the error is reported only when neither journal takes the record', () => {
  const stateDir = blockedStateDir();
  const userDir = path.join(root, 'not-a-dir');
  fs.writeFileSync(userDir, 'x');
  const r = runHook({ client: 'claude-code', input: { text: pre('create_issue') }, stateDir, userStateDir: userDir });
  expect(r.errors).toEqual(['MCPW_ERR_HOOK_JOURNAL_IO']);
  expect(r.stderr).toContain('; and hook journal');
});

test('the agent ships its own journal and each user\'s, once', () => {
  const agentState = path.join(root, 'agent-state');
  fs.mkdirSync(agentState);
  const bobState = userHookStateDir(path.join(root, 'home-bob'));
  // a hook run by root writes the agent's journal; one run by bob cannot, and writes his
  expect(runHook({ client: 'claude-code', input: { text: pre('list_issues') }, stateDir: agentState, user: 'root', userStateDir: bobState }).errors).toEqual([]);
  const blocked = blockedStateDir();
  expect(runHook({ client: 'claude-code', input: { text: pre('create_issue') }, stateDir: blocked, user: 'bob', userStateDir: bobState }).errors).toEqual([]);
  expect(readJournal(agentState).records).toHaveLength(1);
  expect(readJournal(bobState).records).toHaveLength(1);

  const events: McpEvent[] = [];
  const errors: Error[] = [];
  const pump = new JournalPump({ stateDir: agentState, endpointId: () => 'ep-1', push: (e) => events.push(e), onError: (e) => errors.push(e), userStateDirs: () => [bobState, path.join(root, 'home-nobody', '.mcpwatch')] });
  expect(pump.pumpOnce()).toBe(2);
  expect(events.map((e) => [e.type, (e.data as { user?: string; tool: string }).user, (e.data as { tool: string }).tool])).toEqual([
    ['tool.called', 'root', 'list_issues'],
    ['tool.called', 'bob', 'create_issue'],
  ]);
  // each journal's cursor lives in the agent's state dir, none in the user's folder
  expect(fs.readdirSync(path.join(agentState, JOURNAL_DIR)).filter((f) => f.startsWith('cursor')).sort()).toEqual([expect.stringMatching(/^cursor-[0-9a-f]{16}\.json$/), 'cursor.json']);
  expect(fs.readdirSync(path.join(bobState, JOURNAL_DIR)).filter((f) => f.startsWith('cursor'))).toEqual([]);

  runHook({ client: 'claude-code', input: { text: pre('close_issue') }, stateDir: blocked, user: 'bob', userStateDir: bobState });
  expect(pump.pumpOnce()).toBe(1);
  expect((events[2]?.data as { tool: string }).tool).toBe('close_issue');
  expect(pump.pumpOnce()).toBe(0);
  expect(errors).toEqual([]);
});

test('an idle journal is not read again until it changes (or every FULL_READ_EVERY-th pump), and nothing appended in between is missed', () => {
  const agentState = path.join(root, 'agent-idle');
  fs.mkdirSync(agentState);
  const events: McpEvent[] = [];
  const pump = new JournalPump({ stateDir: agentState, endpointId: () => 'ep-1', push: (e) => events.push(e), onError: (e) => { throw e; } });
  expect(pump.pumpOnce()).toBe(0); // no journal folder yet: nothing to read, nothing to remember
  const hook = (tool: string) => expect(runHook({ client: 'claude-code', input: { text: pre(tool) }, stateDir: agentState, user: 'root' }).errors).toEqual([]);
  hook('a');
  expect(pump.pumpOnce()).toBe(1);
  const afterFirst = pump.reads;
  expect(pump.pumpOnce()).toBe(0); // reads, finds nothing: remembered as quiet
  expect(pump.pumpOnce()).toBe(0);
  expect(pump.pumpOnce()).toBe(0);
  expect(pump.reads).toBe(afterFirst + 1);
  // Appended to the same file: its size changed, so the next pump reads it.
  hook('b');
  expect(pump.pumpOnce()).toBe(1);
  // A new journal file (a hook rolled over) changes the folder: read (empty), then the record in it.
  const dir = path.join(agentState, JOURNAL_DIR);
  const current = fs.readdirSync(dir).filter((f) => /^journal-\d+\.log$/.test(f)).sort().at(-1)!;
  fs.writeFileSync(path.join(dir, current.replace(/\d{10}/, (n) => String(Number(n) + 1).padStart(10, '0'))), '');
  expect(pump.pumpOnce()).toBe(0);
  hook('c');
  expect(pump.pumpOnce()).toBe(1);
  // Every FULL_READ_EVERY-th pump reads regardless.
  const before = pump.reads;
  for (let i = 0; i < FULL_READ_EVERY * 2; i++) pump.pumpOnce();
  expect(pump.reads - before).toBeGreaterThanOrEqual(2);
  expect(pump.reads - before).toBeLessThanOrEqual(4);
  expect(events.map((e) => (e.data as { tool: string }).tool)).toEqual(['a', 'b', 'c']);
});
