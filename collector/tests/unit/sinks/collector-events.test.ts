/**
 * The collector's own tamper/gap events (collector.seq_gap, collector.chain_broken) through every
 * rendering: OCSF Detection Finding, Kinesis record, ASFF finding, and the routing to Security Hub.
 */
import { toOcsf, OCSF_VERSION } from '../../../src/sinks/ocsf.js';
import { renderKinesisRecords, RECORD_SCHEMA } from '../../../src/sinks/kinesis-records.js';
import { ASFF_SCHEMA_VERSION, collectorAsffId, collectorEventAsff, productArn } from '../../../src/sinks/asff.js';
import { FindingRenderer } from '../../../src/sinks/securityhub-sink.js';
import { FirstSeenMemory } from '../../../src/sinks/first-seen-memory.js';
import { newCounters } from '../../../src/sinks/types.js';
import { sinkWantsEvent, SECURITY_HUB_SINK } from '../../../src/store/sink-routing.js';
import { COLLECTOR_EVENT_TYPES, type CollectorEvent, type OutboxRow } from '../../../src/store/types.js';
import { processRow } from '../../support/outbox-fixtures.js';
import { chainBrokenRow, seqGapRow } from './collector-event-rows.js';

const collectorEvent = (row: OutboxRow) => row.event as CollectorEvent;
const REQUIRED_ASFF = ['AwsAccountId', 'CreatedAt', 'Description', 'GeneratorId', 'Id', 'ProductArn', 'Resources', 'SchemaVersion', 'Severity', 'Title', 'Types', 'UpdatedAt'];

describe('OCSF rendering of collector events', () => {
  it('renders a seq gap as a Medium Detection Finding 2004 (Create/New) about the endpoint', () => {
    const row = seqGapRow('kinesis', 12, 9, { endpointId: 'ep-3', agentId: 'ag-3' });
    const out = toOcsf(row);
    expect(out).toHaveLength(1);
    const e = out[0]!;
    expect(e).toMatchObject({
      class_uid: 2004,
      category_uid: 2,
      activity_id: 1,
      type_uid: 200401,
      status_id: 1,
      severity_id: 3,
      severity: 'Medium',
      message: 'batch sequence gap: expected seq 9, got 12',
      metadata: { version: OCSF_VERSION, uid: row.event.id, log_name: 'collector.seq_gap' },
      time: Date.parse(row.event.time),
      resources: [{ uid: 'ep-3', type: 'Endpoint' }],
      device: { uid: 'ep-3' },
      finding_info: { uid: 'ep-3/collector.seq_gap/12', types: ['collector.seq_gap'], analytic: { uid: 'collector.seq_gap', type_id: 1 } },
    });
    const info = e['finding_info'] as { title: string; desc: string };
    expect(info.title).toContain('ag-3');
    expect(info.title).toContain('seq 12');
    expect(info.desc).toContain('3 batches missing');
    expect(e['unmapped']).toEqual({
      mcpwatch: {
        batch: { agentId: 'ag-3', seq: 12, expectedSeq: 9 },
        eventId: row.event.id,
        eventType: 'collector.seq_gap',
        endpointId: 'ep-3',
        agentId: 'ag-3',
        certFingerprint: row.certFingerprint,
        batchSeq: 12,
      },
    });
  });

  it('renders a broken hash chain as a High Detection Finding carrying both hashes', () => {
    const row = chainBrokenRow('kinesis', 40, { endpointId: 'ep-4', agentId: 'ag-4', prevHash: '1'.repeat(64), expectedPrevHash: '2'.repeat(64) });
    const [e] = toOcsf(row);
    expect(e).toMatchObject({
      class_uid: 2004,
      activity_id: 1,
      severity_id: 4,
      severity: 'High',
      message: 'batch hash chain broken at seq 40',
      finding_info: { uid: 'ep-4/collector.chain_broken/40', types: ['collector.chain_broken'] },
      resources: [{ uid: 'ep-4', type: 'Endpoint' }],
    });
    expect((e!['finding_info'] as { desc: string }).desc).toMatch(/altered, dropped or replayed/);
    expect((e!['unmapped'] as { mcpwatch: { batch: unknown } }).mcpwatch.batch).toEqual({ agentId: 'ag-4', seq: 40, prevHash: '1'.repeat(64), expectedPrevHash: '2'.repeat(64) });
  });
});

