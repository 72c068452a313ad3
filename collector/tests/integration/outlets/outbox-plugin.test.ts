/**
 * The outbox plugin inside the real collector app: what an agent sends reaches the configured
 * outlets. Embedded default: JSONL files under the data dir. AWS: kinesalite and the Security Hub
 * fake, with the endpoint's host name from the store in the ASFF resource. A Security Hub setup
 * whose account id cannot be found refuses to start with a coded error.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/app.js';
import { loadConfig, type ConfigKey } from '../../../src/config.js';
import { outletsOf } from '../../../src/outbox/outbox-plugin.js';
import { createStore } from '../../../src/store/index.js';
import { loadCaForTests } from '../../support/ca-cache.js';
import { ENROLL_SECRET } from '../../support/collector-fixture.js';
import { injectTransport, makeHost, pooledKeyPair, TestAgent, Kinesalite, TEST_CREDENTIALS, SecurityHubFake } from '@mcpwatch/testkit';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const savedEnv = { ...process.env };
beforeAll(() => Object.assign(process.env, { AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey }));
afterAll(() => {
  process.env = savedEnv;
});

const dirs: string[] = [];
const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function app(overrides: Partial<Record<ConfigKey, unknown>>): Promise<{ app: FastifyInstance; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mcpw-outlets-app-'));
  dirs.push(dataDir);
  const config = loadConfig({ overrides: { dataDir, tls: 'off', enrollSecrets: `fleet:${ENROLL_SECRET}`, outboxPollMs: 20, ...overrides } });
  const a = await buildApp(config, { logger: false, ca: loadCaForTests() });
  apps.push(a);
  await a.ready();
  return { app: a, dataDir };
}

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test('embedded default: the file sink writes what would be published', async () => {
  const { app: a, dataDir } = await app({});
  expect(a.collector.config.sinks).toEqual(['file']);
  const agent = await TestAgent.enroll(injectTransport(a), { enrollSecret: ENROLL_SECRET, keys: pooledKeyPair(11) });
  const events = agent.events(8);
  expect((await agent.sendEvents(events)).status).toBe(200);
  await until('outbox drained', async () => (await a.collector.store.projectionStatus()).lagBatches === 0 && ((await a.collector.store.outboxDepth())['file'] ?? 0) === 0);
  const lines = readFileSync(join(dataDir, 'outlets', 'kinesis.jsonl'), 'utf8').trim().split('\n');
  expect(lines.map((l) => (JSON.parse(l) as { event: { id: string } }).event.id)).toEqual(events.map((e) => e.id));
  const findings = readFileSync(join(dataDir, 'outlets', 'securityhub.jsonl'), 'utf8').trim().split('\n');
  expect(findings.length).toBe(events.filter((e) => e.type === 'finding.raised').length);
  expect(outletsOf(a)!.drainers.map((d) => d.sinkName)).toEqual(['file']);
});

test('AWS: events reach Kinesis and findings Security Hub, with the host name from the store; metrics show it', async () => {
  const k = await new Kinesalite().start();
  const hub = await new SecurityHubFake({ accounts: { [TEST_CREDENTIALS.accessKeyId]: '123456789012' } }).start();
  try {
    await k.createStream('events', 1);
    const { app: a } = await app({
      kinesisStream: 'events',
      kinesisEndpoint: k.endpoint,
      securityHub: 'on',
      securityHubEndpoint: hub.endpoint,
      awsAccountId: '123456789012',
      awsRegion: 'eu-west-1',
    });
    expect(a.collector.config.sinks).toEqual(['kinesis', 'securityhub']);
    const agent = await TestAgent.enroll(injectTransport(a), { enrollSecret: ENROLL_SECRET, keys: pooledKeyPair(12), host: makeHost({ hostname: 'finance-mac-7' }) });
    const events = agent.events(12);
    expect((await agent.sendEvents(events)).status).toBe(200);
    await until('outbox drained', async () => (await a.collector.store.projectionStatus()).lagBatches === 0 && Object.values(await a.collector.store.outboxDepth()).every((n) => n === 0));
    const got = await k.readAll('events');
    expect(got.map((r) => (JSON.parse(r.data.toString('utf8')) as { event: { id: string } }).event.id)).toEqual(events.map((e) => e.id));
    const raised = events.filter((e) => e.type === 'finding.raised');
    expect(hub.findings.size).toBe(new Set(raised.map((e) => (e.data as { id: string }).id)).size);
    const one = [...hub.findings.values()][0]!;
    expect(one).toMatchObject({ AwsAccountId: '123456789012', ProductArn: 'arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default' });
    expect((one['Resources'] as Array<{ Id: string; Details: { Other: { host: string } } }>)[0]).toMatchObject({ Id: agent.endpointId, Details: { Other: { host: 'finance-mac-7' } } });
    const metrics = (await a.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain(`mcpwatch_outbox_sent_total{sink="kinesis"} ${events.length}`);
    expect(metrics).toMatch(/mcpwatch_outbox_sent_total\{sink="securityhub"\} [1-9]/);
    expect(metrics).toMatch(/mcpwatch_outbox_lag_seconds\{sink="kinesis"\} /);
  } finally {
    await Promise.all(apps.splice(0).map((x) => x.close()));
    await hub.stop();
    await k.stop();
  }
});

test('Security Hub without an account id and an unreachable STS refuses to start, naming the fix', async () => {
  process.env.AWS_ENDPOINT_URL_STS = 'http://127.0.0.1:9';
  const dataDir = mkdtempSync(join(tmpdir(), 'mcpw-outlets-app-'));
  dirs.push(dataDir);
  // The test owns the store: buildApp does not close a store it was given.
  const store = await createStore({ dataDir });
  try {
    const config = loadConfig({ overrides: { dataDir, tls: 'off', securityHub: 'on', awsRegion: 'eu-west-1', securityHubEndpoint: 'http://127.0.0.1:9' } });
    await expect(buildApp(config, { store, logger: false, ca: loadCaForTests() })).rejects.toMatchObject({
      code: 'MCPW_ERR_SINK_CONFIG',
      message: expect.stringContaining('MCPWATCH_AWS_ACCOUNT_ID'),
    });
  } finally {
    delete process.env.AWS_ENDPOINT_URL_STS;
    await store.close();
  }
});
