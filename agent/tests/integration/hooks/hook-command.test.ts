/**
 * `mcpwatch-agent hook <client>` as a real child process, the way a client runs it: JSON on stdin,
 * the answer on stdout / stderr / exit code. Enforce denies a blocked tool; audit allows and
 * records the would-be deny; a client that never closes stdin, or sends too much, still gets an
 * answer (allow) with the error reported; a mangled command line never breaks the tool call.
 * Runs the built CLI (dist/): `npx tsc -b agent` first.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess, type ProcessRun } from '@mcpwatch/testkit';
import { readJournal } from '../../../src/hooks/hook-journal.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/mcpwatch-agent.js');
const CANARY = 'CANARY-child-4411-SECRET';

const FALLBACK_STATE_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-hook-fallback-'));

function runHookProcess(args: string[], stdin: string | null, keepStdinOpen = false): Promise<ProcessRun> {
  // A call without --state-dir falls back to MCPWATCH_STATE_DIR: keep it in a temp dir, never the
  // machine's default state dir (as root: /var/lib/mcpwatch, which an installer then finds).
  // The hook may stop reading stdin early (size bound); runProcess ignores the broken pipe.
  return runProcess(process.execPath, [BIN, 'hook', ...args], { stdin, keepStdinOpen, env: { ...process.env, MCPWATCH_STATE_DIR: FALLBACK_STATE_DIR } });
}

function stateDir(policy?: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-hookproc-'));
  if (policy) fs.writeFileSync(path.join(dir, 'tool-policy.json'), JSON.stringify(policy));
  return dir;
}

const claudePre = (tool: string) => JSON.stringify({ session_id: 's-1', transcript_path: '/tmp/x', cwd: '/tmp', hook_event_name: 'PreToolUse', tool_name: tool, tool_input: { path: '/etc/passwd', apiKey: CANARY }, tool_use_id: 'toolu_9' });
const POLICY = { mode: 'enforce', blockedTools: [{ server: 'filesystem', tool: 'write_*' }], contact: '#sec-help' };

test('enforce: a blocked tool is denied in Claude Code\'s protocol and journaled; an allowed one passes', async () => {
  const dir = stateDir(POLICY);
  const denied = await runHookProcess(['claude-code', '--state-dir', dir], claudePre('mcp__filesystem__write_file'));
  expect(denied.code).toBe(0);
  expect(JSON.parse(denied.stdout)).toEqual({
    hookSpecificOutput: {
      hookEventName: 'PreToolUse',
      permissionDecision: 'deny',
      permissionDecisionReason: 'mcpwatch blocked the MCP tool call filesystem/write_file: tool filesystem/write_* is blocked by policy. To request an exception, contact #sec-help.',
    },
  });
  const allowed = await runHookProcess(['claude-code', '--state-dir', dir], claudePre('mcp__filesystem__read_file'));
  expect([allowed.code, allowed.stdout, allowed.stderr]).toEqual([0, '', '']);
  const { records } = readJournal(dir);
  expect(records).toMatchObject([
    { client: 'claude-code', server: 'filesystem', tool: 'write_file', decision: 'deny', enforced: true, argumentNames: ['apiKey', 'path'] },
    { client: 'claude-code', server: 'filesystem', tool: 'read_file', decision: 'allow' },
  ]);
  const bytes = fs.readdirSync(path.join(dir, 'hook-journal')).map((f) => fs.readFileSync(path.join(dir, 'hook-journal', f), 'utf8')).join('');
  expect(bytes).not.toContain(CANARY);
});

test('audit: the same call is allowed and the would-be deny recorded', async () => {
  const dir = stateDir({ ...POLICY, mode: 'audit' });
  const r = await runHookProcess(['claude-code', '--state-dir', dir], claudePre('mcp__filesystem__write_file'));
  expect([r.code, r.stdout]).toEqual([0, '']);
  expect(readJournal(dir).records).toMatchObject([{ decision: 'deny', enforced: false, mode: 'audit', rule: 'blocked-tool' }]);
});

test('Windsurf: a deny is exit code 2 with the reason on stderr', async () => {
  const dir = stateDir(POLICY);
  const input = JSON.stringify({ agent_action_name: 'pre_mcp_tool_use', trajectory_id: 't', execution_id: 'e', timestamp: '2026-12-06T10:00:00Z', tool_info: { mcp_server_name: 'filesystem', mcp_tool_name: 'write_file', mcp_tool_arguments: { path: 'x' } } });
  const r = await runHookProcess(['windsurf', '--state-dir', dir], input);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('mcpwatch blocked the MCP tool call filesystem/write_file');
});

test('a client that never closes stdin still gets an answer: allow, with the timeout reported and journaled', async () => {
  const dir = stateDir(POLICY);
  const r = await runHookProcess(['claude-code', '--state-dir', dir, '--input-timeout-ms', '300'], claudePre('mcp__filesystem__write_file').slice(0, 40), true);
  expect([r.code, r.stdout]).toEqual([0, '']);
  expect(r.stderr).toContain('MCPW_ERR_HOOK_INPUT_TIMEOUT');
  expect(readJournal(dir).records).toMatchObject([{ rule: 'error', error: 'MCPW_ERR_HOOK_INPUT_TIMEOUT', decision: 'allow' }]);
});

test('input over the size bound: allow, reported', async () => {
  const dir = stateDir(POLICY);
  const r = await runHookProcess(['cursor', '--state-dir', dir], JSON.stringify({ tool_name: 'x', tool_input: 'a'.repeat(2 * 1024 * 1024) }));
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual({ permission: 'allow' });
  expect(r.stderr).toContain('MCPW_ERR_HOOK_INPUT_TOO_LARGE');
});

test('a mangled hook command line never fails the call', async () => {
  const unknownClient = await runHookProcess(['vim'], '{}');
  expect(unknownClient.code).toBe(0);
  expect(unknownClient.stderr).toContain('unknown client');
  const badFlag = await runHookProcess(['claude-code', '--frobnicate'], '{}');
  expect(badFlag.code).toBe(0);
  expect(badFlag.stderr).toContain('mcpwatch hook:');
});
