/**
 * End to end with a real Gemini CLI: `gemini -p` (from @google/gemini-cli, found through
 * MCPWATCH_GEMINI_BIN) in a fixture HOME whose ~/.gemini/settings.json names the real
 * @modelcontextprotocol/server-everything over stdio and got mcpwatch's BeforeTool/AfterTool hooks
 * from `mcpwatch-agent hooks install`, talking to a local stand-in for the Gemini API
 * (GOOGLE_GEMINI_BASE_URL with GEMINI_API_KEY) that answers with a functionCall of an MCP tool of
 * that server. The installed hook runs for real: the allowed call goes through to the server and
 * is journaled (argument names only), the blocked call is denied and Gemini CLI hands the model our
 * reason in the functionResponse. Skipped (said so) without MCPWATCH_GEMINI_BIN.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FakeGeminiApi } from '../../support/fake-gemini-api.js';
import { EVERYTHING_BIN } from '../../support/mcp-fixture.js';
import { ASK_GET_SUM, BLOCK_GET_SUM, clientRoot, installHook, journalOf, realClient, runToEnd } from '../../support/real-client.js';

const GEMINI = realClient('MCPWATCH_GEMINI_BIN', 'gemini-cli-e2e', 'a Gemini CLI, e.g. from npm i @google/gemini-cli; .ci/run does');
const maybe = GEMINI.maybe;
const CANARY = 'mcpw-canary-4b8d20e6';

async function geminiCall(tool: string, args: Record<string, unknown>, policy: Record<string, unknown> = BLOCK_GET_SUM) {
  GEMINI.assertPresent();
  const { root, home, stateDir, work } = clientRoot('mcpw-gemini-', ['.gemini']);
  const settings = {
    general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    // API-key auth (validateAuthMethod in 0.61 refuses the 'gateway' type GOOGLE_GEMINI_BASE_URL alone would select); the base URL still comes from the environment.
    security: { auth: { selectedType: 'gemini-api-key' } },
    mcpServers: { everything: { command: EVERYTHING_BIN, args: ['stdio'] } },
  };
  fs.writeFileSync(path.join(home, '.gemini', 'settings.json'), `${JSON.stringify(settings, null, 2)}\n`);
  await installHook('gemini-cli', { home, stateDir, work }, policy);
  const api = new FakeGeminiApi(tool, args);
  const url = await api.listen();
  try {
    const env = {
      PATH: process.env.PATH, HOME: home, GOOGLE_GEMINI_BASE_URL: url, GEMINI_API_KEY: 'test-not-a-key',
      GEMINI_CLI_TRUST_WORKSPACE: 'true', GEMINI_CLI_NO_RELAUNCH: 'true', NO_COLOR: '1',
    };
    const r = await runToEnd(GEMINI.bin, ['-p', `call ${tool}`, '--approval-mode', 'yolo', '--output-format', 'json'], env, work);
    return { r, api, ...journalOf(stateDir) };
  } finally {
    await api.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

maybe('an allowed MCP tool call goes through the installed hook to the server and is journaled', async () => {
  const { r, api, journal, journalBytes } = await geminiCall('mcp_everything_echo', { message: `hello from the stand-in model ${CANARY}` });
  expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
  // The turn went on to the model's final answer after the tool's.
  expect(JSON.parse(r.stdout)).toMatchObject({ response: 'The tool answered.' });
  expect(api.calls).toEqual(['mcp_everything_echo']);
  const responses = api.functionResponses();
  expect(responses).toHaveLength(1);
  expect(responses[0]!.name).toBe('mcp_everything_echo');
  expect(responses[0]!.text).toContain(`hello from the stand-in model ${CANARY}`);
  // Argument names only: the value (echoed back in the tool's answer too) is nowhere in the journal.
  expect(journalBytes.length).toBeGreaterThan(0);
  expect(journalBytes).not.toContain(CANARY);
  expect(journal.filter((j) => j.phase === 'pre')).toMatchObject([{ client: 'gemini-cli', server: 'everything', tool: 'echo', argumentNames: ['message'], decision: 'allow' }]);
  expect(journal.filter((j) => j.phase === 'post')).toMatchObject([{ client: 'gemini-cli', server: 'everything', tool: 'echo', success: true }]);
}, 180_000);

maybe('a blocked MCP tool call is denied by the installed hook, and the model is told why', async () => {
  const { r, api, journal } = await geminiCall('mcp_everything_get-sum', { a: 1, b: 2 });
  expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
  // The turn went on to the model's final answer after the tool's.
  expect(JSON.parse(r.stdout)).toMatchObject({ response: 'The tool answered.' });
  expect(api.calls).toEqual(['mcp_everything_get-sum']);
  const responses = api.functionResponses();
  expect(responses).toHaveLength(1);
  expect(responses[0]!.name).toBe('mcp_everything_get-sum');
  expect(responses[0]!.text).toContain('mcpwatch blocked the MCP tool call everything/get-sum: tool everything/get-sum is blocked by policy. To request an exception, contact secops@example.com.');
  // The server never ran it: no sum in the answer.
  expect(responses[0]!.text).not.toMatch(/sum of 1 and 2|\b3\b/i);
  expect(journal).toMatchObject([{ client: 'gemini-cli', server: 'everything', tool: 'get-sum', decision: 'deny', enforced: true, rule: 'blocked-tool' }]);
}, 180_000);

// Gemini CLI 0.61 does take {decision: "ask"} from a BeforeTool hook, but `gemini -p` then waits
// for a confirmation that never comes (tried: still hanging after 60 s, even with
// --approval-mode yolo), so the catalog keeps supportsAsk false and the hook refuses, saying why.
maybe('a tool the policy asks about: refused (Gemini CLI would wait forever), the model is told why, and nothing hangs', async () => {
  const { r, api, journal } = await geminiCall('mcp_everything_get-sum', { a: 1, b: 2 }, ASK_GET_SUM);
  expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(JSON.parse(r.stdout)).toMatchObject({ response: 'The tool answered.' });
  const responses = api.functionResponses();
  expect(responses).toHaveLength(1);
  expect(responses[0]!.text).toContain('mcpwatch asks before the MCP tool call everything/get-sum: tool everything/get-sum needs your confirmation by policy. To request an exception, contact secops@example.com. (this client cannot ask for confirmation, so the call was refused)');
  expect(journal).toMatchObject([{ client: 'gemini-cli', server: 'everything', tool: 'get-sum', decision: 'ask', enforced: true, rule: 'ask-tool' }]);
}, 180_000);

maybe('a call the server fails is journaled as failed by the AfterTool hook', async () => {
  // resourceId -1 passes the tool's schema (a number), so Gemini CLI calls the server, which answers isError.
  const { r, api, journal } = await geminiCall('mcp_everything_get-resource-reference', { resourceType: 'Text', resourceId: -1 }, { mode: 'enforce' });
  expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
  const responses = api.functionResponses();
  expect(responses).toHaveLength(1);
  expect(responses[0]!.text).toContain('Invalid resourceId: -1');
  expect(journal).toMatchObject([
    { client: 'gemini-cli', phase: 'pre', server: 'everything', tool: 'get-resource-reference', argumentNames: ['resourceId', 'resourceType'], decision: 'allow' },
    { client: 'gemini-cli', phase: 'post', server: 'everything', tool: 'get-resource-reference', success: false },
  ]);
}, 180_000);
