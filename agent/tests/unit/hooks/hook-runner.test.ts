/**
 * Each client's hook protocol, from the payload shapes in its documentation (hook-catalog.ts
 * names the source): the answer for allow, deny and ask, malformed input, a missing or invalid
 * policy file, a journal that cannot be written; every journal record is valid `tool.called`
 * data and carries argument names, never values.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import ajvModule from 'ajv';
import { ToolCalledData } from '@mcpwatch/shared';
import { runHook } from '../../../src/hooks/hook-runner.js';
import { readJournal } from '../../../src/hooks/hook-journal.js';
import type { HookClientId } from '../../../src/hooks/hook-catalog.js';

type AjvClass = typeof ajvModule.default;
const AjvCtor = ((ajvModule as unknown as { default?: AjvClass }).default ?? ajvModule) as AjvClass;
const validate = new AjvCtor({ allErrors: true, strict: false }).compile(ToolCalledData);

const CANARY = 'CANARY-hook-7f3a9c-SECRET';

/** Documented pre-call payloads, calling tool `create_issue` of server `github` with a secret argument value. */
const PRE: Record<HookClientId, unknown> = {
  // code.claude.com/docs/en/hooks: PreToolUse input
  'claude-code': { session_id: 'sess-1', transcript_path: '/tmp/t.jsonl', cwd: '/work', hook_event_name: 'PreToolUse', tool_name: 'mcp__github__create_issue', tool_input: { title: 't', token: CANARY }, tool_use_id: 'toolu_1' },
  // cursor.com/docs/agent/hooks: beforeMCPExecution input (tool_input is a JSON string)
  cursor: { conversation_id: 'conv-1', generation_id: 'gen-1', hook_event_name: 'beforeMCPExecution', workspace_roots: ['/work'], tool_name: 'create_issue', tool_input: JSON.stringify({ title: 't', token: CANARY }), command: `npx -y github --token ${CANARY}` },
  // geminicli.com/docs/hooks/reference: BeforeTool input; MCP FQN mcp_<server>_<tool>
  'gemini-cli': { session_id: 'sess-2', transcript_path: '/tmp/t', cwd: '/work', hook_event_name: 'BeforeTool', timestamp: '2026-12-06T10:00:00Z', tool_name: 'mcp_github_create_issue', tool_input: { title: 't', token: CANARY } },
  // docs.github.com copilot cli hooks reference: preToolUse input (toolArgs is a JSON string)
  'copilot-cli': { timestamp: 1765000000000, cwd: '/work', toolName: 'github-create_issue', toolArgs: JSON.stringify({ title: 't', token: CANARY }) },
  // developers.openai.com/codex/hooks: PreToolUse input; MCP tools mcp__<server>__<tool> (openai/codex#18385)
  codex: { session_id: 'sess-3', transcript_path: '/tmp/t.jsonl', cwd: '/work', hook_event_name: 'PreToolUse', model: 'gpt-5.4', turn_id: 'turn-1', tool_name: 'mcp__github__create_issue', tool_use_id: 'call_1', tool_input: { title: 't', token: CANARY } },
  // code.visualstudio.com/docs/agent-customization/hooks: common fields + PreToolUse input; MCP tools mcp_<server>_<tool> (microsoft/vscode#249929)
  vscode: { timestamp: '2026-12-06T10:00:00.000Z', cwd: '/work', sessionId: 'sess-4', hookEventName: 'PreToolUse', transcript_path: '/tmp/t.json', tool_name: 'mcp_github_create_issue', tool_input: { title: 't', token: CANARY }, tool_use_id: 'tool-123' },
  // docs.windsurf.com cascade hooks: pre_mcp_tool_use input
  windsurf: { agent_action_name: 'pre_mcp_tool_use', trajectory_id: 'traj-1', execution_id: 'exec-1', timestamp: '2026-12-06T10:00:00Z', tool_info: { mcp_server_name: 'github', mcp_tool_name: 'create_issue', mcp_tool_arguments: { title: 't', token: CANARY } } },
};

