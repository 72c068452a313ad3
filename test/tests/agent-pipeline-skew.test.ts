/**
 * Clock skew and policy against the real collector (child process). The agent runtime runs in this
 * process so its clock can be injected: a clock an hour fast gets a clear MCPW_ERR_CLOCK_SKEW error
 * and nothing is lost; once the clock is right the spooled events arrive. The settings the
 * collector serves (MCPWATCH_AGENT_SETTINGS) come back with the batch acks and are applied without
 * a restart: heartbeat and poll intervals change, rule switches reach the rules engine (the one
 * place they apply: the sink ships what the engine produced, unfiltered). A collector that
 * lost its store answers 401 unknown agent; the agent enrolls again with its configured secret.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AgentRuntime, configDefaults, enroll, readShipperState, type WatchEngine } from '@mcpwatch/agent';
import { makeEvent } from '@mcpwatch/shared';
import { ENROLL_SECRET, freePort, startCollector, storedEvents, waitFor, type CollectorHandle } from './agent-pipeline-harness.js';

let collector: CollectorHandle | null = null;
afterAll(async () => {
  await collector?.child.stop('SIGKILL');
});

/** A watch engine with nothing to watch; records the intervals it is given. */
class QuietEngine implements WatchEngine {
  intervals: number[] = [];
  constructor(readonly onEvent: (e: never) => void) {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  current() {
    return null;
  }
  setProcessIntervalMs(ms: number): void {
    this.intervals.push(ms);
  }
}

describe('agent runtime against the real collector', () => {
  test('reports clock skew clearly, recovers when the clock is right, applies served policy, re-enrolls when unknown', async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-e2e-skew-'));
    const settings = { heartbeatMs: 5000, processPollMs: 7000, disabledRules: ['unpinned-package'] };
    collector = await startCollector(path.join(base, 'collector'), await freePort(), base, { MCPWATCH_AGENT_SETTINGS: JSON.stringify(settings) });
    const stateDir = path.join(base, 'state');
    const host = { hostname: 'skew-host', platform: 'linux' as const, users: ['u'], hardwareUuid: 'skew-uuid' };
    const id = await enroll({ server: collector.url, secret: ENROLL_SECRET, stateDir, host, agentVersion: '0.1.0' });

    let offsetMs = 3600_000;
    const logs: string[] = [];
    let engine: QuietEngine | null = null;
    const runtime = new AgentRuntime({
      config: { ...configDefaults(), stateDir, enrollSecret: ENROLL_SECRET, heartbeatMs: 1000, retryBaseMs: 100, retryMaxMs: 400, reconnectJitterMs: 0, batchMaxWaitMs: 20, lowPriority: false },
      createWatcher: (o) => (engine = new QuietEngine(o.onEvent as never)),
      hostInfo: async () => host,
      log: (level, message) => logs.push(`${level} ${message}`),
      now: () => Date.now() + offsetMs,
    });
    try {
      await runtime.start();
      // policy from enrollment is already in force
      expect(runtime.currentPolicy().heartbeatMs).toBe(5000);
      await waitFor('the clock-skew error', () => logs.some((l) => l.includes('MCPW_ERR_CLOCK_SKEW')));
      const skewLine = logs.find((l) => l.includes('MCPW_ERR_CLOCK_SKEW'))!;
      expect(skewLine).toMatch(/check this machine's clock/);
      expect(skewLine).toMatch(/outside the accepted window|from the collector clock/);
      expect(storedEvents(collector.dataDir, id.record.agentId)).toEqual([]);
      expect(readShipperState(stateDir).lastError).toMatch(/MCPW_ERR_CLOCK_SKEW/);

      // the sink does not filter findings again: rule switches are the rules engine's (rulesOptions)
      const finding = (ruleId: string) => ({ id: `f-${ruleId}`, ruleId, severity: 'medium' as const, title: 't', description: 'd', subject: { serverName: 's' } });
      runtime.push(makeEvent('finding.raised', runtime.endpointId, finding('unpinned-package')));
      runtime.push(makeEvent('finding.raised', runtime.endpointId, finding('plain-http-remote')));

      offsetMs = 0;
      await waitFor('the spooled events to arrive', () => storedEvents(collector!.dataDir, id.record.agentId).some((e) => e.type === 'finding.raised'));
      await runtime.flush(5000);
      const stored = storedEvents(collector.dataDir, id.record.agentId);
      expect(stored.filter((e) => e.type === 'agent.heartbeat').length).toBeGreaterThan(0);
      expect(stored.filter((e) => e.type === 'finding.raised').map((e) => (JSON.parse(e.data) as { ruleId: string }).ruleId)).toEqual(['unpinned-package', 'plain-http-remote']);
      expect(readShipperState(stateDir).lastError).toBeNull();
      expect(logs.some((l) => l.includes('collector reachable again'))).toBe(true);
      // served settings applied without a restart
      expect(runtime.currentPolicy()).toMatchObject({ heartbeatMs: 5000, processPollMs: 7000 });
      expect([...runtime.currentPolicy().disabledRules]).toEqual(['unpinned-package']);
      expect(runtime.rulesOptions()).toMatchObject({ disabledRules: ['unpinned-package'], allowServers: [] });
      expect(engine).not.toBeNull();

      // A collector that lost its store no longer knows the agent (401): with a secret configured,
      // the agent enrolls again and delivers what it holds under its new identity.
      const port = Number(new URL(collector.url).port);
      await collector.child.stop('SIGTERM');
      collector = await startCollector(path.join(base, 'collector-new'), port, base);
      runtime.push(makeEvent('finding.raised', runtime.endpointId, finding('after-reset')));
      await waitFor('re-enrollment', () => logs.some((l) => l.includes('re-enrolled (the collector does not know this agent)')));
      const again = JSON.parse(fs.readFileSync(path.join(stateDir, 'enrollment.json'), 'utf8')) as { agentId: string };
      expect(again.agentId).not.toBe(id.record.agentId);
      await waitFor('delivery under the new identity', () => storedEvents(collector!.dataDir, again.agentId).some((e) => e.type === 'finding.raised'));
      expect(storedEvents(collector.dataDir, again.agentId)[0]!.batch_seq).toBe(1);
    } catch (e) {
      throw new Error(`${(e as Error).message}\nagent log:\n${logs.join('\n')}`);
    } finally {
      await runtime.shutdown();
    }
  }, 240_000);
});
