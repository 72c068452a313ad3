/**
 * Hooks end to end on the agent side: the collector's tool policy arrives in a batch ack, the
 * running agent caches it, the hook command (a real child process) denies by it without a
 * restart; the calls journaled by the hook reach the collector as schema-valid `tool.called`
 * events with argument names only (the canary value in the arguments appears nowhere).
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { INVENTORY_SCHEMA_ID, makeEvent, type InventoryDocument } from '@mcpwatch/shared';
import { enrolledStateDir } from '@mcpwatch/testkit';
import { AgentRuntime, type WatchEngine } from '../../../src/runtime/agent-runtime.js';
import { configDefaults, type AgentConfig } from '../../../src/config/config-table.js';
import { validateEvent, schemaErrors } from '../../helpers/schemas.js';
import { collectorRuntimeFixture } from '../../helpers/runtime-fixture.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/mcpwatch-agent.js');
const AGENT = 'ag_hooks';
const CANARY = 'CANARY-runtime-90210-SECRET';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

const emptyDoc: InventoryDocument = { schema: INVENTORY_SCHEMA_ID, generatedAt: new Date().toISOString(), host: { hostname: 'h', platform: 'linux', users: [] }, clients: [], servers: [], processes: [], sockets: [], findings: [], errors: [] } as InventoryDocument;

function hook(stateDir: string, tool: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'hook', 'claude-code', '--state-dir', stateDir], { stdio: ['pipe', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
    child.stdin.end(JSON.stringify({ session_id: 'sess-rt', transcript_path: '/tmp/t', cwd: '/tmp', hook_event_name: 'PreToolUse', tool_name: tool, tool_input: { query: 'q', password: CANARY } }));
  });
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Any event, so a batch goes out and an ack (with settings) comes back. */
const nudge = (i: number) => makeEvent('config.error', 'ep_hooks', { path: `/nudge/${i}`, client: 'cursor', reason: 'nudge' } as never);

const fx = collectorRuntimeFixture(AGENT, publicKey);

test('policy from the ack is applied by the next hook call; journaled calls arrive as tool.called events', async () => {
  const dir = enrolledStateDir({ agentId: AGENT, endpointId: 'ep_hooks', server: fx.collector.url, privateKey, prefix: 'mcpw-hookrt-' });
  const config: AgentConfig = { ...configDefaults(), stateDir: dir, heartbeatMs: 60_000, retryBaseMs: 10, retryMaxMs: 50, reconnectJitterMs: 0, batchMaxWaitMs: 10, lowPriority: false, enrollSecret: null };
  fx.runtime = new AgentRuntime({
    config,
    createWatcher: (): WatchEngine => ({ start: async () => undefined, stop: async () => undefined, current: () => emptyDoc }),
    hostInfo: async () => ({ hostname: 'h', platform: 'linux', users: [] }),
    log: () => undefined,
  });
  await fx.runtime.start();
  await fx.runtime.flush();
  // No tool policy served yet: the hook audits and allows.
  expect((await hook(dir, 'mcp__payments__refund')).stdout).toBe('');
  fx.collector.settings = { toolPolicy: { mode: 'enforce', blockedServers: ['payments'], contact: 'secops@example.com', revision: 'r7' } };
  fx.runtime.push(nudge(1));
  await fx.runtime.flush();
  await until(() => fs.existsSync(path.join(dir, 'tool-policy.json')), 'the cached policy');
  expect(JSON.parse(fs.readFileSync(path.join(dir, 'tool-policy.json'), 'utf8'))).toMatchObject({ mode: 'enforce', revision: 'r7' });

  const denied = await hook(dir, 'mcp__payments__refund');
  expect(JSON.parse(denied.stdout).hookSpecificOutput).toMatchObject({ permissionDecision: 'deny', permissionDecisionReason: expect.stringContaining('secops@example.com') });
  expect((await hook(dir, 'mcp__docs__search')).stdout).toBe('');

  await until(() => fx.collector.events().filter((e) => e.type === 'tool.called').length === 3, 'three tool.called events');
  const calls = fx.collector.events().filter((e) => e.type === 'tool.called');
  for (const e of calls) expect(schemaErrors(validateEvent, e)).toBe('');
  expect(calls.map((e) => e.data)).toMatchObject([
    { server: 'payments', tool: 'refund', decision: 'allow', mode: 'audit', rule: 'no-policy', argumentNames: ['password', 'query'] },
    { server: 'payments', tool: 'refund', decision: 'deny', mode: 'enforce', enforced: true, rule: 'blocked-server' },
    { server: 'docs', tool: 'search', decision: 'allow', rule: 'default' },
  ]);
  expect(calls.every((e) => e.endpointId === 'ep_hooks' && e.v === 2)).toBe(true);
  expect(JSON.stringify(fx.collector.events())).not.toContain(CANARY);
  expect(JSON.stringify(fx.collector.events())).not.toContain('sess-rt');

  // A restart does not ship them again.
  await fx.runtime.shutdown();
  fx.runtime = new AgentRuntime({ config, createWatcher: (): WatchEngine => ({ start: async () => undefined, stop: async () => undefined, current: () => emptyDoc }), hostInfo: async () => ({ hostname: 'h', platform: 'linux', users: [] }), log: () => undefined });
  await fx.runtime.start();
  await fx.runtime.flush();
  expect(fx.collector.events().filter((e) => e.type === 'tool.called')).toHaveLength(3);

  // The collector stops sending a tool policy: the cached one is removed, the hook audits again.
  fx.collector.settings = {};
  fx.runtime.push(nudge(2));
  await fx.runtime.flush();
  await until(() => !fs.existsSync(path.join(dir, 'tool-policy.json')), 'the cached policy to go');
  expect((await hook(dir, 'mcp__payments__refund')).stdout).toBe('');
});
