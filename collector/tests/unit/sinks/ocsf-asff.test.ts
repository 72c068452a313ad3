import { toOcsf, OCSF_VERSION } from '../../../src/sinks/ocsf.js';
import { asffId, productArn, toAsff, ASFF_SCHEMA_VERSION } from '../../../src/sinks/asff.js';
import { FirstSeenMemory } from '../../../src/sinks/first-seen-memory.js';
import { finding, findingRow, outboxRow, processRow, serverEntry, snapshotRow } from '../../support/outbox-fixtures.js';

/** Attributes OCSF 1.1 requires of every event. */
const BASE_REQUIRED = ['activity_id', 'category_uid', 'class_uid', 'metadata', 'severity_id', 'time', 'type_uid'];

function expectBase(e: Record<string, unknown>, classUid: number, categoryUid: number) {
  for (const k of BASE_REQUIRED) expect(e).toHaveProperty(k);
  expect(e['class_uid']).toBe(classUid);
  expect(e['category_uid']).toBe(categoryUid);
  expect(e['type_uid']).toBe(classUid * 100 + (e['activity_id'] as number));
  const md = e['metadata'] as { version: string; product: { vendor_name: string; name: string }; uid: string };
  expect(md.version).toBe(OCSF_VERSION);
  expect(md.product.vendor_name).toBeTruthy();
  expect(Number.isInteger(e['time'])).toBe(true);
  expect(e['unmapped']).toMatchObject({ mcpwatch: { endpointId: expect.any(String), agentId: expect.any(String), certFingerprint: expect.any(String), batchSeq: expect.any(Number) } });
}

describe('OCSF rendering', () => {
  it('maps process.started to Process Activity 1007 Launch with process and actor', () => {
    const [e] = toOcsf(processRow('kinesis', 321));
    expectBase(e!, 1007, 1);
    expect(e!.activity_id).toBe(1);
    expect(e!['process']).toMatchObject({ pid: 321, name: 'node' });
    expect(e!['actor']).toBeDefined();
  });

  it('maps config.error to File System Activity 1001 (Read, Failure) with file and actor', () => {
    const [e] = toOcsf(outboxRow('kinesis', 'config.error', { path: '/Users/alice/.cursor/mcp.json', client: 'cursor', code: 'parse', reason: 'Unexpected token', line: 3, column: 1 }));
    expectBase(e!, 1001, 1);
    expect(e!['file']).toMatchObject({ path: '/Users/alice/.cursor/mcp.json', name: 'mcp.json', type_id: 1 });
    expect(e!['status_id']).toBe(2);
    expect(e!['actor']).toBeDefined();
  });

  it('maps server.added to Software Inventory Info 5020 with a package (name, version, purl) and device', () => {
    const [e] = toOcsf(outboxRow('kinesis', 'server.added', serverEntry('github')));
    expectBase(e!, 5020, 5);
    expect(e!['package']).toMatchObject({ name: '@acme/github-mcp', version: '1.0.0', purl: 'pkg:npm/%40acme/github-mcp@1.0.0' });
    expect(e!['device']).toMatchObject({ uid: 'ep-1', type_id: 0 });
  });

  it('maps findings to Detection Finding 2004: Create/New when raised, Close/Resolved when resolved', () => {
    const f = finding('plaintext-secret', 'high', serverEntry('github'));
    const [raised] = toOcsf(findingRow('kinesis', f));
    const [resolved] = toOcsf(findingRow('kinesis', f, true));
    expectBase(raised!, 2004, 2);
    expect(raised).toMatchObject({ activity_id: 1, status_id: 1, severity_id: 4, finding_info: { uid: `ep-1/${f.id}`, title: f.title, analytic: { uid: 'plaintext-secret' } } });
    expect(resolved).toMatchObject({ activity_id: 3, status_id: 4 });
  });

  it('expands a snapshot into one event per server, with distinct metadata.uid, and no Detection Finding for its findings', () => {
    const s = [serverEntry('a'), serverEntry('b')];
    const out = toOcsf(snapshotRow('kinesis', s, [finding('r', 'low', s[0])]));
    // The snapshot's findings are published as the finding.raised events the store derives from it.
    expect(out.map((e) => e.class_uid)).toEqual([5020, 5020]);
    expect(new Set(out.map((e) => e.metadata.uid)).size).toBe(2);
    expect(out.every((e) => (e['device'] as { hostname: string }).hostname === 'laptop-1')).toBe(true);
  });

  it('renders every event type with the base attributes', () => {
    const rows = [
      outboxRow('kinesis', 'socket.opened', { pid: 5, processName: 'node', protocol: 'tcp', localAddress: '0.0.0.0', localPort: 3000, kind: 'listen', allInterfaces: true }),
      outboxRow('kinesis', 'agent.dropped', { count: 3, bytes: 100, reason: 'spool full' }),
      outboxRow('kinesis', 'client.detected', { client: 'cursor', displayName: 'Cursor', configPaths: [], serverCount: 1 }),
    ];
    for (const r of rows) for (const e of toOcsf(r)) for (const k of BASE_REQUIRED) expect(e).toHaveProperty(k);
  });
});

