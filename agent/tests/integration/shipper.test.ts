import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { makeEvent } from '@mcpwatch/shared';
import { Spool } from '../../src/spool/spool.js';
import { Shipper, readShipperState, type ShipperOptions, type ShipperReport } from '../../src/ship/shipper.js';
import { HttpClient } from '../../src/ship/http-client.js';
import { FakeCollector } from '@mcpwatch/testkit';

const AGENT = 'agent-1';
function keyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}
const { privateKey, publicKey } = keyPair();

function event(i: number) {
  return makeEvent('agent.dropped', 'ep-1', { count: i, bytes: 0, reason: `test ${i}` });
}

interface Rig {
  dir: string;
  spool: Spool;
  collector: FakeCollector;
  reports: ShipperReport[];
  shipper: (extra?: Partial<ShipperOptions>) => Shipper;
  append: (from: number, to: number) => void;
}

const open: { spool: Spool; collector: FakeCollector; http: HttpClient }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    o.spool.close();
    o.http.close();
    await o.collector.close();
  }
});

async function rig(): Promise<Rig> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-ship-'));
  const spool = Spool.open({ dir: path.join(dir, 'spool') });
  const collector = new FakeCollector(new Map([[AGENT, publicKey]]));
  const url = await collector.listen();
  const http = new HttpClient({ timeoutMs: 5000 });
  open.push({ spool, collector, http });
  const reports: ShipperReport[] = [];
  return {
    dir,
    spool,
    collector,
    reports,
    shipper: (extra = {}) =>
      new Shipper({
        spool,
        stateDir: path.join(dir, 'state'),
        http,
        identity: () => ({ agentId: AGENT, privateKey, server: url }),
        retryBaseMs: 5,
        retryMaxMs: 20,
        reconnectJitterMs: 0,
        onReport: (r) => reports.push(r),
        ...extra,
      }),
    append: (from, to) => {
      for (let i = from; i <= to; i++) spool.append(Buffer.from(JSON.stringify(event(i))));
    },
  };
}
const counts = (c: FakeCollector) => c.events().map((e) => (e.data as { count: number }).count);
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, k) => a + k);

