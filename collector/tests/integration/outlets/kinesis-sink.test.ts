/**
 * The Kinesis sink against kinesalite (a real Kinesis emulator on 127.0.0.1): every record is read
 * back and one endpoint's events are checked to be in order on one shard.
 */
import { Kinesalite, TEST_CREDENTIALS, TEST_REGION } from '@mcpwatch/testkit';
import { createKinesisClient, KinesisSink } from '../../../src/sinks/kinesis-sink.js';
import { RECORD_SCHEMA } from '../../../src/sinks/kinesis-records.js';
import type { OutboxRow } from '../../../src/store/types.js';
import { processRow, serverEntry, snapshotRow } from '../../support/outbox-fixtures.js';
import { chainBrokenRow, seqGapRow } from '../../unit/sinks/collector-event-rows.js';

describe('KinesisSink against kinesalite', () => {
  let k: Kinesalite;
  beforeAll(async () => {
    k = await new Kinesalite().start();
    await k.createStream('events', 4);
    await k.createStream('ocsf', 1);
    await k.createStream('big', 1);
    await k.createStream('tamper', 1);
  });
  afterAll(async () => k.stop());

  function sink(stream: string, over: Partial<ConstructorParameters<typeof KinesisSink>[0]> = {}) {
    return new KinesisSink({ streamName: stream, client: createKinesisClient({ region: TEST_REGION, endpoint: k.endpoint, credentials: TEST_CREDENTIALS }), retry: { baseMs: 5, maxMs: 20 }, ...over });
  }

  it('publishes every event once, partition key = endpoint, each endpoint in order on one shard', async () => {
    const s = sink('events');
    const rows: OutboxRow[] = [];
    for (let i = 0; i < 1200; i++) rows.push(processRow('kinesis', i, { endpointId: `ep-${i % 17}`, batchSeq: Math.floor(i / 17) }));
    for (let i = 0; i < rows.length; i += 400) expect(await s.send(rows.slice(i, i + 400))).toEqual({ ok: true });
    await s.shutdown();

    const got = await k.readAll('events');
    expect(got).toHaveLength(rows.length);
    const bodies = got.map((r) => ({ ...r, body: JSON.parse(r.data.toString('utf8')) as { schema: string; endpointId: string; agentId: string; certFingerprint: string; batchSeq: number; event: { id: string } } }));
    expect(new Set(bodies.map((b) => b.body.event.id)).size).toBe(rows.length);
    for (const b of bodies) {
      expect(b.partitionKey).toBe(b.body.endpointId);
      expect(b.body.schema).toBe(RECORD_SCHEMA);
      expect(b.body.certFingerprint).toMatch(/^[0-9a-f]{64}$/);
    }
    // Per endpoint: one shard, and the order of the outbox.
    for (let e = 0; e < 17; e++) {
      const mine = bodies.filter((b) => b.body.endpointId === `ep-${e}`);
      expect(new Set(mine.map((b) => b.shardId)).size).toBe(1);
      expect(mine.map((b) => b.body.event.id)).toEqual(rows.filter((r) => r.endpointId === `ep-${e}`).map((r) => r.event.id));
    }
  });

  it('publishes OCSF renderings when configured', async () => {
    const s = sink('ocsf', { ocsf: true });
    expect(await s.send([processRow('kinesis', 7, { endpointId: 'ep-x' })])).toEqual({ ok: true });
    await s.shutdown();
    const [r] = await k.readAll('ocsf');
    expect(JSON.parse(r!.data.toString('utf8'))).toMatchObject({ class_uid: 1007, type_uid: 100701, device: { uid: 'ep-x' } });
  });

  it('publishes the collector\'s seq-gap and broken-chain events in order with the agent\'s events of the endpoint', async () => {
    const s = sink('tamper');
    const rows = [processRow('kinesis', 1, { endpointId: 'ep-t' }), seqGapRow('kinesis', 9, 7, { endpointId: 'ep-t' }), chainBrokenRow('kinesis', 9, { endpointId: 'ep-t' })];
    expect(await s.send(rows)).toEqual({ ok: true });
    await s.shutdown();
    const got = (await k.readAll('tamper')).map((r) => ({ key: r.partitionKey, body: JSON.parse(r.data.toString('utf8')) as { endpointId: string; event: { id: string; type: string; endpointId: string; data: unknown } } }));
    expect(got.map((g) => g.body.event)).toEqual(rows.map((r) => r.event));
    expect(got.map((g) => g.body.event.type)).toEqual(['process.started', 'collector.seq_gap', 'collector.chain_broken']);
    expect(got.every((g) => g.key === 'ep-t' && g.body.endpointId === 'ep-t')).toBe(true);
  });

  it('splits a snapshot over 1 MiB into parts kinesalite accepts, counted', async () => {
    const servers = Array.from({ length: 300 }, (_, i) => serverEntry(`srv-${i}`, { args: ['--opt', 'v'.repeat(6000)] }));
    const s = sink('big');
    expect(await s.send([snapshotRow('kinesis', servers)])).toEqual({ ok: true });
    await s.shutdown();
    const got = await k.readAll('big');
    expect(got.length).toBeGreaterThan(1);
    const names = got.flatMap((r) => (JSON.parse(r.data.toString('utf8')) as { event: { data: { servers: Array<{ name: string }> } } }).event.data.servers.map((x) => x.name));
    expect(names).toEqual(servers.map((x) => x.name));
    expect(s.counters.oversizeSplit).toBe(1);
  });

  it('reports the stream being unreachable as retryable, keeping every row', async () => {
    const s = new KinesisSink({ streamName: 'events', client: createKinesisClient({ region: TEST_REGION, endpoint: 'http://127.0.0.1:9', credentials: TEST_CREDENTIALS }), sendDeadlineMs: 50, retry: { baseMs: 5, maxMs: 10 } });
    const rows = [processRow('kinesis', 1), processRow('kinesis', 2)];
    const res = await s.send(rows);
    expect(res).toMatchObject({ ok: false, retryable: true, failedIds: rows.map((r) => r.id), error: { code: 'MCPW_ERR_SINK_UNAVAILABLE' } });
    await s.shutdown();
  });

  it('reports a missing stream as not retryable', async () => {
    const s = sink('no-such-stream');
    const res = await s.send([processRow('kinesis', 1)]);
    expect(res).toMatchObject({ ok: false, retryable: false, error: { code: 'MCPW_ERR_SINK_REJECTED' } });
    await s.shutdown();
  });
});
