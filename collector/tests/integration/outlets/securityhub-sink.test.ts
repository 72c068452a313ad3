/**
 * The Security Hub sink against real HTTP peers: the local fake that enforces the ASFF rules and
 * limits (always), and moto_server (when it is on PATH; otherwise announced as skipped).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { SecurityHubClient, EnableSecurityHubCommand, GetFindingsCommand } from '@aws-sdk/client-securityhub';
import { freePort, SecurityHubFake, stopProcess } from '@mcpwatch/testkit';
import { createSecurityHubClient, SecurityHubSink } from '../../../src/sinks/securityhub-sink.js';
import { FirstSeenMemory } from '../../../src/sinks/first-seen-memory.js';
import { TokenBucket } from '../../../src/sinks/rate-limiter.js';
import { stsAccountId } from '../../../src/sinks/sink-factory.js';
import { asffId } from '../../../src/sinks/asff.js';
import { finding, findingRow, processRow, serverEntry } from '../../support/outbox-fixtures.js';
import { chainBrokenRow, seqGapRow } from '../../unit/sinks/collector-event-rows.js';

const creds = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret-test-key' };
const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';

const opened: SecurityHubSink[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.shutdown()));
});

function sinkFor(endpoint: string, over: Partial<ConstructorParameters<typeof SecurityHubSink>[0]> = {}) {
  const client = createSecurityHubClient({ region: REGION, endpoint, credentials: creds });
  const rejected: Array<{ id: string; errorCode: string }> = [];
  const sink = new SecurityHubSink({
    accountId: ACCOUNT,
    region: REGION,
    memory: new FirstSeenMemory(),
    client,
    hostOf: async () => 'mac-42',
    retry: { baseMs: 5, maxMs: 20 },
    sendDeadlineMs: 5000,
    onRejected: (i) => rejected.push(i),
    ...over,
  });
  opened.push(sink);
  return { sink, rejected };
}

function findings(n: number) {
  return Array.from({ length: n }, (_, i) => finding(`rule-${i % 7}`, (['info', 'low', 'medium', 'high', 'critical'] as const)[i % 5], serverEntry(`srv-${i}`, { configPath: `/home/u/p${i}/.mcp.json` })));
}

describe('SecurityHubSink against the Security Hub fake', () => {
  let fake: SecurityHubFake;
  beforeEach(async () => {
    fake = await new SecurityHubFake({ accounts: { AKIDTEST: ACCOUNT, AKIDOTHER: '999999999999' } }).start();
  });
  afterEach(async () => fake.stop());

  it('imports findings as valid ASFF in calls of at most 100, with host details', async () => {
    const { sink, rejected } = sinkFor(fake.endpoint);
    const rows = findings(250).map((f, i) => findingRow('securityhub', f, false, { at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)) }));
    expect(await sink.send(rows)).toEqual({ ok: true });
    expect(rejected).toEqual([]);
    expect(fake.calls.map((c) => c.count)).toEqual([100, 100, 50]);
    expect(fake.findings.size).toBe(250);
    const one = fake.get(asffId('ep-1', rows[3]!.event.data as never))!;
    expect(one).toMatchObject({ AwsAccountId: ACCOUNT, ProductArn: `arn:aws:securityhub:${REGION}:${ACCOUNT}:product/${ACCOUNT}/default`, RecordState: 'ACTIVE' });
    expect((one['Resources'] as Array<{ Details: { Other: Record<string, string> } }>)[0]!.Details.Other.host).toBe('mac-42');
    await sink.shutdown();
  });

  it('updates rather than duplicates on a re-raise; CreatedAt kept, UpdatedAt rises, ARCHIVED when resolved', async () => {
    const { sink } = sinkFor(fake.endpoint);
    const f = finding('plaintext-secret', 'high', serverEntry('github'));
    await sink.send([findingRow('securityhub', f, false, { at: new Date('2026-01-01T00:00:00Z') })]);
    await sink.send([findingRow('securityhub', f, false, { at: new Date('2026-01-02T00:00:00Z') })]);
    await sink.send([findingRow('securityhub', f, true, { at: new Date('2026-01-03T00:00:00Z') })]);
    expect(fake.findings.size).toBe(1);
    const stored = fake.get(asffId('ep-1', f))!;
    expect(stored.CreatedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(stored.UpdatedAt).toBe('2026-01-03T00:00:00.000Z');
    expect(stored['RecordState']).toBe('ARCHIVED');
    expect([...fake.importsPerFinding.values()]).toEqual([3]);
  });

  it('never reopens a resolved finding when an older raise is retried late', async () => {
    const { sink } = sinkFor(fake.endpoint);
    const f = finding('plaintext-secret', 'high');
    const raise = findingRow('securityhub', f, false, { at: new Date('2026-01-01T00:00:00Z') });
    const resolve = findingRow('securityhub', f, true, { at: new Date('2026-01-02T00:00:00Z') });
    expect(await sink.send([resolve])).toEqual({ ok: true });
    expect(await sink.send([raise])).toEqual({ ok: true });
    expect(fake.get(asffId('ep-1', f))!['RecordState']).toBe('ARCHIVED');
    expect(sink.counters.skipped).toBe(1);
  });

  it('retries FailedFindings with a retryable error and only those', async () => {
    const { sink } = sinkFor(fake.endpoint);
    const rows = findings(10).map((f) => findingRow('securityhub', f));
    fake.injectFindingFailures([asffId('ep-1', rows[2]!.event.data as never), asffId('ep-1', rows[7]!.event.data as never)]);
    expect(await sink.send(rows)).toEqual({ ok: true });
    expect(fake.calls.map((c) => [c.count, c.failed])).toEqual([[10, 2], [2, 0]]);
    expect(fake.findings.size).toBe(10);
    expect(sink.counters.partialFailures).toBe(2);
  });

  it('retries throttled and failed calls', async () => {
    const { sink } = sinkFor(fake.endpoint);
    fake.injectThrottle(2);
    fake.injectServerErrors(1);
    expect(await sink.send(findings(3).map((f) => findingRow('securityhub', f)))).toEqual({ ok: true });
    expect(fake.throttledCalls).toBe(2);
    expect(sink.counters.throttled).toBe(2);
    expect(fake.findings.size).toBe(3);
  });

  it('reports findings the service refuses (account mismatch) and hands their rows back, not retryable', async () => {
    // The sink believes it is account 999999999999, but the credentials belong to ACCOUNT.
    const { sink, rejected } = sinkFor(fake.endpoint, { accountId: '999999999999' });
    const rows = findings(2).map((f) => findingRow('securityhub', f));
    const res = await sink.send(rows);
    expect(res).toMatchObject({ ok: false, retryable: false, failedIds: rows.map((r) => r.id) });
    expect(rejected.map((r) => r.errorCode)).toEqual(['InvalidInput', 'InvalidInput']);
    expect(fake.findings.size).toBe(0);
  });

  it('reports a call refused because Security Hub is not enabled for the account', async () => {
    await fake.stop();
    fake = await new SecurityHubFake({ accounts: { AKIDTEST: ACCOUNT }, enabled: [] }).start();
    const { sink } = sinkFor(fake.endpoint);
    const res = await sink.send([findingRow('securityhub', finding('r', 'low'))]);
    expect(res).toMatchObject({ ok: false, retryable: false, error: { code: 'MCPW_ERR_SINK_REJECTED' } });
  });

  it('imports the collector\'s seq-gap and broken-chain events as valid findings; a resend updates, never duplicates', async () => {
    const { sink, rejected } = sinkFor(fake.endpoint);
    const gap = seqGapRow('securityhub', 12, 9, { agentId: 'ag-1', at: new Date('2026-01-01T00:00:00Z') });
    const broken = chainBrokenRow('securityhub', 12, { agentId: 'ag-1', at: new Date('2026-01-01T00:00:00Z') });
    expect(await sink.send([gap, broken])).toEqual({ ok: true });
    expect(await sink.send([seqGapRow('securityhub', 12, 9, { agentId: 'ag-1', at: new Date('2026-01-01T01:00:00Z') })])).toEqual({ ok: true });
    expect(rejected).toEqual([]);
    expect(fake.calls.map((c) => [c.count, c.failed])).toEqual([[2, 0], [1, 0]]);
    expect(fake.findings.size).toBe(2);
    const storedGap = fake.get('mcpwatch/ep-1/collector.seq_gap/12')!;
    expect(storedGap).toMatchObject({ GeneratorId: 'collector.seq_gap', Severity: { Label: 'MEDIUM' }, RecordState: 'ACTIVE', CreatedAt: '2026-01-01T00:00:00.000Z', UpdatedAt: '2026-01-01T01:00:00.000Z' });
    expect(storedGap['Title']).toBe('Batch sequence gap from agent ag-1 at seq 12');
    expect((storedGap['Resources'] as Array<{ Id: string; Details: { Other: Record<string, string> } }>)[0]).toMatchObject({ Id: 'ep-1', Details: { Other: { host: 'mac-42', agentId: 'ag-1', seq: '12' } } });
    expect(fake.get('mcpwatch/ep-1/collector.chain_broken/12')).toMatchObject({ Severity: { Label: 'HIGH' }, Types: ['Unusual Behaviors/Application/BatchHashChainBroken'] });
    expect([...fake.importsPerFinding.values()].sort()).toEqual([1, 2]);
    expect(sink.counters.sent).toBe(3);
  });

  it('accepts rows with nothing to publish (not findings) without calling the service', async () => {
    const { sink } = sinkFor(fake.endpoint);
    expect(await sink.send([processRow('securityhub', 1)])).toEqual({ ok: true });
    expect(fake.calls).toEqual([]);
    expect(sink.counters.skipped).toBe(1);
  });

  it('keeps to the client-side rate limit against a fake that enforces 10/s burst 30', async () => {
    await fake.stop();
    fake = await new SecurityHubFake({ accounts: { AKIDTEST: ACCOUNT }, rateLimit: true }).start();
    // The client's bucket runs on a test clock (its waits are counted, not slept); the fake's runs
    // on the real clock, so a call it still throttles is retried by the sink: nothing is lost.
    let now = 0;
    const waits: number[] = [];
    const limiter = new TokenBucket({ ratePerS: 10, burst: 30, now: () => now, sleep: async (ms) => void (waits.push(ms), (now += ms)) });
    const { sink } = sinkFor(fake.endpoint, { limiter });
    // 35 calls (one finding each): 30 from the burst, then one token per 100 ms (a retried call
    // takes a token too, so there are at least 5 waits).
    for (let i = 0; i < 35; i++) expect(await sink.send([findingRow('securityhub', finding(`r${i}`, 'low'))])).toEqual({ ok: true });
    expect(waits.length).toBeGreaterThanOrEqual(5);
    expect(waits.every((ms) => ms === 100)).toBe(true);
    expect(fake.calls).toHaveLength(35);
    expect(fake.findings.size).toBe(35);
  });

  it('the fake refuses a call over 100 findings and a finding missing a required field', async () => {
    const raw = new SecurityHubClient({ region: REGION, endpoint: fake.endpoint, credentials: creds, maxAttempts: 1 });
    const { BatchImportFindingsCommand } = await import('@aws-sdk/client-securityhub');
    const base = { SchemaVersion: '2018-10-08', Id: 'x', ProductArn: `arn:aws:securityhub:${REGION}:${ACCOUNT}:product/${ACCOUNT}/default`, GeneratorId: 'g', AwsAccountId: ACCOUNT, Types: ['TTPs'], CreatedAt: '2026-01-01T00:00:00Z', UpdatedAt: '2026-01-01T00:00:00Z', Severity: { Label: 'LOW' as const }, Title: 't', Description: 'd', Resources: [{ Type: 'Other', Id: 'r' }] };
    await expect(raw.send(new BatchImportFindingsCommand({ Findings: Array.from({ length: 101 }, (_, i) => ({ ...base, Id: `x${i}` })) }))).rejects.toMatchObject({ name: 'InvalidInputException' });
    const { Title: _t, ...noTitle } = base;
    const out = await raw.send(new BatchImportFindingsCommand({ Findings: [noTitle as typeof base, { ...base, Id: 'ok' }] }));
    expect(out.FailedCount).toBe(1);
    expect(out.FailedFindings![0]!.ErrorMessage).toMatch(/Title/);
    raw.destroy();
  });
});

const motoPath = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' }).stdout.trim();
if (!motoPath) console.warn('SKIPPED moto_server Security Hub test: moto_server is not on PATH (pip install "moto[server]" to run it)');
const describeMoto = motoPath ? describe : describe.skip;

describeMoto('SecurityHubSink against moto_server', () => {
  let moto: ChildProcess;
  let endpoint: string;
  beforeAll(async () => {
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    moto = spawn(motoPath, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      const up = await fetch(`${endpoint}/moto-api/`).then(() => true, () => false);
      if (up) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 30_000);
  afterAll(async () => {
    if (moto) await stopProcess(moto);
  });

  it('imports, updates by Id and archives', async () => {
    const client = createSecurityHubClient({ region: REGION, endpoint, credentials: creds });
    await client.send(new EnableSecurityHubCommand({}));
    // moto's default account
    const sink = new SecurityHubSink({ accountId: '123456789012', region: REGION, memory: new FirstSeenMemory(), client, retry: { baseMs: 5, maxMs: 20 } });
    const f = finding('plaintext-secret', 'high', serverEntry('github'));
    expect(await sink.send([findingRow('securityhub', f, false, { at: new Date('2026-01-01T00:00:00Z') })])).toEqual({ ok: true });
    expect(await sink.send([findingRow('securityhub', f, true, { at: new Date('2026-01-02T00:00:00Z') })])).toEqual({ ok: true });
    const got = await client.send(new GetFindingsCommand({}));
    const mine = (got.Findings ?? []).filter((x) => x.Id === asffId('ep-1', f));
    expect(mine).toHaveLength(1);
    expect(mine[0]!.RecordState).toBe('ARCHIVED');
    expect(mine[0]!.CreatedAt).toMatch(/^2026-01-01T00:00:00/);
    await sink.shutdown();
  });

  it('finds the account id through STS GetCallerIdentity (default credential chain)', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ENDPOINT_URL_STS: endpoint, AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey });
    try {
      expect(await stsAccountId(REGION)).toMatch(/^\d{12}$/);
    } finally {
      process.env = saved;
    }
  });
});