describe('ASFF rendering', () => {
  const f = finding('plaintext-secret', 'critical', serverEntry('github'));
  const ctx = { accountId: '123456789012', region: 'eu-west-1', endpointId: 'ep-7', agentId: 'ag-1', eventId: '01J', host: 'mac-7', user: 'alice', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-02T00:00:00.000Z', resolved: false };

  it('has every required ASFF field with the default product ARN of the account', () => {
    const a = toAsff(f, ctx);
    for (const k of ['AwsAccountId', 'CreatedAt', 'Description', 'GeneratorId', 'Id', 'ProductArn', 'Resources', 'SchemaVersion', 'Severity', 'Title', 'Types', 'UpdatedAt']) expect(a).toHaveProperty(k);
    expect(a.SchemaVersion).toBe(ASFF_SCHEMA_VERSION);
    expect(a.ProductArn).toBe('arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default');
    expect(a.ProductArn).toBe(productArn('eu-west-1', '123456789012'));
    expect(a.GeneratorId).toBe('plaintext-secret');
    expect(a.Severity.Label).toBe('CRITICAL');
    expect(a.Types[0]).toMatch(/^Sensitive Data Identifications\/Passwords\//);
    expect(a.Resources).toEqual([expect.objectContaining({ Type: 'Other', Id: 'ep-7', Details: { Other: expect.objectContaining({ host: 'mac-7', user: 'alice', client: 'cursor', server: 'github' }) } })]);
    expect(a.RecordState).toBe('ACTIVE');
    expect(a.Description).toContain('mac-7');
    expect(a.Description).toContain('env.GITHUB_TOKEN');
  });

  it('keeps a stable Id per endpoint + rule + subject, and ARCHIVES a resolved finding', () => {
    expect(toAsff(f, ctx).Id).toBe(toAsff(f, { ...ctx, eventId: 'other' }).Id);
    expect(asffId('ep-7', f)).not.toBe(asffId('ep-8', f));
    expect(toAsff(f, { ...ctx, resolved: true }).RecordState).toBe('ARCHIVED');
  });

  it('cuts Title and Description to the ASFF maxima', () => {
    const long = { ...f, title: 't'.repeat(1000), description: 'd'.repeat(4000) };
    const a = toAsff(long, ctx);
    expect(a.Title.length).toBeLessThanOrEqual(256);
    expect(a.Description.length).toBeLessThanOrEqual(1024);
  });
});

describe('FirstSeenMemory', () => {
  it('keeps CreatedAt from the first raise, makes UpdatedAt rise, and refuses an older state', () => {
    const m = new FirstSeenMemory();
    const a = m.stamp('x', '2026-01-01T00:00:00.000Z')!;
    const b = m.stamp('x', '2026-01-03T00:00:00.000Z')!;
    const again = m.stamp('x', '2026-01-03T00:00:00.000Z')!;
    expect(a.createdAt).toBe('2026-01-01T00:00:00.000Z');
    expect(b.createdAt).toBe('2026-01-01T00:00:00.000Z');
    expect(b.updatedAt).toBe('2026-01-03T00:00:00.000Z');
    expect(Date.parse(again.updatedAt)).toBeGreaterThan(Date.parse(b.updatedAt));
    expect(m.stamp('x', '2026-01-02T00:00:00.000Z')).toBeNull();
  });

  it('is bounded: the least recently used entries are evicted and counted', () => {
    const m = new FirstSeenMemory({ maxEntries: 3 });
    for (const id of ['a', 'b', 'c', 'd', 'e']) m.stamp(id, '2026-01-01T00:00:00.000Z');
    expect(m.size).toBe(3);
    expect(m.evicted).toBe(2);
  });
});