describe('Shipper against a real HTTP server', () => {
  it('ships signed, gzipped, chained batches and releases events only on ack', async () => {
    const r = await rig();
    r.append(1, 25);
    const s = r.shipper({ batchMaxEvents: 10 });
    expect(await s.flush()).toBe(true);
    expect(r.collector.accepted.map((b) => b.seq)).toEqual([1, 2, 3]);
    expect(r.collector.accepted[0]!.prevHash).toBe('');
    expect(counts(r.collector)).toEqual(range(1, 25));
    expect(r.collector.requests[0]!.headers['content-encoding']).toBe('gzip');
    expect(r.spool.stats().depth).toBe(0);
    expect(readShipperState(path.join(r.dir, 'state')).lastSeq).toBe(3);
  });

  it('retries 503 honouring Retry-After and a dropped connection, delivering each event once', async () => {
    const r = await rig();
    r.append(1, 5);
    r.collector.forced.push({ status: 503, headers: { 'retry-after': '0' }, body: { code: 'MCPW_ERR_STORE_UNAVAILABLE' } });
    r.collector.forced.push({ status: 429, body: { code: 'MCPW_ERR_RATE_LIMITED' } });
    r.collector.forced.push({ status: 408 });
    const s = r.shipper();
    expect(await s.flush()).toBe(true);
    expect(counts(r.collector)).toEqual(range(1, 5));
    expect(r.collector.requests.map((q) => q.status)).toEqual([503, 429, 408, 200]);
    expect(r.spool.stats().depth).toBe(0);
  });

  it('keeps events spooled while the collector is unreachable and ships them when it is back', async () => {
    const r = await rig();
    r.append(1, 3);
    const s = r.shipper({ identity: () => ({ agentId: AGENT, privateKey, server: 'http://127.0.0.1:1' }) });
    expect(await s.flush(200)).toBe(false);
    expect(r.spool.stats().depth).toBe(3);
    expect(s.snapshot().lastError).toMatch(/MCPW_ERR_NETWORK/);
    const back = r.shipper();
    expect(await back.flush()).toBe(true);
    expect(counts(r.collector)).toEqual(range(1, 3));
  });

  it('moves a batch rejected with 400 to the dead-letter directory, reports it and reuses the seq', async () => {
    const r = await rig();
    r.append(1, 3);
    r.collector.forced.push({ status: 400, body: { code: 'MCPW_ERR_SCHEMA', message: 'events/0 bad' } });
    const s = r.shipper();
    expect(await s.flush()).toBe(true);
    const dl = fs.readdirSync(path.join(r.dir, 'state', 'dead-letter'));
    expect(dl).toHaveLength(1);
    const kept = JSON.parse(fs.readFileSync(path.join(r.dir, 'state', 'dead-letter', dl[0]!), 'utf8'));
    expect(kept).toMatchObject({ seq: 1, status: 400, code: 'MCPW_ERR_SCHEMA', events: 3 });
    expect(r.reports.some((x) => x.code === 'MCPW_ERR_DEAD_LETTER')).toBe(true);
    expect(s.snapshot().deadLettered).toBe(1);
    r.append(4, 5);
    expect(await s.flush()).toBe(true);
    expect(r.collector.accepted.map((b) => b.seq)).toEqual([1]);
    expect(counts(r.collector)).toEqual([4, 5]);
  });

  it('resends the identical in-flight batch after a crash, so nothing is stored twice', async () => {
    const r = await rig();
    r.append(1, 4);
    // first process: the collector stores the batch but the ack is lost (process killed)
    const first = r.shipper();
    r.collector.forced.length = 0;
    const realFetch = first as unknown as { onAcked: () => void };
    realFetch.onAcked = () => {
      throw new Error('killed before the ack was processed');
    };
    await first.flush(300);
    expect(r.collector.accepted).toHaveLength(1);
    expect(fs.existsSync(path.join(r.dir, 'state', 'inflight.json'))).toBe(true);
    r.append(5, 6); // more events arrive before the restart

    const second = r.shipper();
    expect(await second.flush()).toBe(true);
    expect(counts(r.collector)).toEqual(range(1, 6));
    expect(r.collector.accepted.map((b) => b.seq)).toEqual([1, 2]);
    // seq 1 was sent again after the restart with identical bytes and acked idempotently
    const seq1 = r.collector.requests.filter((q) => q.headers['x-mcpwatch-seq'] === '1');
    expect(seq1.length).toBeGreaterThanOrEqual(2);
    expect(new Set(seq1.map((q) => gunzipSync(q.raw).toString())).size).toBe(1);
  });

  it('reports clock skew clearly and recovers once the clock is right', async () => {
    const r = await rig();
    r.append(1, 2);
    let clock = Date.now() + 3 * 3600_000;
    const s = r.shipper({ now: () => clock });
    expect(await s.flush(150)).toBe(false);
    expect(s.snapshot().lastError).toMatch(/MCPW_ERR_CLOCK_SKEW.*check this machine's clock/);
    expect(r.reports.some((x) => x.code === 'MCPW_ERR_TIMESTAMP_SKEW')).toBe(true);
    expect(r.spool.stats().depth).toBe(2);
    clock = Date.now();
    expect(await s.flush()).toBe(true);
    expect(counts(r.collector)).toEqual([1, 2]);
    expect(s.snapshot().lastError).toBeNull();
  });

  it('re-enrolls on 401 unknown agent and sends the same events under the new identity', async () => {
    const r = await rig();
    r.append(1, 2);
    let id = { agentId: 'agent-gone', privateKey, server: r.collector.url, endpointId: 'ep-1' };
    let reenrolls = 0;
    const s = r.shipper({
      identity: () => id,
      onUnknownAgent: async () => {
        reenrolls++;
        id = { ...id, agentId: AGENT, endpointId: 'ep-new' }; // the collector gave a new endpoint id
        return true;
      },
    });
    expect(await s.flush()).toBe(true);
    expect(reenrolls).toBe(1);
    // events spooled under the old endpoint id are re-addressed to the new one
    expect(r.collector.events().map((e) => e.endpointId)).toEqual(['ep-new', 'ep-new']);
    expect(r.collector.accepted.map((b) => [b.agentId, b.seq])).toEqual([[AGENT, 1]]);
    expect(counts(r.collector)).toEqual([1, 2]);
  });

  it('re-enrolls on 401 certificate expired and sends the same events under the new identity', async () => {
    const r = await rig();
    r.append(1, 3);
    r.collector.expired.add(AGENT);
    let id = { agentId: AGENT, privateKey, server: r.collector.url, endpointId: 'ep-1' };
    const codes: string[] = [];
    const s = r.shipper({
      identity: () => id,
      onUnknownAgent: async (code) => {
        codes.push(code);
        // enrollment: a new key pair, a new agent id, a fresh certificate
        const fresh = keyPair();
        r.collector.addAgent('agent-renewed', fresh.publicKey);
        id = { ...id, agentId: 'agent-renewed', privateKey: fresh.privateKey };
        return true;
      },
    });
    expect(await s.flush()).toBe(true);
    expect(codes).toEqual(['MCPW_ERR_CERT_EXPIRED']);
    expect(r.reports.find((x) => x.code === 'MCPW_ERR_CERT_EXPIRED')?.message).toMatch(/certificate has expired; re-enrolling/);
    expect(r.collector.requests.map((q) => [q.headers['x-mcpwatch-agent'], q.status])).toEqual([
      [AGENT, 401],
      ['agent-renewed', 200],
    ]);
    expect(r.collector.accepted.map((b) => [b.agentId, b.seq])).toEqual([['agent-renewed', 1]]);
    expect(counts(r.collector)).toEqual([1, 2, 3]);
    expect(fs.existsSync(path.join(r.dir, 'state', 'dead-letter'))).toBe(false);
  });

  it('keeps the batch on 401 certificate expired when it cannot re-enroll, and sends it once enrolled again', async () => {
    const r = await rig();
    r.append(1, 2);
    r.collector.expired.add(AGENT);
    let id = { agentId: AGENT, privateKey, server: r.collector.url };
    const s = r.shipper({ identity: () => id }); // no enroll secret: no onUnknownAgent
    expect(await s.flush(150)).toBe(false);
    expect(r.collector.requests.length).toBeGreaterThan(0);
    expect(r.collector.requests.every((q) => q.status === 401)).toBe(true);
    expect(r.spool.stats().depth).toBe(2);
    expect(fs.existsSync(path.join(r.dir, 'state', 'dead-letter'))).toBe(false);
    expect(s.snapshot().lastError).toMatch(/MCPW_ERR_CERT_EXPIRED/);

    // an operator enrolls the agent again (mcpwatch-agent enroll): the held events go out
    const fresh = keyPair();
    r.collector.addAgent('agent-manual', fresh.publicKey);
    id = { agentId: 'agent-manual', privateKey: fresh.privateKey, server: r.collector.url };
    expect(await s.flush()).toBe(true);
    expect(r.collector.accepted.map((b) => [b.agentId, b.seq])).toEqual([['agent-manual', 1]]);
    expect(counts(r.collector)).toEqual([1, 2]);
    expect(s.snapshot().deadLettered).toBe(0);
  });

  it('dead-letters a batch whose signature the collector rejects (tampered in transit)', async () => {
    const r = await rig();
    r.append(1, 1);
    const other = keyPair().privateKey;
    const s = r.shipper({ identity: () => ({ agentId: AGENT, privateKey: other, server: r.collector.url }) });
    expect(await s.flush()).toBe(true);
    expect(r.collector.accepted).toHaveLength(0);
    expect(r.reports.find((x) => x.code === 'MCPW_ERR_DEAD_LETTER')?.message).toMatch(/MCPW_ERR_SIGNATURE_INVALID/);
  });

  it('cuts batches by count and bytes and ships on its own after batchMaxWaitMs', async () => {
    const r = await rig();
    const s = r.shipper({ batchMaxEvents: 1000, batchMaxBytes: 600, batchMaxWaitMs: 20 });
    s.start();
    r.append(1, 8);
    s.notify();
    for (let i = 0; i < 200 && r.spool.stats().depth > 0; i++) await new Promise((res) => setTimeout(res, 10));
    await s.shutdown();
    expect(counts(r.collector)).toEqual(range(1, 8));
    expect(r.collector.accepted.length).toBeGreaterThan(1);
    for (const b of r.collector.accepted) expect(JSON.stringify(b.events).length).toBeLessThan(1200);
  });
});
