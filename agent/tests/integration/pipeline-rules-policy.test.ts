/**
 * Collector-served rule switches and allow-lists are decided once, in the rules engine (issue 10
 * item 18), and a rule that throws is reported. Real peers: the `run` command in-process on a
 * fixture home (real discovery, normalization and rules) shipping to a real HTTP collector (the
 * fake that verifies signatures and serves settings in its acks); the runtime with the real
 * inventory watcher for the throwing rule.
 *  - an allow-listed server keeps its secret finding (the engine's contract: an allow-list accepts
 *    a server, not a leaked credential) and loses its other findings;
 *  - a disabled rule produces nothing; settings arriving with an ack apply without a restart
 *    (findings resolved at once);
 *  - a rule that throws is logged as an error and is the heartbeat's lastError, and the other
 *    rules' findings still appear.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import type { Finding, McpEvent } from '@mcpwatch/shared';
import { main } from '../../src/cli.js';
import { AgentRuntime } from '../../src/runtime/agent-runtime.js';
import { configDefaults, type AgentConfig } from '../../src/config/config-table.js';
import { InventoryWatcher } from '../../src/inventory/inventory-watcher.js';
import { buildScanContext } from '../../src/inventory/scan-context.js';
import { defaultScanDeps, rulesEvaluator } from '../../src/inventory/scan-deps.js';
import { RULES, type Rule } from '../../src/rules/index.js';
import { enrolledStateDir, FakeCollector, waitFor } from '@mcpwatch/testkit';

const AGENT = 'ag_rules_policy';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const GH = 'gh' + 'p_' + 'Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Jh0Gf9Ed8Cb';

let collector: FakeCollector;
beforeEach(async () => {
  collector = new FakeCollector(new Map([[AGENT, publicKey]]));
  await collector.listen();
});
afterEach(async () => {
  await collector.close();
});

function fixture(settings: Record<string, unknown>): { stateDir: string; home: string } {
  const stateDir = enrolledStateDir({ agentId: AGENT, endpointId: 'ep_rules', server: collector.url, privateKey, settings, prefix: 'mcpw-rules-policy-' });
  const root = path.dirname(stateDir);
  const home = path.join(root, 'home');
  fs.mkdirSync(path.join(home, '.cursor'), { recursive: true });
  const mcpServers = {
    trusted: { command: 'npx', args: ['-y', '@example/trusted'], env: { GITHUB_TOKEN: GH } },
    other: { command: 'npx', args: ['-y', '@example/other'] },
  };
  fs.writeFileSync(path.join(home, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers }, null, 2));
  return { stateDir, home };
}

const findingsOf = (events: McpEvent[], type: 'finding.raised' | 'finding.resolved'): Finding[] =>
  events.filter((e): e is Extract<McpEvent, { type: typeof type }> => e.type === type).map((e) => e.data as Finding);
const snapshotFindings = (events: McpEvent[]): Finding[] => {
  const snap = events.find((e) => e.type === 'inventory.snapshot') as Extract<McpEvent, { type: 'inventory.snapshot' }> | undefined;
  return snap ? snap.data.findings : [];
};
const has = (fs_: Finding[], ruleId: string, server: string) => fs_.some((f) => f.ruleId === ruleId && f.subject.serverName === server);

describe('rules policy, decided once in the rules engine', () => {
  it('keeps the secret finding of an allow-listed server, drops its others, and applies served settings from an ack without a restart', async () => {
    const { stateDir, home } = fixture({ allowServers: ['trusted'] });
    collector.settings = { allowServers: ['trusted'] };
    const ctl = new AbortController();
    const err: string[] = [];
    const io = {
      stdout: () => undefined,
      stderr: (s: string) => void err.push(s),
      env: { HOME: home, MCPWATCH_HEARTBEAT_MS: '1000', MCPWATCH_BATCH_MAX_WAIT_MS: '20', MCPWATCH_RETRY_BASE_MS: '50', MCPWATCH_RETRY_MAX_MS: '200', MCPWATCH_RECONNECT_JITTER_MS: '0', MCPWATCH_LOW_PRIORITY: 'false' },
      signal: ctl.signal,
    };
    const running = main(['run', '--state-dir', stateDir, '--home', home, '--platform', 'linux', '--sources', 'configs', '--debounce-ms', '20'], io);
    try {
      await waitFor('the start snapshot', () => collector.events().some((e) => e.type === 'inventory.snapshot'));
      const start = snapshotFindings(collector.events());
      // Allow-listed: the secret stays (the engine's contract), its other findings go.
      expect(has(start, 'secret-in-config', 'trusted')).toBe(true);
      expect(has(start, 'unpinned-package', 'trusted')).toBe(false);
      expect(has(start, 'unpinned-package', 'other')).toBe(true);

      // The collector now disables a rule: served in the ack, applied without a restart.
      collector.settings = { allowServers: ['trusted'], disabledRules: ['unpinned-package'] };
      await waitFor('the disabled rule resolved', () => has(findingsOf(collector.events(), 'finding.resolved'), 'unpinned-package', 'other'));
      expect(has(findingsOf(collector.events(), 'finding.resolved'), 'secret-in-config', 'trusted')).toBe(false);

      // Both lifted: the findings they held back are raised again; the secret was never resolved.
      collector.settings = {};
      await waitFor('the findings raised again', () => {
        const raised = findingsOf(collector.events(), 'finding.raised');
        return has(raised, 'unpinned-package', 'trusted') && has(raised, 'unpinned-package', 'other');
      });
      expect(has(findingsOf(collector.events(), 'finding.resolved'), 'secret-in-config', 'trusted')).toBe(false);
      expect(err.join('')).not.toMatch(/MCPW_ERR_RULE_FAILED/);
    } finally {
      ctl.abort();
      expect(await running).toBe(0);
    }
  }, 90_000);

  it('reports a rule that throws (error log, heartbeat lastError) while the other rules still produce their findings', async () => {
    const { stateDir, home } = fixture({});
    const thrower: Rule = {
      id: 'always-throws',
      severity: 'low',
      title: 'A rule that always fails',
      rationale: 'Exists only to fail: the engine must report it and keep going with the other rules.',
      evaluate: () => {
        throw new Error('boom from the rule');
      },
    };
    const config: AgentConfig = { ...configDefaults(), stateDir, heartbeatMs: 60_000, retryBaseMs: 10, retryMaxMs: 50, reconnectJitterMs: 0, batchMaxWaitMs: 10, lowPriority: false, enrollSecret: null };
    const logs: string[] = [];
    const ctx = await buildScanContext({ platform: 'linux', home, projectRoots: [], systemRoot: null });
    const runtime: AgentRuntime = new AgentRuntime({
      config,
      rules: [thrower, ...RULES],
      // As commands/run.ts wires it: the engine reads the runtime's rules options at every evaluation.
      createWatcher: (o) =>
        new InventoryWatcher(
          { ctx, sources: { configs: true, processes: false, sockets: false }, endpointId: o.endpointId, processIntervalMs: o.processIntervalMs, emitSnapshot: o.emitSnapshot, onEvent: o.onEvent, onError: o.onError },
          { ...defaultScanDeps(), evaluateRules: rulesEvaluator(() => runtime.rulesOptions()) },
        ),
      hostInfo: async () => ({ hostname: 'h', platform: 'linux', users: [] }),
      log: (level, m) => logs.push(`${level} ${m}`),
    });
    try {
      await runtime.start();
      expect(await runtime.flush()).toBe(true);
      const events = collector.events();
      const hb = events.find((e) => e.type === 'agent.heartbeat') as Extract<McpEvent, { type: 'agent.heartbeat' }>;
      expect(hb.data.lastError).toMatch(/MCPW_ERR_RULE_FAILED: rule always-throws failed/);
      expect(logs.some((l) => /^error MCPW_ERR_RULE_FAILED: rule always-throws failed/.test(l))).toBe(true);
      const start = snapshotFindings(events);
      expect(has(start, 'secret-in-config', 'trusted')).toBe(true);
      expect(has(start, 'unpinned-package', 'other')).toBe(true);
      expect(start.some((f) => f.ruleId === 'always-throws')).toBe(false);
    } finally {
      await runtime.shutdown();
    }
  }, 60_000);
});
