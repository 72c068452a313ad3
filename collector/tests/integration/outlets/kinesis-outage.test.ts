/**
 * Kinesis unreachable during steady ingest: the collector keeps accepting batches, the outbox
 * grows, and after Kinesis is back every acknowledged event reaches the stream (zero lost;
 * duplicates allowed, at-least-once). Real peers: the collector app over SQLite, a signing test
 * agent, kinesalite behind a proxy that is cut for the outage.
 *
 * The default outage is 10 s so the suite stays fast; MCPWATCH_FULL_OUTAGE=1 runs the 2-minute
 * outage of the issue.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { createStore } from '../../../src/store/index.js';
import type { Store } from '../../../src/store/types.js';
import { loadCaForTests } from '../../support/ca-cache.js';
import { ENROLL_SECRET } from '../../support/collector-fixture.js';
import { injectTransport, pooledKeyPair, TestAgent, FaultProxy, Kinesalite, TEST_CREDENTIALS, waitFor } from '@mcpwatch/testkit';

const FULL = process.env.MCPWATCH_FULL_OUTAGE === '1';
const OUTAGE_MS = FULL ? 120_000 : 10_000;
console.info(`Kinesis outage test: ${OUTAGE_MS / 1000} s outage${FULL ? '' : ' (set MCPWATCH_FULL_OUTAGE=1 for the 2-minute run)'}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Records the Kinesis sink has had accepted so far (the /metrics counter). */
async function sentTotal(app: FastifyInstance): Promise<number> {
  const m = /mcpwatch_outbox_sent_total\{sink="kinesis"\} (\d+)/.exec((await app.inject({ method: 'GET', url: '/metrics' })).body);
  return m ? Number(m[1]) : 0;
}

async function depth(store: Store): Promise<number> {
  return (await store.outboxDepth())['kinesis'] ?? 0;
}

describe('Kinesis down during steady ingest', () => {
  let k: Kinesalite;
  let proxy: FaultProxy;
  let app: FastifyInstance;
  let store: Store;
  let dataDir: string;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey });
    k = await new Kinesalite().start();
    await k.createStream('events', 2);
    proxy = await new FaultProxy(k.port).up();
    dataDir = mkdtempSync(join(tmpdir(), 'mcpw-outage-'));
    store = await createStore({ dataDir });
    const config = loadConfig({
      overrides: {
        dataDir,
        tls: 'off',
        enrollSecrets: `fleet:${ENROLL_SECRET}`,
        kinesisStream: 'events',
        kinesisEndpoint: proxy.endpoint,
        awsRegion: 'us-east-1',
        outboxPollMs: 50,
        sinkSendDeadlineMs: 1000,
        outboxLeaseMs: 5000,
      },
    });
    expect(config.sinks).toEqual(['kinesis']);
    app = await buildApp(config, { store, logger: false, ca: loadCaForTests() });
    await app.ready();
  });

  afterAll(async () => {
    await app?.close();
    await store?.close();
    await proxy?.stop();
    await k?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    process.env = savedEnv;
  });

  it(`grows the outbox during a ${OUTAGE_MS / 1000} s outage and loses nothing after`, async () => {
    const agent = await TestAgent.enroll(injectTransport(app), { enrollSecret: ENROLL_SECRET, keys: pooledKeyPair(7) });
    const acked: string[] = [];
    let ingesting = true;
    const ingest = (async () => {
      while (ingesting) {
        const events = agent.events(20);
        const res = await agent.sendEvents(events);
        expect(res.status).toBe(200);
        acked.push(...events.map((e) => e.id));
        await sleep(100);
      }
    })();

    // Steady state first: events are reaching Kinesis through the proxy.
    await waitFor('the first records in Kinesis', async () => (await k.readAll('events')).length > 0, 60_000);
    await proxy.down();
    const atCut = await depth(store);
    await sleep(OUTAGE_MS);
    const atEnd = await depth(store);
    expect(atEnd).toBeGreaterThan(atCut);
    expect(atEnd).toBeGreaterThan(100);
    const sentAtEnd = await sentTotal(app);
    await proxy.up();
    // Ingest continues until a send got through the restored proxy.
    await waitFor('a send to Kinesis after the outage', async () => (await sentTotal(app)) > sentAtEnd, 90_000, 100);
    ingesting = false;
    await ingest;

    // Drains after the outage (bounded wait; rows retry with at most 30 s backoff).
    await waitFor('the outbox to drain', async () => (await depth(store)) === 0, 90_000, 250);
    expect(await depth(store)).toBe(0);

    const got = await k.readAll('events');
    const ids = got.map((r) => (JSON.parse(r.data.toString('utf8')) as { event: { id: string } }).event.id);
    const published = new Set(ids);
    const missing = acked.filter((id) => !published.has(id));
    expect({ acked: acked.length, missing: missing.length }).toEqual({ acked: acked.length, missing: 0 });
    console.info(`outage: ${acked.length} events acked, outbox peaked at ${atEnd} rows, ${ids.length - published.size} duplicates after retries`);

    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/mcpwatch_outbox_failures_total\{sink="kinesis",kind="retryable"\} [1-9]/);
    expect(metrics).toMatch(/mcpwatch_outbox_sent_total\{sink="kinesis"\} [1-9]/);
  }, OUTAGE_MS + 150_000);
});
