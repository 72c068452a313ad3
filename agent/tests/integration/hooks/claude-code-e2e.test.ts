/**
 * End to end with a real Claude Code: `claude -p` (the native CLI from @anthropic-ai/claude-code,
 * found through MCPWATCH_CLAUDE_BIN) in a fixture HOME whose ~/.claude/settings.json got
 * mcpwatch's hook from `mcpwatch-agent hooks install`, talking to a local stand-in for the model
 * API (ANTHROPIC_BASE_URL) that answers with a tool_use of an MCP tool of the real
 * @modelcontextprotocol/server-everything. The installed hook runs for real: the allowed call
 * goes through to the server and is journaled; the blocked call is denied and Claude Code hands
 * the model our reason. Skipped (said so) without MCPWATCH_CLAUDE_BIN.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readJournal } from '../../../src/hooks/hook-journal.js';
import { FakeAnthropicApi } from '../../support/fake-anthropic-api.js';
import { EVERYTHING_BIN } from '../../support/mcp-fixture.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/mcpwatch-agent.js');
const CLAUDE = process.env.MCPWATCH_CLAUDE_BIN ?? '';
const maybe = CLAUDE && fs.existsSync(CLAUDE) ? test : test.skip;
if (!CLAUDE) process.stderr.write('claude-code-e2e: skipped (set MCPWATCH_CLAUDE_BIN to a Claude Code binary, e.g. from npm i @anthropic-ai/claude-code)\n');

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function claudeCall(tool: string, input: Record<string, unknown>) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-claude-'));
  const home = path.join(root, 'home');
  const stateDir = path.join(root, 'state');
  const work = path.join(root, 'work');
  for (const d of [home, stateDir, work, path.join(home, '.claude')]) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(home, '.claude', 'settings.json'), '{\n  "includeCoAuthoredBy": false\n}\n');
  fs.writeFileSync(path.join(stateDir, 'tool-policy.json'), JSON.stringify({ mode: 'enforce', blockedTools: [{ server: 'everything', tool: 'get-sum' }], contact: 'secops@example.com' }));
  const inst = await run(process.execPath, [BIN, 'hooks', 'install', '--client', 'claude-code', '--home', home, '--state-dir', stateDir], process.env, work);
  expect(inst.code).toBe(0);
  const mcpConfig = path.join(root, 'mcp.json');
  fs.writeFileSync(mcpConfig, JSON.stringify({ mcpServers: { everything: { command: EVERYTHING_BIN, args: ['stdio'] } } }));
  const api = new FakeAnthropicApi(tool, input);
  const url = await api.listen();
  try {
    const env = {
      PATH: process.env.PATH, HOME: home, ANTHROPIC_BASE_URL: url, ANTHROPIC_API_KEY: 'sk-ant-test-not-a-key',
      ENABLE_TOOL_SEARCH: 'false', DISABLE_AUTOUPDATER: '1', DISABLE_TELEMETRY: '1', DISABLE_ERROR_REPORTING: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    };
    const r = await run(CLAUDE, ['-p', `call ${tool}`, '--mcp-config', mcpConfig, '--allowedTools', tool, '--output-format', 'json'], env, work);
    return { r, api, journal: readJournal(stateDir).records as Record<string, unknown>[] };
  } finally {
    await api.close();
  }
}

maybe('an allowed MCP tool call goes through the installed hook to the server and is journaled', async () => {
  const { r, api, journal } = await claudeCall('mcp__everything__echo', { message: 'hello from the stand-in model' });
  expect(r.code).toBe(0);
  const results = api.toolResults();
  expect(results).toHaveLength(1);
  expect(results[0]).toMatchObject({ isError: false, text: expect.stringContaining('hello from the stand-in model') });
  expect(journal.filter((j) => j.phase === 'pre')).toMatchObject([{ client: 'claude-code', server: 'everything', tool: 'echo', argumentNames: ['message'], decision: 'allow' }]);
  expect(journal.filter((j) => j.phase === 'post')).toMatchObject([{ server: 'everything', tool: 'echo', success: true }]);
}, 180_000);

maybe('a blocked MCP tool call is denied by the installed hook, and the model is told why', async () => {
  const { r, api, journal } = await claudeCall('mcp__everything__get-sum', { a: 1, b: 2 });
  expect(r.code).toBe(0);
  const results = api.toolResults();
  expect(results).toHaveLength(1);
  expect(results[0]!.text).toContain('mcpwatch blocked the MCP tool call everything/get-sum: tool everything/get-sum is blocked by policy. To request an exception, contact secops@example.com.');
  expect(journal).toMatchObject([{ server: 'everything', tool: 'get-sum', decision: 'deny', enforced: true, rule: 'blocked-tool' }]);
}, 180_000);
