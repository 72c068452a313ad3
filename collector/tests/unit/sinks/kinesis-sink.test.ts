import type { PutRecordsCommand, PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import { KinesisSink, type KinesisSender } from '../../../src/sinks/kinesis-sink.js';
import { chunkRecords, renderKinesisRecords, RECORD_SCHEMA } from '../../../src/sinks/kinesis-records.js';
import { newCounters } from '../../../src/sinks/types.js';
import type { OutboxRow } from '../../../src/store/types.js';
import { finding, processRow, serverEntry, snapshotRow } from '../../support/outbox-fixtures.js';

type Reply = (records: Array<{ Data: Uint8Array; PartitionKey: string }>) => PutRecordsCommandOutput | Error;

/** A Kinesis stand-in: records every call and answers with the next scripted reply (else all ok). */
function stubKinesis(replies: Reply[] = []) {
  const calls: Array<Array<{ Data: Uint8Array; PartitionKey: string }>> = [];
  let seqNo = 0;
  const okAll: Reply = (records) => ({ $metadata: {}, FailedRecordCount: 0, Records: records.map(() => ({ SequenceNumber: String(++seqNo), ShardId: 'shardId-0' })) });
  const client: KinesisSender = {
    async send(cmd: PutRecordsCommand) {
      const records = cmd.input.Records as Array<{ Data: Uint8Array; PartitionKey: string }>;
      calls.push(records);
      const r = (replies.shift() ?? okAll)(records);
      if (r instanceof Error) throw r;
      return r;
    },
  };
  return { client, calls, okAll };
}

function awsError(name: string, status: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

const noWait = { sleep: async () => undefined, random: () => 0 };
const decode = (d: Uint8Array) => JSON.parse(Buffer.from(d).toString('utf8')) as Record<string, unknown>;

describe('Kinesis records', () => {
  it('carries the event plus endpoint, agent, certificate fingerprint and batch seq; key = endpoint', () => {
    const row = processRow('kinesis', 42, { endpointId: 'ep-9', batchSeq: 7 });
    const [rec] = renderKinesisRecords(row, { ocsf: false }, newCounters());
    expect(rec!.partitionKey).toBe('ep-9');
    expect(decode(rec!.data)).toEqual({ schema: RECORD_SCHEMA, endpointId: 'ep-9', agentId: row.agentId, certFingerprint: row.certFingerprint, batchSeq: 7, event: row.event });
  });

  it('splits an inventory snapshot over the record limit into parts that hold every item', () => {
    const servers = Array.from({ length: 60 }, (_, i) => serverEntry(`srv-${i}`, { args: ['-y', 'x'.repeat(2000)] }));
    const row = snapshotRow('kinesis', servers);
    const counters = newCounters();
    const seen: string[] = [];
    const recs = renderKinesisRecords(row, { ocsf: false, maxRecordBytes: 32 * 1024, onOversize: (i) => seen.push(i.action) }, counters);
    expect(recs.length).toBeGreaterThan(1);
    for (const r of recs) expect(r.data.length + r.partitionKey.length).toBeLessThanOrEqual(32 * 1024);
    const parts = recs.map((r) => decode(r.data) as { part: { index: number; count: number }; event: { data: { servers: Array<{ name: string }> } } });
    expect(parts.map((p) => p.part.index)).toEqual(parts.map((_, i) => i));
    expect(parts.every((p) => p.part.count === recs.length)).toBe(true);
    expect(parts.flatMap((p) => p.event.data.servers.map((s) => s.name))).toEqual(servers.map((s) => s.name));
    expect(counters.oversizeSplit).toBe(1);
    expect(seen).toEqual(['split']);
  });

  it('summarises a record that cannot be split (counted, never dropped)', () => {
    const row = processRow('kinesis', 1);
    (row.event.data as { cmd: string }).cmd = 'y'.repeat(50_000);
    const counters = newCounters();
    const [rec, ...rest] = renderKinesisRecords(row, { ocsf: false, maxRecordBytes: 10_000 }, counters);
    expect(rest).toEqual([]);
    const body = decode(rec!.data) as { event: { id: string; data: unknown }; summary: { reason: string; originalBytes: number; sha256: string } };
    expect(body.event.id).toBe(row.event.id);
    expect(body.event.data).toBeNull();
    expect(body.summary.reason).toBe('record-too-large');
    expect(body.summary.originalBytes).toBeGreaterThan(50_000);
    expect(body.summary.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(counters.oversizeSummarised).toBe(1);
  });

  it('chunks into calls of at most 500 records and 5 MiB, keeping order', () => {
    const small = Array.from({ length: 1201 }, (_, i) => ({ rowId: String(i), partitionKey: 'k', data: Buffer.alloc(10) }));
    expect(chunkRecords(small).map((c) => c.length)).toEqual([500, 500, 201]);
    const big = Array.from({ length: 12 }, (_, i) => ({ rowId: String(i), partitionKey: 'k', data: Buffer.alloc(1000 * 1024) }));
    const chunks = chunkRecords(big);
    for (const c of chunks) expect(c.reduce((a, r) => a + r.data.length + 1, 0)).toBeLessThanOrEqual(5 * 1024 * 1024);
    expect(chunks.flat().map((r) => r.rowId)).toEqual(big.map((r) => r.rowId));
  });
});

describe('KinesisSink with a stubbed client', () => {
  it('sends one record per event, partition key = endpoint id', async () => {
    const k = stubKinesis();
    const sink = new KinesisSink({ streamName: 's', client: k.client, retry: noWait });
    const rows = [processRow('kinesis', 1, { endpointId: 'a' }), processRow('kinesis', 2, { endpointId: 'b' })];
    expect(await sink.send(rows)).toEqual({ ok: true });
    expect(k.calls).toHaveLength(1);
    expect(k.calls[0]!.map((r) => r.PartitionKey)).toEqual(['a', 'b']);
    expect(sink.counters.sent).toBe(2);
  });

  it('resends only the failed records of a partial failure, then succeeds', async () => {
    const partial: Reply = (records) => ({
      $metadata: {},
      FailedRecordCount: 2,
      Records: records.map((_, i) => (i === 1 || i === 3 ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' } : { SequenceNumber: String(i), ShardId: 's' })),
    });
    const k = stubKinesis([partial]);
    const sink = new KinesisSink({ streamName: 's', client: k.client, retry: noWait });
    const rows = [1, 2, 3, 4, 5].map((p) => processRow('kinesis', p));
    expect(await sink.send(rows)).toEqual({ ok: true });
    expect(k.calls.map((c) => c.length)).toEqual([5, 2]);
    expect(k.calls[1]!.map((r) => (decode(r.Data) as { event: { id: string } }).event.id)).toEqual([rows[1]!.event.id, rows[3]!.event.id]);
    expect(sink.counters).toMatchObject({ sent: 5, partialFailures: 2, throttled: 1 });
  });

  it('retries a throttled call (ProvisionedThroughputExceededException) and reports throttling', async () => {
    const k = stubKinesis([() => awsError('ProvisionedThroughputExceededException', 400), () => awsError('ProvisionedThroughputExceededException', 400)]);
    const sink = new KinesisSink({ streamName: 's', client: k.client, retry: noWait });
    expect(await sink.send([processRow('kinesis', 1)])).toEqual({ ok: true });
    expect(k.calls).toHaveLength(3);
    expect(sink.counters.throttled).toBe(2);
  });

  it('hands back the failed rows and every later row when the deadline passes (order kept)', async () => {
    const failing = Array.from({ length: 100 }, () => () => awsError('InternalFailure', 500));
    const k = stubKinesis(failing);
    let t = 0;
    const sink = new KinesisSink({ streamName: 's', client: k.client, sendDeadlineMs: 1000, retry: { sleep: async (ms) => void (t += ms), now: () => t, random: () => 1, baseMs: 100, maxMs: 400 } });
    // 501 rows -> two calls; the first call never succeeds.
    const rows: OutboxRow[] = Array.from({ length: 501 }, (_, i) => processRow('kinesis', i));
    const res = await sink.send(rows);
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.retryable).toBe(true);
    expect(res.error).toMatchObject({ code: 'MCPW_ERR_SINK_UNAVAILABLE' });
    expect(res.failedIds).toEqual(rows.map((r) => r.id));
    expect(k.calls.every((c) => c.length === 500)).toBe(true);
  });

  it('completes the rows of an accepted call when a later call fails', async () => {
    const k = stubKinesis([(r) => stubKinesis().okAll(r), () => awsError('ValidationException', 400)]);
    const sink = new KinesisSink({ streamName: 's', client: k.client, retry: noWait });
    const rows = Array.from({ length: 600 }, (_, i) => processRow('kinesis', i));
    const res = await sink.send(rows);
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.retryable).toBe(false);
    expect(res.error).toMatchObject({ code: 'MCPW_ERR_SINK_REJECTED' });
    expect(res.failedIds).toEqual(rows.slice(500).map((r) => r.id));
  });

  it('fails a row when one of its split parts failed, and shuts down once', async () => {
    const servers = Array.from({ length: 40 }, (_, i) => serverEntry(`srv-${i}`, { args: ['x'.repeat(3000)] }));
    const snap = snapshotRow('kinesis', servers, [finding('r1', 'high')]);
    const failFirst: Reply = (records) => ({ $metadata: {}, FailedRecordCount: 1, Records: records.map((_, i) => (i === 0 ? { ErrorCode: 'InternalFailure' } : { SequenceNumber: '1', ShardId: 's' })) });
    const k = stubKinesis(Array.from({ length: 50 }, () => failFirst));
    let destroyed = 0;
    k.client.destroy = () => void destroyed++;
    let t = 0;
    const sink = new KinesisSink({ streamName: 's', client: k.client, maxRecordBytes: 16 * 1024, sendDeadlineMs: 500, retry: { sleep: async (ms) => void (t += ms), now: () => t } });
    const res = await sink.send([snap]);
    expect(res).toMatchObject({ ok: false, failedIds: [snap.id] });
    await Promise.all([sink.shutdown(), sink.shutdown()]);
    expect(destroyed).toBe(1);
  });
});