const POST: Partial<Record<HookClientId, unknown>> = {
  'claude-code': { ...(PRE['claude-code'] as object), hook_event_name: 'PostToolUse', tool_response: { content: [{ type: 'text', text: CANARY }] } },
  cursor: { ...(PRE.cursor as object), hook_event_name: 'afterMCPExecution', result_json: { content: [] }, duration: 42 },
  'gemini-cli': { ...(PRE['gemini-cli'] as object), hook_event_name: 'AfterTool', tool_response: { llmContent: CANARY } },
  windsurf: { ...(PRE.windsurf as object), agent_action_name: 'post_mcp_tool_use' },
  codex: { ...(PRE.codex as object), hook_event_name: 'PostToolUse', tool_response: { content: [{ type: 'text', text: CANARY }] } },
  vscode: { ...(PRE.vscode as object), hookEventName: 'PostToolUse', tool_response: `Issue created: ${CANARY}` },
};

function stateDirWith(policy?: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-hook-'));
  if (policy !== undefined) fs.writeFileSync(path.join(dir, 'tool-policy.json'), typeof policy === 'string' ? policy : JSON.stringify(policy));
  return dir;
}

const run = (client: HookClientId, doc: unknown, stateDir: string) =>
  runHook({ client, input: { text: typeof doc === 'string' ? doc : JSON.stringify(doc) }, stateDir, now: () => new Date('2026-12-06T10:00:00Z'), user: 'alice' });

const ENFORCE_BLOCK = { mode: 'enforce', blockedTools: [{ server: 'github', tool: 'create_*' }], contact: 'security@example.com' };
const ENFORCE_ASK = { mode: 'enforce', askTools: [{ server: 'github', tool: '*' }] };

