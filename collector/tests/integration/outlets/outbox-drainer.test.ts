/**
 * Outbox drainers on the real stores (SQLite always; PostgreSQL in a fresh schema when reachable):
 * rows the ingest transaction enqueued are sent, completed only after the sink accepted them,
 * released with backoff when it did not; two drainers on one PostgreSQL split the work.
 */
import { OutboxDrainer } from '../../../src/outbox/drainer.js';
import { OutletMetrics } from '../../../src/outbox/outlet-metrics.js';
import type { SendResult, Sink } from '../../../src/sinks/types.js';
import type { OutboxRow } from '../../../src/store/types.js';
import { engineCases } from '../../support/pg.js';
import { openTestStore, type TestStore } from '../../support/test-store.js';
import { enrolled, event, finding, hostInfo } from '../../support/store-fixtures.js';

/** A sink that records what it got and answers from a script (default: accept everything). */
class ScriptedSink implements Sink {
  readonly got: OutboxRow[][] = [];
  shutdowns = 0;
  constructor(
    readonly name: string,
    private readonly script: Array<(rows: OutboxRow[]) => SendResult> = [],
  ) {}
  async send(rows: OutboxRow[]): Promise<SendResult> {
    this.got.push(rows);
    return (this.script.shift() ?? (() => ({ ok: true }) as const))(rows);
  }
  async flush() {}
  async shutdown() {
    this.shutdowns++;
  }
}

function heartbeats(endpointId: string, n: number) {
  return Array.from({ length: n }, (_, i) =>
    event('agent.heartbeat', endpointId, { version: '0.1.0', uptimeS: i, cpuPercent: 0.1, rssBytes: 1, spoolBytes: 0, spoolDepth: 0, droppedCount: 0, lastError: null, intervalsMs: {}, throttled: false }),
  );
}

