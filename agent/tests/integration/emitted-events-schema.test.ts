/**
 * What the run-mode runtime itself ships (start snapshot envelope, agent.heartbeat, agent.dropped
 * after a spool overflow, and the batch envelopes) matches the shared schemas exactly: every object
 * in them is closed (`additionalProperties: false`) and the collector refuses a batch holding a
 * property they do not name, so an agent emitting one would lose whole batches. The watch engine's
 * own events and the scan document are checked the same way in watch.test.ts and cli.test.ts.
 */
import { generateKeyPairSync } from 'node:crypto';
import { INVENTORY_SCHEMA_ID, makeEvent, type InventoryDocument } from '@mcpwatch/shared';
import { AgentRuntime } from '../../src/runtime/agent-runtime.js';
import { configDefaults, type AgentConfig } from '../../src/config/config-table.js';
import { schemaErrors, validateEvent } from '../helpers/schemas.js';
import { runtimeRig, SnapshotEngine } from '../support/runtime-rig.js';

const AGENT = 'ag_schema';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const BATCH_KEYS = ['agentId', 'events', 'prevHash', 'sentAt', 'seq'];

const inventory: InventoryDocument = {
  schema: INVENTORY_SCHEMA_ID,
  generatedAt: new Date().toISOString(),
  host: { hostname: 'h', platform: 'linux', osName: 'Linux', osRelease: '6.1', arch: 'x64', hardwareUuid: null, serial: null, users: ['alice'] },
  clients: [],
  servers: [],
  processes: [],
  sockets: [],
  findings: [],
  errors: [],
};

const rig = runtimeRig({ agentId: AGENT, endpointId: 'ep_schema', publicKey, privateKey, prefix: 'mcpw-schema-' });

test('the runtime ships only what the shared schemas name: snapshot, heartbeat, agent.dropped and batch envelopes', async () => {
  const config: AgentConfig = { ...configDefaults(), stateDir: rig.stateDir(), spoolMaxBytes: 65536, heartbeatMs: 60_000, retryBaseMs: 10, retryMaxMs: 50, reconnectJitterMs: 0, batchMaxWaitMs: 10, lowPriority: false, enrollSecret: null };
  const runtime = rig.track(new AgentRuntime({ config, createWatcher: (o) => new SnapshotEngine(o, inventory), hostInfo: async () => inventory.host, log: () => undefined }));
  await runtime.start();
  expect(await runtime.flush(10_000)).toBe(true); // the start snapshot and heartbeat are delivered
  rig.collector.forced.push({ status: 503 }, { status: 503 }); // then an outage overflows the spool
  for (let i = 0; i < 60; i++) runtime.push(makeEvent('config.error', 'ep_schema', { path: `/p/${i}`, client: 'cursor', code: 'parse', reason: 'x'.repeat(2000) }));
  expect(await runtime.flush(10_000)).toBe(true);

  const events = rig.collector.events();
  expect(new Set(events.map((e) => e.type))).toEqual(new Set(['inventory.snapshot', 'agent.heartbeat', 'agent.dropped', 'config.error']));
  for (const e of events) expect(`${e.type}: ${schemaErrors(validateEvent, e)}`).toBe(`${e.type}: `);
  expect(rig.collector.accepted.length).toBeGreaterThan(0);
  for (const b of rig.collector.accepted) expect(Object.keys(b).sort()).toEqual(BATCH_KEYS);
});
