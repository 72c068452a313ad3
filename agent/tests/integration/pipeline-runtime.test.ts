/**
 * The run-mode runtime wired to a real HTTP collector (the small fake that verifies signatures and
 * chains): start snapshot and heartbeat, spool overflow reported as agent.dropped, served policy
 * applied to a watch engine without a setter by a lossless restart, and re-enrollment refused
 * clearly when no secret is configured.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { INVENTORY_SCHEMA_ID, makeEvent, type InventoryDocument, type McpEvent } from '@mcpwatch/shared';
import { AgentRuntime } from '../../src/runtime/agent-runtime.js';
import { configDefaults, type AgentConfig } from '../../src/config/config-table.js';
import { runtimeRig, SnapshotEngine } from '../support/runtime-rig.js';

const AGENT = 'ag_runtime';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

function doc(users: string[]): InventoryDocument {
  return { schema: INVENTORY_SCHEMA_ID, generatedAt: new Date().toISOString(), host: { hostname: 'h', platform: 'linux', users }, clients: [], servers: [], processes: [], sockets: [], findings: [], errors: [] } as InventoryDocument;
}

const rig = runtimeRig({ agentId: AGENT, endpointId: 'ep_rt', publicKey, privateKey, prefix: 'mcpw-runtime-' });

function makeRuntime(dir: string, extra: Partial<AgentConfig>, engines: SnapshotEngine[], logs: string[], docs: InventoryDocument[]) {
  const config: AgentConfig = { ...configDefaults(), stateDir: dir, heartbeatMs: 60_000, retryBaseMs: 10, retryMaxMs: 50, reconnectJitterMs: 0, batchMaxWaitMs: 10, lowPriority: false, enrollSecret: null, ...extra };
  return rig.track(new AgentRuntime({
    config,
    createWatcher: (o) => {
      const e = new SnapshotEngine(o, docs[Math.min(engines.length, docs.length - 1)]!);
      engines.push(e);
      return e;
    },
    diff: (prev, next, endpointId) => (prev.host.users.join() === next.host.users.join() ? [] : [makeEvent('client.detected', endpointId, { client: 'cursor', displayName: 'Cursor', user: next.host.users.at(-1) ?? null, configPaths: [], serverCount: 0 })]),
    hostInfo: async () => ({ hostname: 'h', platform: 'linux', users: [] }),
    log: (level, m) => logs.push(`${level} ${m}`),
  }));
}

describe('AgentRuntime', () => {
  it('ships the start snapshot and a heartbeat, and applies served policy with a lossless engine restart', async () => {
    const engines: SnapshotEngine[] = [];
    const logs: string[] = [];
    const runtime = makeRuntime(rig.stateDir(), {}, engines, logs, [doc(['alice']), doc(['alice', 'bob'])]);
    await runtime.start();
    expect(await runtime.flush()).toBe(true);
    expect(rig.collector.events().map((e) => e.type)).toEqual(['inventory.snapshot', 'agent.heartbeat']);
    const hb = rig.collector.events()[1] as Extract<McpEvent, { type: 'agent.heartbeat' }>;
    expect(hb.data).toMatchObject({ spoolDepth: expect.any(Number), throttled: false, intervalsMs: { processPollMs: 5000, heartbeatMs: 60_000 } });
    expect(hb.endpointId).toBe('ep_rt');

    runtime.applySettings({ processPollMs: 9000 });
    for (let i = 0; i < 100 && engines.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    await runtime.flush();
    expect(engines).toHaveLength(2);
    expect(engines[1]!.o).toMatchObject({ processIntervalMs: 9000, emitSnapshot: false });
    // what changed between the two engines' inventories was diffed and shipped
    expect(rig.collector.events().map((e) => e.type)).toEqual(['inventory.snapshot', 'agent.heartbeat', 'client.detected']);
    expect(runtime.currentPolicy().processPollMs).toBe(9000);
    expect(logs.join('\n')).toMatch(/policy from the collector applied: process poll 9000 ms/);
  });

  it('reports a spool overflow as agent.dropped once the collector takes batches again', async () => {
    const engines: SnapshotEngine[] = [];
    const logs: string[] = [];
    const runtime = makeRuntime(rig.stateDir(), { spoolMaxBytes: 65536 }, engines, logs, [doc(['alice'])]);
    rig.collector.forced.push({ status: 503 }, { status: 503 });
    await runtime.start();
    for (let i = 0; i < 60; i++) runtime.push(makeEvent('config.error', 'ep_rt', { path: `/p/${i}`, client: 'cursor', reason: 'x'.repeat(2000) } as never));
    expect(await runtime.flush(10_000)).toBe(true);
    const dropped = rig.collector.events().filter((e) => e.type === 'agent.dropped');
    expect(dropped.length).toBeGreaterThan(0);
    const lost = dropped.reduce((n, e) => n + (e.data as { count: number }).count, 0);
    // every event is either delivered or counted in a delivered agent.dropped, exactly once
    // (62 = the start snapshot + the start heartbeat + 60 config errors)
    const kept = rig.collector.events().filter((e) => e.type !== 'agent.dropped').length;
    expect(lost).toBeGreaterThan(0);
    expect(kept + lost).toBe(62);
    expect(logs.join('\n')).toMatch(/spool full: dropped the oldest \d+ events/);
  });

  it('says clearly that it cannot re-enroll without a secret', async () => {
    const logs: string[] = [];
    const runtime = makeRuntime(rig.stateDir(), {}, [], logs, [doc(['alice'])]);
    await runtime.start();
    expect(await runtime.reenroll('the collector does not know this agent')).toBe(false);
    expect(logs.join('\n')).toMatch(/MCPW_ERR_ENROLL: the collector does not know this agent, and no enroll secret is configured/);
  });

  it('asks to re-enroll when the collector says its certificate has expired, and keeps the events', async () => {
    const logs: string[] = [];
    rig.collector.expired.add(AGENT);
    const dir = rig.stateDir();
    const runtime = makeRuntime(dir, {}, [], logs, [doc(['alice'])]);
    await runtime.start();
    expect(await runtime.flush(300)).toBe(false);
    expect(logs.join('\n')).toMatch(/MCPW_ERR_ENROLL: the collector says this agent's certificate has expired, and no enroll secret is configured/);
    expect(rig.collector.accepted).toHaveLength(0);
    expect(rig.collector.requests.every((q) => q.status === 401)).toBe(true);
    expect(fs.existsSync(path.join(dir, 'dead-letter'))).toBe(false);
  });
});