describe.each(await engineCases())('outbox drainer on %s', (engine) => {
  let t: TestStore;
  let clock = 0;
  beforeEach(async () => {
    // Ahead of the wall clock the batches are stamped with, so their rows are due at once.
    clock = Date.now() + 60_000;
    t = await openTestStore(engine, { now: () => new Date(clock) });
  });
  afterEach(async () => t.cleanup());

  it('sends every enqueued row once and completes it (outbox empty afterwards)', async () => {
    const { sender, agent } = await enrolled(t.store, hostInfo(), ['kinesis', 'file']);
    for (let b = 0; b < 5; b++) expect((await sender.send(heartbeats(agent.endpointId, 40))).result.status).toBe('accepted');
    expect(await t.store.outboxDepth()).toEqual({ kinesis: 200, file: 200 });
    const sink = new ScriptedSink('kinesis');
    const metrics = new OutletMetrics();
    const d = new OutboxDrainer({ store: t.store, sink, owner: 'test', batchSize: 64, metrics, now: () => clock });
    let total = 0;
    for (let r = await d.drainOnce(); r.claimed > 0; r = await d.drainOnce()) total += r.completed;
    expect(total).toBe(200);
    const ids = sink.got.flat().map((r) => r.id);
    expect(new Set(ids).size).toBe(200);
    expect(sink.got.every((b) => b.length <= 64)).toBe(true);
    const row = sink.got[0]![0]!;
    expect(row).toMatchObject({ sink: 'kinesis', endpointId: agent.endpointId, agentId: agent.agentId, certFingerprint: agent.certFingerprint, batchSeq: 1 });
    expect(row.id).toBe(`${row.event.id}:kinesis`);
    // Order of the outbox follows ingest order.
    expect(sink.got.flat().map((r) => r.batchSeq)).toEqual([...sink.got.flat().map((r) => r.batchSeq)].sort((a, b) => a - b));
    expect(await t.store.outboxDepth()).toEqual({ file: 200 });
    expect(metrics.snapshot('kinesis').sent).toBe(200);
  });

  it('completes accepted rows, releases failed ones with backoff, and resends them after it', async () => {
    const { sender, agent } = await enrolled(t.store, hostInfo(), ['kinesis']);
    await sender.send(heartbeats(agent.endpointId, 10));
    const failThird: (rows: OutboxRow[]) => SendResult = (rows) => ({ ok: false, retryable: true, error: new Error('partial'), failedIds: [rows[2]!.id, rows[7]!.id] });
    const sink = new ScriptedSink('kinesis', [failThird]);
    const metrics = new OutletMetrics();
    const d = new OutboxDrainer({ store: t.store, sink, owner: 'test', baseBackoffMs: 1000, metrics, random: () => 0.5, now: () => clock });
    expect(await d.drainOnce()).toEqual({ claimed: 10, completed: 8, released: 2 });
    // Not yet due again.
    expect(await d.drainOnce()).toEqual({ claimed: 0, completed: 0, released: 0 });
    clock += 60_000;
    const again = await d.drainOnce();
    expect(again).toEqual({ claimed: 2, completed: 2, released: 0 });
    expect(sink.got[1]!.map((r) => r.attempts)).toEqual([1, 1]);
    expect(sink.got[1]!.map((r) => r.id)).toEqual([sink.got[0]![2]!.id, sink.got[0]![7]!.id]);
    expect(await t.store.outboxDepth()).toEqual({});
    expect(metrics.snapshot('kinesis').failures.retryable).toBe(2);
  });

  it('keeps rows the sink rejects as not retryable, at the slowest pace, and reports them', async () => {
    const { sender, agent } = await enrolled(t.store, hostInfo(), ['securityhub']);
    await sender.send([event('finding.raised', agent.endpointId, finding('r1', 'high'))]);
    const errors: string[] = [];
    const sink = new ScriptedSink('securityhub', [() => ({ ok: false, retryable: false, error: Object.assign(new Error('InvalidInput'), { code: 'MCPW_ERR_SINK_REJECTED' }) })]);
    const d = new OutboxDrainer({ store: t.store, sink, owner: 'test', maxBackoffMs: 300_000, now: () => clock, log: { warn: () => undefined, error: (o) => errors.push(JSON.stringify(o)) } });
    expect(await d.drainOnce()).toMatchObject({ released: 1 });
    expect(errors[0]).toContain('MCPW_ERR_SINK_REJECTED');
    clock += 299_000;
    expect((await d.drainOnce()).claimed).toBe(0);
    clock += 2_000;
    expect((await d.drainOnce()).completed).toBe(1);
  });

  it('a leased row is not taken by another drainer until the lease ends (crash recovery)', async () => {
    const { sender, agent } = await enrolled(t.store, hostInfo(), ['kinesis']);
    await sender.send(heartbeats(agent.endpointId, 3));
    // A drainer claims and "dies" before completing.
    const claimed = await t.store.claimOutbox('kinesis', 10, 30_000, 'dead-owner');
    expect(claimed).toHaveLength(3);
    const sink = new ScriptedSink('kinesis');
    const d = new OutboxDrainer({ store: t.store, sink, owner: 'survivor', leaseMs: 30_000, now: () => clock });
    expect((await d.drainOnce()).claimed).toBe(0);
    clock += 31_000;
    expect((await d.drainOnce()).completed).toBe(3);
  });

  it('a failing store is retried by the loop, and stop() shuts the sink down once', async () => {
    let calls = 0;
    const store = {
      claimOutbox: async () => {
        calls++;
        throw Object.assign(new Error('db down'), { code: 'MCPW_ERR_STORE_UNAVAILABLE' });
      },
      completeOutbox: async () => undefined,
      releaseOutbox: async () => undefined,
    };
    const sink = new ScriptedSink('kinesis');
    const metrics = new OutletMetrics();
    const d = new OutboxDrainer({ store, sink, owner: 'x', metrics });
    await expect(d.drainOnce()).rejects.toThrow('db down');
    d.start();
    await Promise.all([d.stop(), d.stop()]);
    expect(sink.shutdowns).toBe(1);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(metrics.snapshot('kinesis').failures.store).toBeGreaterThanOrEqual(1);
  });

  if (engine === 'postgres') {
    it('two drainers on one PostgreSQL split the rows without overlap', async () => {
      const { sender, agent } = await enrolled(t.store, hostInfo(), ['kinesis']);
      for (let b = 0; b < 10; b++) await sender.send(heartbeats(agent.endpointId, 50));
      const other = await openTestStore('postgres', { ...t.options, migrate: false, now: () => new Date(clock) } as never);
      try {
        const a = new ScriptedSink('kinesis');
        const b = new ScriptedSink('kinesis');
        const da = new OutboxDrainer({ store: t.store, sink: a, owner: 'a', batchSize: 50 });
        const db = new OutboxDrainer({ store: other.store, sink: b, owner: 'b', batchSize: 50 });
        // Ten rows of 50 events; each claim of 50 leases exactly one row. Claims running at the same
        // time must each get a row of their own, whatever the interleaving (a claim locking more rows
        // than it leases made the other one skip them all and come back empty).
        for (let i = 0; i < 5; i++) {
          const [ra, rb] = await Promise.all([da.drainOnce(), db.drainOnce()]);
          expect([ra.claimed, rb.claimed]).toEqual([50, 50]);
        }
        expect(await Promise.all([da.drainOnce(), db.drainOnce()])).toEqual([
          { claimed: 0, completed: 0, released: 0 },
          { claimed: 0, completed: 0, released: 0 },
        ]);
        const ids = [...a.got.flat(), ...b.got.flat()].map((r) => r.id);
        expect(ids).toHaveLength(500);
        expect(new Set(ids).size).toBe(500);
        expect(a.got.flat().length).toBeGreaterThan(0);
        expect(b.got.flat().length).toBeGreaterThan(0);
      } finally {
        await other.store.close();
      }
    });
  }
});
