import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSink, PLACEHOLDER_ACCOUNT_ID } from '../../../src/sinks/file-sink.js';
import { FirstSeenMemory } from '../../../src/sinks/first-seen-memory.js';
import { renderKinesisRecords } from '../../../src/sinks/kinesis-records.js';
import { newCounters } from '../../../src/sinks/types.js';
import { finding, findingRow, processRow, serverEntry, snapshotRow } from '../../support/outbox-fixtures.js';
import { chainBrokenRow, seqGapRow } from './collector-event-rows.js';

describe('FileSink', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mcpw-file-sink-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const lines = (name: string) => readFileSync(join(dir, name), 'utf8').trim().split('\n').filter(Boolean);

  it('writes exactly the Kinesis records and the ASFF findings, one per line', async () => {
    const sink = new FileSink({ dir, memory: new FirstSeenMemory({ path: join(dir, 'first-seen.json') }) });
    const f = finding('plaintext-secret', 'high', serverEntry('github'));
    const rows = [processRow('file', 1), findingRow('file', f)];
    expect(await sink.send(rows)).toEqual({ ok: true });
    await sink.shutdown();
    const expected = rows.flatMap((r) => renderKinesisRecords(r, { ocsf: false }, newCounters())).map((r) => r.data.toString('utf8'));
    expect(lines('kinesis.jsonl')).toEqual(expected);
    const [asff] = lines('securityhub.jsonl').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(asff).toMatchObject({ SchemaVersion: '2018-10-08', AwsAccountId: PLACEHOLDER_ACCOUNT_ID, GeneratorId: 'plaintext-secret', RecordState: 'ACTIVE' });
    // The first-raise memory was persisted for the next start.
    expect(JSON.parse(readFileSync(join(dir, 'first-seen.json'), 'utf8'))).toHaveLength(1);
  });

  it('renders a snapshot\'s findings nowhere: its finding events (derived by the store) are their one ASFF line', async () => {
    const sink = new FileSink({ dir, memory: new FirstSeenMemory() });
    const s = serverEntry('github');
    const f = finding('secret-in-config', 'critical', s);
    const snap = snapshotRow('file', [s], [f]);
    const raised = findingRow('file', f, false, { at: new Date('2026-01-01T00:00:00.001Z') });
    expect(await sink.send([snap, raised])).toEqual({ ok: true });
    await sink.shutdown();
    const asff = lines('securityhub.jsonl').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(asff.map((a) => [a['Id'], a['RecordState']])).toEqual([[`mcpwatch/ep-1/${f.ruleId}/${f.id}`, 'ACTIVE']]);
    expect(asff[0]!['ProductFields']).toMatchObject({ 'mcpwatch/eventId': raised.event.id });
    // The snapshot itself is still a Kinesis record (inventory state), once.
    expect(lines('kinesis.jsonl').map((l) => (JSON.parse(l) as { event: { type: string } }).event.type)).toEqual(['inventory.snapshot', 'finding.raised']);
  });

  it('writes OCSF renderings when configured', async () => {
    const sink = new FileSink({ dir, memory: new FirstSeenMemory(), ocsf: true });
    await sink.send([processRow('file', 1)]);
    await sink.shutdown();
    expect(JSON.parse(lines('kinesis.jsonl')[0]!)).toMatchObject({ class_uid: 1007 });
  });

  it('writes the collector\'s seq-gap and broken-chain events as OCSF Detection Findings and as ASFF findings', async () => {
    const sink = new FileSink({ dir, memory: new FirstSeenMemory(), ocsf: true });
    expect(await sink.send([seqGapRow('file', 7, 5), chainBrokenRow('file', 8)])).toEqual({ ok: true });
    await sink.shutdown();
    expect(lines('kinesis.jsonl').map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ class_uid: 2004, severity_id: 3, message: 'batch sequence gap: expected seq 5, got 7' }),
      expect.objectContaining({ class_uid: 2004, severity_id: 4, message: 'batch hash chain broken at seq 8' }),
    ]);
    expect(lines('securityhub.jsonl').map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ Id: 'mcpwatch/ep-1/collector.seq_gap/7', Severity: expect.objectContaining({ Label: 'MEDIUM' }), AwsAccountId: PLACEHOLDER_ACCOUNT_ID }),
      expect.objectContaining({ Id: 'mcpwatch/ep-1/collector.chain_broken/8', Severity: expect.objectContaining({ Label: 'HIGH' }) }),
    ]);
    expect(sink.counters.sent).toBe(4);
  });

  it('rotates by size, keeps at most maxFiles rotated files, counts what it deleted, never splits a line', async () => {
    const sink = new FileSink({ dir, memory: new FirstSeenMemory(), maxFileBytes: 4096, maxFiles: 2 });
    const rows = Array.from({ length: 60 }, (_, i) => processRow('file', i));
    for (let i = 0; i < rows.length; i += 5) expect(await sink.send(rows.slice(i, i + 5))).toEqual({ ok: true });
    await sink.shutdown();
    const files = readdirSync(dir).filter((n) => n.startsWith('kinesis')).sort();
    expect(files).toEqual(['kinesis.1.jsonl', 'kinesis.2.jsonl', 'kinesis.jsonl']);
    const kept = ['kinesis.2.jsonl', 'kinesis.1.jsonl', 'kinesis.jsonl'].flatMap((n) => lines(n));
    for (const l of kept) expect(() => JSON.parse(l)).not.toThrow();
    // Everything not kept was counted as rotated out; what is kept is the newest, in order.
    expect(sink.rotatedOut).toBeGreaterThan(0);
    const ids = kept.map((l) => (JSON.parse(l) as { event: { id: string } }).event.id);
    expect(ids).toEqual(rows.slice(rows.length - ids.length).map((r) => r.event.id));
  });

  it('answers a write failure with a retryable coded error (the rows stay in the outbox)', async () => {
    // A file where the sink's directory should be (works as root too, unlike permissions).
    const blocker = join(dir, 'blocked');
    writeFileSync(blocker, 'x');
    const sink = new FileSink({ dir: join(blocker, 'sub'), memory: new FirstSeenMemory() });
    const res = await sink.send([processRow('file', 1)]);
    expect(res).toMatchObject({ ok: false, retryable: true, error: { code: 'MCPW_ERR_SINK_UNAVAILABLE' } });
    if (!res.ok) expect(res.error.message).toContain(join(blocker, 'sub'));
  });
});