describe('Kinesis records of collector events', () => {
  it('carries the event (type, endpointId, data) in the usual envelope, keyed by endpoint', () => {
    for (const row of [seqGapRow('kinesis', 5, 3, { endpointId: 'ep-9' }), chainBrokenRow('kinesis', 6, { endpointId: 'ep-9' })]) {
      const counters = newCounters();
      const recs = renderKinesisRecords(row, { ocsf: false }, counters);
      expect(recs).toHaveLength(1);
      expect(recs[0]!.partitionKey).toBe('ep-9');
      const body = JSON.parse(recs[0]!.data.toString('utf8')) as { event: CollectorEvent };
      expect(body).toEqual({ schema: RECORD_SCHEMA, endpointId: 'ep-9', agentId: row.agentId, certFingerprint: row.certFingerprint, batchSeq: row.batchSeq, event: row.event });
      expect(body.event).toMatchObject({ type: row.event.type, endpointId: 'ep-9', data: { agentId: row.agentId, seq: collectorEvent(row).data.seq } });
      expect(counters).toEqual(newCounters());
    }
  });

  it('carries the OCSF Detection Finding when OCSF is configured', () => {
    const [rec] = renderKinesisRecords(chainBrokenRow('kinesis', 7), { ocsf: true }, newCounters());
    expect(JSON.parse(rec!.data.toString('utf8'))).toMatchObject({ class_uid: 2004, severity_id: 4, message: 'batch hash chain broken at seq 7' });
  });

  it('summarises an oversize collector record like any other (counted, never dropped)', () => {
    const row = chainBrokenRow('kinesis', 8, { prevHash: 'p'.repeat(5000) });
    const counters = newCounters();
    const [rec] = renderKinesisRecords(row, { ocsf: false, maxRecordBytes: 2048 }, counters);
    expect(counters.oversizeSummarised).toBe(1);
    expect(JSON.parse(rec!.data.toString('utf8'))).toMatchObject({ event: { id: row.event.id, type: 'collector.chain_broken', endpointId: 'ep-1', data: null }, summary: { reason: 'record-too-large' } });
  });
});