describe.each(Object.keys(PRE) as HookClientId[])('%s hook protocol', (client) => {
  test('allow: answers without granting more than the client would, records the call with argument names only', () => {
    const dir = stateDirWith({ mode: 'enforce', blockedTools: [{ server: 'other', tool: '*' }] });
    const r = run(client, PRE[client], dir);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('');
    if (client === 'cursor') expect(JSON.parse(r.stdout)).toEqual({ permission: 'allow' });
    else if (client === 'gemini-cli') expect(JSON.parse(r.stdout)).toEqual({});
    else expect(r.stdout).toBe(''); // Claude Code / Copilot / Codex / VS Code: an explicit allow would skip the user's own prompt
    const { records } = readJournal(dir);
    expect(records).toHaveLength(1);
    const rec = records[0] as Record<string, unknown>;
    expect(validate(rec)).toBe(true);
    expect(rec).toMatchObject({ client, tool: 'create_issue', argumentNames: ['title', 'token'], decision: 'allow', enforced: true, mode: 'enforce', rule: 'default', phase: 'pre', user: 'alice' });
    expect(rec.server).toBe('github');
    expect(JSON.stringify(records)).not.toContain(CANARY);
    expect(fs.readFileSync(path.join(dir, 'hook-journal', 'journal-0000000001.log')).includes(CANARY)).toBe(false);
  });

  test('deny in enforce mode: the client is told what, why and who to ask', () => {
    const dir = stateDirWith(ENFORCE_BLOCK);
    const r = run(client, PRE[client], dir);
    const reason = 'mcpwatch blocked the MCP tool call github/create_issue: tool github/create_* is blocked by policy. To request an exception, contact security@example.com.';
    switch (client) {
      case 'claude-code':
      case 'codex':
      case 'vscode':
        expect(r.exitCode).toBe(0);
        expect(JSON.parse(r.stdout)).toEqual({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: reason } });
        break;
      case 'cursor':
        expect(JSON.parse(r.stdout)).toEqual({ permission: 'deny', user_message: reason, agent_message: reason });
        break;
      case 'gemini-cli':
        expect(JSON.parse(r.stdout)).toEqual({ decision: 'deny', reason });
        break;
      case 'copilot-cli':
        expect(JSON.parse(r.stdout)).toEqual({ permissionDecision: 'deny', permissionDecisionReason: reason });
        break;
      case 'windsurf':
        expect(r.exitCode).toBe(2);
        expect(r.stdout).toBe('');
        expect(r.stderr).toBe(`${reason}\n`);
        break;
    }
    const rec = readJournal(dir).records[0] as Record<string, unknown>;
    expect(validate(rec)).toBe(true);
    expect(rec).toMatchObject({ decision: 'deny', enforced: true, rule: 'blocked-tool' });
  });

  test('ask: asked where the client can ask, refused with the reason where it cannot', () => {
    const dir = stateDirWith(ENFORCE_ASK);
    const r = run(client, PRE[client], dir);
    if (client === 'claude-code' || client === 'vscode') expect(JSON.parse(r.stdout).hookSpecificOutput.permissionDecision).toBe('ask');
    // Codex fails open on ask: refused, saying so.
    if (client === 'codex') expect(JSON.parse(r.stdout).hookSpecificOutput).toMatchObject({ permissionDecision: 'deny', permissionDecisionReason: expect.stringContaining('cannot ask for confirmation') });
    if (client === 'cursor') expect(JSON.parse(r.stdout).permission).toBe('ask');
    if (client === 'copilot-cli') expect(JSON.parse(r.stdout).permissionDecision).toBe('ask');
    if (client === 'gemini-cli') expect(JSON.parse(r.stdout)).toMatchObject({ decision: 'deny', reason: expect.stringContaining('cannot ask for confirmation') });
    if (client === 'windsurf') expect([r.exitCode, r.stderr.includes('cannot ask for confirmation')]).toEqual([2, true]);
    expect(readJournal(dir).records[0]).toMatchObject({ decision: 'ask', rule: 'ask-tool' });
  });

  test('audit mode: allows, and records the deny the policy would have made', () => {
    const dir = stateDirWith({ ...ENFORCE_BLOCK, mode: 'audit' });
    const r = run(client, PRE[client], dir);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.includes('deny')).toBe(false);
    expect(readJournal(dir).records[0]).toMatchObject({ decision: 'deny', enforced: false, mode: 'audit', rule: 'blocked-tool' });
  });

  test('malformed input: allowed (fail open), reported with a code, nothing lost from the journal', () => {
    const dir = stateDirWith(ENFORCE_BLOCK);
    for (const bad of ['{"truncated": ', '[1,2]', '{}']) {
      const r = run(client, bad, dir);
      expect(r.exitCode).toBe(0);
      expect(r.stdout.includes('deny')).toBe(false);
      expect(r.errors).toEqual(['MCPW_ERR_HOOK_INPUT_INVALID']);
      expect(r.stderr).toContain('MCPW_ERR_HOOK_INPUT_INVALID');
    }
    const { records } = readJournal(dir);
    expect(records).toHaveLength(3);
    for (const rec of records) expect(validate(rec)).toBe(true);
    expect(records[0]).toMatchObject({ rule: 'error', error: 'MCPW_ERR_HOOK_INPUT_INVALID', decision: 'allow' });
  });

  test('malformed input with failMode deny in enforce mode: refused, as configured', () => {
    const dir = stateDirWith({ ...ENFORCE_BLOCK, failMode: 'deny' });
    const r = run(client, 'not json', dir);
    if (client === 'windsurf') expect(r.exitCode).toBe(2);
    else if (client === 'cursor') expect(JSON.parse(r.stdout).permission).toBe('deny');
    else expect(r.stdout).toContain('deny');
    expect(readJournal(dir).records[0]).toMatchObject({ decision: 'deny', rule: 'error' });
  });

  test('missing policy file: audit, allow, recorded as no-policy', () => {
    const dir = stateDirWith();
    const r = run(client, PRE[client], dir);
    expect(r.stdout.includes('deny')).toBe(false);
    expect(r.errors).toEqual([]);
    expect(readJournal(dir).records[0]).toMatchObject({ decision: 'allow', mode: 'audit', rule: 'no-policy' });
  });

  test('invalid policy file: audit, allow, reported', () => {
    const dir = stateDirWith('{"mode":"lockdown"}');
    const r = run(client, PRE[client], dir);
    expect(r.stdout.includes('deny')).toBe(false);
    expect(r.errors).toEqual(['MCPW_ERR_HOOK_POLICY_INVALID']);
    expect(readJournal(dir).records[0]).toMatchObject({ mode: 'audit', error: 'MCPW_ERR_HOOK_POLICY_INVALID' });
  });

  test('journal not writable: still answers (the deny too), reports the journal error', () => {
    const dir = stateDirWith(ENFORCE_BLOCK);
    fs.writeFileSync(path.join(dir, 'hook-journal'), 'a file where the journal directory should be');
    const r = run(client, PRE[client], dir);
    expect(r.errors).toEqual(['MCPW_ERR_HOOK_JOURNAL_IO']);
    if (client === 'windsurf') expect(r.exitCode).toBe(2);
    else expect(r.stdout).toContain('deny');
  });

  if (POST[client]) {
    test('post-call hook: nothing to add for the client, the outcome is recorded', () => {
      const dir = stateDirWith(ENFORCE_BLOCK);
      const r = run(client, POST[client], dir);
      expect(r.exitCode).toBe(0);
      expect(r.stdout.includes('deny')).toBe(false);
      const rec = readJournal(dir).records[0] as Record<string, unknown>;
      expect(validate(rec)).toBe(true);
      expect(rec).toMatchObject({ phase: 'post', success: true, server: 'github', tool: 'create_issue' });
      if (client === 'cursor') expect(rec.durationMs).toBe(42);
      expect(JSON.stringify(rec)).not.toContain(CANARY);
    });
  }
});

