/**
 * End to end with a real Claude Code: `claude -p` (the native CLI from @anthropic-ai/claude-code,
 * found through MCPWATCH_CLAUDE_BIN) in a fixture HOME whose ~/.claude/settings.json got
 * mcpwatch's hook from `mcpwatch-agent hooks install`, talking to a local stand-in for the model
 * API (ANTHROPIC_BASE_URL) that answers with a tool_use of an MCP tool of the real
 * @modelcontextprotocol/server-everything. The installed hook runs for real: the allowed call
 * goes through to the server and is journaled; a call the server fails is journaled as failed
 * from the PostToolUseFailure hook; the blocked call is denied and Claude Code hands the model our
 * reason. Skipped (said so) without MCPWATCH_CLAUDE_BIN.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FakeAnthropicApi } from '../../support/fake-anthropic-api.js';
import { EVERYTHING_BIN } from '../../support/mcp-fixture.js';
import { ASK_GET_SUM, BLOCK_GET_SUM, clientRoot, installHook, journalOf, realClient, runToEnd } from '../../support/real-client.js';

const CLAUDE = realClient('MCPWATCH_CLAUDE_BIN', 'claude-code-e2e', 'a Claude Code binary, e.g. from npm i @anthropic-ai/claude-code; .ci/run does');
const maybe = CLAUDE.maybe;
const CANARY = 'mcpw-canary-7f3a9c1e';

async function claudeCall(tool: string, input: Record<string, unknown>, policy: Record<string, unknown> = BLOCK_GET_SUM) {
  CLAUDE.assertPresent();
  const { root, home, stateDir, work } = clientRoot('mcpw-claude-', ['.claude']);
  fs.writeFileSync(path.join(home, '.claude', 'settings.json'), '{\n  "includeCoAuthoredBy": false\n}\n');
  await installHook('claude-code', { home, stateDir, work }, policy);
  const mcpConfig = path.join(root, 'mcp.json');
  fs.writeFileSync(mcpConfig, JSON.stringify({ mcpServers: { everything: { command: EVERYTHING_BIN, args: ['stdio'] } } }));
  const api = new FakeAnthropicApi(tool, input);
  const url = await api.listen();
  try {
    const env = {
      PATH: process.env.PATH, HOME: home, ANTHROPIC_BASE_URL: url, ANTHROPIC_API_KEY: 'sk-ant-test-not-a-key',
      ENABLE_TOOL_SEARCH: 'false', DISABLE_AUTOUPDATER: '1', DISABLE_TELEMETRY: '1', DISABLE_ERROR_REPORTING: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    };
    const r = await runToEnd(CLAUDE.bin, ['-p', `call ${tool}`, '--mcp-config', mcpConfig, '--allowedTools', tool, '--output-format', 'json'], env, work);
    return { r, api, ...journalOf(stateDir) };
  } finally {
    await api.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

maybe('an allowed MCP tool call goes through the installed hook to the server and is journaled', async () => {
  const { r, api, journal, journalBytes } = await claudeCall('mcp__everything__echo', { message: `hello from the stand-in model ${CANARY}` });
  expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
  // The turn went on to the model's final answer after the tool's.
  expect(JSON.parse(r.stdout)).toMatchObject({ is_error: false, result: 'The tool answered.' });
  const results = api.toolResults();
  expect(results).toHaveLength(1);
  expect(results[0]).toMatchObject({ isError: false, text: expect.stringContaining(`hello from the stand-in model ${CANARY}`) });
  // Argument names only: the value (echoed back in the tool's answer too) is nowhere in the journal.
  expect(journalBytes.length).toBeGreaterThan(0);
  expect(journalBytes).not.toContain(CANARY);
  expect(journal.filter((j) => j.phase === 'pre')).toMatchObject([{ client: 'claude-code', server: 'everything', tool: 'echo', argumentNames: ['message'], decision: 'allow' }]);
  expect(journal.filter((j) => j.phase === 'post')).toMatchObject([{ server: 'everything', tool: 'echo', success: true }]);
}, 180_000);

maybe('a call the server fails runs the PostToolUseFailure hook: journaled as a failed post, the error text not kept', async () => {
  // resourceId -1 passes the tool's schema (a number), so Claude Code calls the server, which fails
  // it. Claude Code runs PostToolUse only for calls that succeed: without the PostToolUseFailure
  // entry the journal would hold the pre record alone.
  const { r, api, journal, journalBytes } = await claudeCall('mcp__everything__get-resource-reference', { resourceType: 'Text', resourceId: -1 }, { mode: 'enforce' });
  expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
  const results = api.toolResults();
  expect(results).toHaveLength(1);
  expect(results[0]).toMatchObject({ isError: true, text: expect.stringContaining('Invalid resourceId: -1') });
  expect(journalBytes).not.toContain('Invalid resourceId');
  expect(journal).toMatchObject([
    { client: 'claude-code', phase: 'pre', server: 'everything', tool: 'get-resource-reference', argumentNames: ['resourceId', 'resourceType'], decision: 'allow' },
    { client: 'claude-code', phase: 'post', server: 'everything', tool: 'get-resource-reference', success: false },
  ]);
  expect(journal[1]).not.toHaveProperty('error');
}, 180_000);

maybe('a blocked MCP tool call is denied by the installed hook, and the model is told why', async () => {
  const { r, api, journal } = await claudeCall('mcp__everything__get-sum', { a: 1, b: 2 });
  expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
  // The turn went on to the model's final answer after the tool's.
  expect(JSON.parse(r.stdout)).toMatchObject({ is_error: false, result: 'The tool answered.' });
  const results = api.toolResults();
  expect(results).toHaveLength(1);
  expect(results[0]!.text).toContain('mcpwatch blocked the MCP tool call everything/get-sum: tool everything/get-sum is blocked by policy. To request an exception, contact secops@example.com.');
  expect(journal).toMatchObject([{ server: 'everything', tool: 'get-sum', decision: 'deny', enforced: true, rule: 'blocked-tool' }]);
}, 180_000);

maybe('a tool the policy asks about: the hook answers ask, claude -p (nobody to ask) does not run it, and the model is told why', async () => {
  const { r, api, journal } = await claudeCall('mcp__everything__get-sum', { a: 1, b: 2 }, ASK_GET_SUM);
  expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
  const out = JSON.parse(r.stdout) as { result: string; permission_denials: { tool_name: string }[] };
  expect(out).toMatchObject({ is_error: false, result: 'The tool answered.' });
  // --allowedTools names the tool; the hook's ask still wins, and with no one to ask it is a denial.
  expect(out.permission_denials.map((d) => d.tool_name)).toEqual(['mcp__everything__get-sum']);
  expect(api.toolResults()).toEqual([{ isError: true, text: expect.stringContaining('mcpwatch asks before the MCP tool call everything/get-sum: tool everything/get-sum needs your confirmation by policy. To request an exception, contact secops@example.com.') }]);
  expect(journal).toMatchObject([{ client: 'claude-code', server: 'everything', tool: 'get-sum', decision: 'ask', enforced: true, rule: 'ask-tool' }]);
}, 180_000);