describe('ASFF rendering of collector events', () => {
  const ctx = { accountId: '123456789012', region: 'eu-west-1', endpointId: 'ep-7', agentId: 'ag-7', eventId: '01J', host: 'mac-7', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-02T00:00:00.000Z' };

  it('renders a seq gap as a MEDIUM Unusual Behaviors finding naming the agent and the seq', () => {
    const e = collectorEvent(seqGapRow('securityhub', 12, 10, { endpointId: 'ep-7', agentId: 'ag-7' }));
    const a = collectorEventAsff(e, ctx);
    for (const k of REQUIRED_ASFF) expect(a).toHaveProperty(k);
    expect(a).toMatchObject({
      SchemaVersion: ASFF_SCHEMA_VERSION,
      Id: 'mcpwatch/ep-7/collector.seq_gap/12',
      ProductArn: productArn('eu-west-1', '123456789012'),
      GeneratorId: 'collector.seq_gap',
      AwsAccountId: '123456789012',
      Types: ['Unusual Behaviors/Application/BatchSequenceGap'],
      Severity: { Label: 'MEDIUM', Original: 'medium' },
      FindingProviderFields: { Severity: { Label: 'MEDIUM' }, Types: ['Unusual Behaviors/Application/BatchSequenceGap'] },
      CreatedAt: ctx.createdAt,
      UpdatedAt: ctx.updatedAt,
      RecordState: 'ACTIVE',
      Resources: [{ Type: 'Other', Id: 'ep-7', Partition: 'aws', Region: 'eu-west-1', Details: { Other: { host: 'mac-7', agentId: 'ag-7', seq: '12' } } }],
    });
    expect(a.Title).toBe('Batch sequence gap from agent ag-7 at seq 12');
    expect(a.Description).toContain('seq 10 was expected');
    expect(a.Description).toContain('mac-7');
    expect(a.ProductFields).toMatchObject({ 'mcpwatch/eventType': 'collector.seq_gap', 'mcpwatch/agentId': 'ag-7', 'mcpwatch/seq': '12', 'mcpwatch/expectedSeq': '10', 'mcpwatch/eventId': '01J' });
  });

  it('renders a broken chain as a HIGH finding; the Id is stable per endpoint + kind + seq', () => {
    const e = collectorEvent(chainBrokenRow('securityhub', 40, { endpointId: 'ep-7', agentId: 'ag-7' }));
    const a = collectorEventAsff(e, ctx);
    expect(a).toMatchObject({ Id: 'mcpwatch/ep-7/collector.chain_broken/40', GeneratorId: 'collector.chain_broken', Severity: { Label: 'HIGH' }, Types: ['Unusual Behaviors/Application/BatchHashChainBroken'] });
    expect(a.Title).toBe('Batch hash chain broken for agent ag-7 at seq 40');
    expect(a.ProductFields).toMatchObject({ 'mcpwatch/prevHash': 'f'.repeat(64), 'mcpwatch/expectedPrevHash': 'e'.repeat(64) });
    // The same kind at the same seq is the same finding (a resend updates it); anything else is not.
    const resent = collectorEvent(chainBrokenRow('securityhub', 40, { endpointId: 'ep-7', at: new Date('2026-02-01T00:00:00Z') }));
    expect(collectorEventAsff(resent, { ...ctx, eventId: 'other' }).Id).toBe(a.Id);
    expect(collectorAsffId('ep-8', e)).not.toBe(a.Id);
    expect(collectorAsffId('ep-7', collectorEvent(chainBrokenRow('securityhub', 41)))).not.toBe(a.Id);
    expect(collectorAsffId('ep-7', collectorEvent(seqGapRow('securityhub', 40, 39)))).not.toBe(a.Id);
  });

  it('keeps Title, Description and Details within the ASFF maxima for a very long agent id', () => {
    const e = collectorEvent(chainBrokenRow('securityhub', 1, { agentId: 'a'.repeat(3000) }));
    const a = collectorEventAsff(e, ctx);
    expect(a.Title.length).toBeLessThanOrEqual(256);
    expect(a.Description.length).toBeLessThanOrEqual(1024);
    for (const v of Object.values(a.Resources[0]!.Details.Other)) expect(v.length).toBeLessThanOrEqual(1024);
  });

  it('FindingRenderer turns collector rows into findings and collapses a resend into one update', async () => {
    const renderer = new FindingRenderer({ accountId: '123456789012', region: 'eu-west-1', memory: new FirstSeenMemory(), hostOf: async () => 'mac-1' });
    const first = seqGapRow('securityhub', 5, 4, { at: new Date('2026-01-01T00:00:00Z') });
    const resend = seqGapRow('securityhub', 5, 4, { at: new Date('2026-01-01T00:05:00Z') });
    const broken = chainBrokenRow('securityhub', 5, { at: new Date('2026-01-01T00:00:00Z') });
    const counters = newCounters();
    const out = await renderer.render([first, broken, resend, processRow('securityhub', 1)], counters);
    expect(out.map((f) => f.asff.Id)).toEqual(['mcpwatch/ep-1/collector.chain_broken/5', 'mcpwatch/ep-1/collector.seq_gap/5']);
    expect(out[1]!.rowIds).toEqual([first.id, resend.id]);
    expect(out[1]!.asff).toMatchObject({ CreatedAt: '2026-01-01T00:00:00.000Z', UpdatedAt: '2026-01-01T00:05:00.000Z' });
    expect(out[0]!.asff.Resources[0]!.Details.Other.host).toBe('mac-1');
    expect(counters.skipped).toBe(1);
  });
});

describe('sink routing of collector events', () => {
  it('Security Hub takes findings and both collector event types, nothing else', () => {
    expect(COLLECTOR_EVENT_TYPES.every((t) => sinkWantsEvent(SECURITY_HUB_SINK, t))).toBe(true);
    expect(sinkWantsEvent(SECURITY_HUB_SINK, 'finding.raised')).toBe(true);
    expect(sinkWantsEvent(SECURITY_HUB_SINK, 'finding.resolved')).toBe(true);
    for (const t of ['process.started', 'inventory.snapshot', 'agent.heartbeat', 'collector.other']) expect(sinkWantsEvent(SECURITY_HUB_SINK, t)).toBe(false);
  });

  it('every other sink takes every event, the collector ones included', () => {
    for (const sink of ['kinesis', 'file']) for (const t of [...COLLECTOR_EVENT_TYPES, 'process.started']) expect(sinkWantsEvent(sink, t)).toBe(true);
  });
});