test('Claude Code: a non-MCP tool (a matcher wider than mcp__.*) is allowed and not recorded', () => {
  const dir = stateDirWith(ENFORCE_BLOCK);
  const r = run('claude-code', { session_id: 's', hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'ls' } }, dir);
  expect([r.exitCode, r.stdout, r.record]).toEqual([0, '', null]);
  expect(readJournal(dir).records).toHaveLength(0);
});

test('session ids are stored hashed, the same session to the same hash', () => {
  const dir = stateDirWith();
  run('claude-code', PRE['claude-code'], dir);
  run('claude-code', PRE['claude-code'], dir);
  const [a, b] = readJournal(dir).records as { sessionHash: string }[];
  expect(a?.sessionHash).toMatch(/^[0-9a-f]{32}$/);
  expect(a?.sessionHash).toBe(b?.sessionHash);
  expect(JSON.stringify(a)).not.toContain('sess-1');
});

describe('VS Code runs the Copilot CLI and Claude Code hook files with its own input', () => {
  test('answered in VS Code\'s protocol, recorded once as vscode, whichever entries run', () => {
    const dir = stateDirWith(ENFORCE_BLOCK);
    const viaCopilot = run('copilot-cli', PRE.vscode, dir);
    const viaClaude = run('claude-code', PRE.vscode, dir);
    for (const r of [viaCopilot, viaClaude]) {
      expect(r.exitCode).toBe(0);
      expect(JSON.parse(r.stdout).hookSpecificOutput).toMatchObject({ hookEventName: 'PreToolUse', permissionDecision: 'deny' });
    }
    const { records } = readJournal(dir);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ client: 'vscode', server: 'github', tool: 'create_issue', decision: 'deny' });
    // The post-call of the same call is its own record; another call is recorded again.
    run('claude-code', POST.vscode, dir);
    run('copilot-cli', POST.vscode, dir);
    run('copilot-cli', { ...(PRE.vscode as object), tool_use_id: 'tool-124' }, dir);
    expect(readJournal(dir).records.map((r) => (r as { phase: string }).phase)).toEqual(['pre', 'post', 'pre']);
  });

  test('Copilot CLI\'s own input through the same entry stays Copilot CLI', () => {
    const dir = stateDirWith();
    run('copilot-cli', PRE['copilot-cli'], dir);
    expect(readJournal(dir).records[0]).toMatchObject({ client: 'copilot-cli', server: 'github' });
  });
});
