/**
 * Outbox claims and completions run in bounded transactions (outbox-store.ts: OUTBOX_TX_ROWS rows
 * per claim transaction and per completion of leased rows, OUTBOX_TX_IDS ids per completion looked
 * up through the events, a turn of the event loop between them), so a drainer's 500-event cycle over one-event rows (heartbeats) is not one long
 * transaction on SQLite's event loop. Both engines: a claim bigger than one transaction leases all
 * it should, in order, once; completion removes everything. SQLite: the statements are counted per
 * transaction (the store's own, recorded as better-sqlite3 runs them).
 */
import { OUTBOX_TX_IDS, OUTBOX_TX_ROWS } from '../../src/store/outbox-store.js';
import { engineCases } from '../support/pg.js';
import { statementsRunBy } from '../support/sqlite-statements.js';
import { openTestStore, type TestStore } from '../support/test-store.js';
import { enrolled, event, finding, hostInfo, projected, serverEntry, snapshot } from '../support/store-fixtures.js';

/** Statements grouped by transaction (begin .. commit), SQLite; only transactions on the outbox (the projector polls meanwhile). */
function transactions(ran: Array<{ sql: string }>): string[][] {
  const out: string[][] = [];
  let cur: string[] | null = null;
  for (const { sql } of ran) {
    const s = sql.trim().toLowerCase();
    if (s.startsWith('begin')) cur = [];
    else if (s === 'commit' || s === 'rollback') {
      if (cur) out.push(cur);
      cur = null;
    } else cur?.push(s);
  }
  return out.filter((tx) => tx.some((s) => s.includes('"outbox"')));
}

describe.each(await engineCases())('outbox transactions (%s)', (engine) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(engine);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  test('a claim of more rows than one transaction takes leases them all, oldest first, once; completion empties the outbox', async () => {
    const { agent, sender } = await enrolled(t.store, hostInfo({ hardwareUuid: 'outbox-tx-hw' }));
    const rows = OUTBOX_TX_ROWS * 2 + 10;
    const sent: string[] = [];
    for (let i = 0; i < rows; i++) {
      const e = event('server.added', agent.endpointId, serverEntry(`s${i}`));
      sent.push(e.id);
      await sender.send([e]);
    }
    await projected(t.store);
    expect(await t.store.outboxDepth()).toEqual({ file: rows });

    let claimed: Awaited<ReturnType<typeof t.store.claimOutbox>> = [];
    const claimRan = await statementsRunBy(async () => {
      claimed = await t.store.claimOutbox('file', 500, 60_000, 'w1');
    });
    expect(claimed.map((r) => r.event.id)).toEqual(sent);
    expect(await t.store.claimOutbox('file', 500, 60_000, 'w2')).toEqual([]);

    const completeRan = await statementsRunBy(() => t.store.completeOutbox('file', claimed.map((r) => r.id)));
    expect(await t.store.outboxDepth()).toEqual({});

    if (engine === 'sqlite') {
      // Each claim transaction leases at most OUTBOX_TX_ROWS rows, with one UPDATE.
      const claims = transactions(claimRan);
      expect(claims.length).toBe(Math.ceil(rows / OUTBOX_TX_ROWS));
      for (const tx of claims) expect(tx.filter((s) => s.startsWith('update "outbox" set "lease_owner"')).length).toBe(1);
      // Completing what this store leased reads the rows noted at the claim: no look-up through the
      // events, OUTBOX_TX_ROWS rows per transaction, one DELETE each.
      const completions = transactions(completeRan);
      expect(completions.length).toBe(Math.ceil(rows / OUTBOX_TX_ROWS));
      for (const tx of completions) {
        expect(tx.filter((s) => s.startsWith('delete from "outbox"')).length).toBe(1);
        expect(tx.filter((s) => s.includes('"events"')).length).toBe(0);
      }
    }
  });

  test('a claim that ends inside a row splits it and leases only the part that fits', async () => {
    const { agent, sender } = await enrolled(t.store, hostInfo({ hardwareUuid: 'outbox-tx-split' }));
    const events = Array.from({ length: 5 }, (_, i) => event('server.added', agent.endpointId, serverEntry(`p${i}`)));
    for (const e of events.slice(0, 2)) await sender.send([e]);
    await sender.send(events.slice(2));
    await projected(t.store);
    const first = await t.store.claimOutbox('file', 3, 60_000, 'w1');
    expect(first.map((r) => r.event.id)).toEqual(events.slice(0, 3).map((e) => e.id));
    const rest = await t.store.claimOutbox('file', 10, 60_000, 'w2');
    expect(rest.map((r) => r.event.id)).toEqual(events.slice(3).map((e) => e.id));
    await t.store.completeOutbox('file', [...first, ...rest].map((r) => r.id));
    expect(await t.store.outboxDepth()).toEqual({});
  });

  test('a claim that splits a row whose own event was completed earlier leases the part it returns', async () => {
    const { agent, sender } = await enrolled(t.store, hostInfo({ hardwareUuid: 'outbox-tx-split-lease' }));
    const events = Array.from({ length: 3 }, (_, i) => event('server.added', agent.endpointId, serverEntry(`q${i}`)));
    await sender.send(events);
    await projected(t.store);
    const first = await t.store.claimOutbox('file', 10, 60_000, 'w1');
    expect(first).toHaveLength(3);
    await t.store.completeOutbox('file', [first[0]!.id]);
    await t.store.releaseOutbox('file', first.slice(1).map((r) => r.id), 'retry', 0);
    // The row (named after the first event) now holds the other two, unleased; the claim splits it.
    const b = await t.store.claimOutbox('file', 1, 60_000, 'w2');
    expect(b.map((r) => r.event.id)).toEqual([events[1]!.id]);
    // What w2 holds is leased: the next claim gets the third event, not the second again.
    const c = await t.store.claimOutbox('file', 10, 60_000, 'w3');
    expect(c.map((r) => r.event.id)).toEqual([events[2]!.id]);
    await t.store.completeOutbox('file', [...b, ...c].map((r) => r.id));
    expect(await t.store.outboxDepth()).toEqual({});
  });

  test('completing events whose row changed since the claim (a release split it) removes them where they are now', async () => {
    const { agent, sender } = await enrolled(t.store, hostInfo({ hardwareUuid: 'outbox-tx-moved' }));
    const events = Array.from({ length: 5 }, (_, i) => event('server.added', agent.endpointId, serverEntry(`m${i}`)));
    await sender.send(events);
    await projected(t.store);
    const claimed = await t.store.claimOutbox('file', 10, 60_000, 'w1');
    expect(claimed).toHaveLength(5);
    // Releasing the first event keeps it in the row; the other four move to a row of their own.
    await t.store.releaseOutbox('file', [claimed[0]!.id], 'retry', 60_000);
    await t.store.completeOutbox('file', claimed.slice(1).map((r) => r.id));
    expect(await t.store.outboxDepth()).toEqual({ file: 1 });
    // Completing one that is gone already changes nothing; the released one completes too.
    await t.store.completeOutbox('file', [claimed[1]!.id, claimed[0]!.id]);
    expect(await t.store.outboxDepth()).toEqual({});
  });

  test('completing events this store did not lease (another collector claimed them) finds their rows through the events', async () => {
    const { agent, sender } = await enrolled(t.store, hostInfo({ hardwareUuid: 'outbox-tx-unleased' }));
    const rows = OUTBOX_TX_IDS + 6;
    const ids: string[] = [];
    for (let i = 0; i < rows; i++) {
      const e = event('server.added', agent.endpointId, serverEntry(`u${i}`));
      ids.push(`${e.id}:file`);
      await sender.send([e]);
    }
    await projected(t.store);
    const ran = await statementsRunBy(() => t.store.completeOutbox('file', ids));
    expect(await t.store.outboxDepth()).toEqual({});
    if (engine === 'sqlite') {
      const completions = transactions(ran);
      expect(completions.length).toBe(Math.ceil(rows / OUTBOX_TX_IDS));
      for (const tx of completions) expect(tx.some((s) => s.includes('"events"'))).toBe(true);
    }
  });

  test("a claim reads an agent batch's events from its log row, not through the event index, as the index has them; the collector's own events through the index", async () => {
    const host = hostInfo({ hardwareUuid: 'outbox-tx-by-batch' });
    const { agent, sender } = await enrolled(t.store, host);
    // A time the index stores in canonical form (milliseconds added).
    const plain = { ...event('server.added', agent.endpointId, serverEntry('b0')), time: '2026-03-04T05:06:07Z' };
    await sender.send([plain, event('server.added', agent.endpointId, serverEntry('b1'))]);
    await projected(t.store);
    let claimed: Awaited<ReturnType<typeof t.store.claimOutbox>> = [];
    const ran = await statementsRunBy(async () => {
      claimed = await t.store.claimOutbox('file', 10, 60_000, 'w1');
    });
    const indexed = (await t.store.listEvents({ endpointId: agent.endpointId })).items;
    const byId = new Map(indexed.map((e) => [e.id, e]));
    expect(claimed.map((r) => r.event)).toEqual(claimed.map((r) => byId.get(r.event.id)));
    expect(claimed[0]!.event.time).toBe('2026-03-04T05:06:07.000Z');
    if (engine === 'sqlite') expect(ran.filter(({ sql }) => /from "events"/.test(sql))).toEqual([]);
    await t.store.completeOutbox('file', claimed.map((r) => r.id));

    // A snapshot's finding transitions are the collector's events (not in the body): still claimed.
    await sender.send([snapshot(agent.endpointId, host, { findings: [finding('secret-in-env', 'high')] })]);
    await projected(t.store);
    const next = await t.store.claimOutbox('file', 10, 60_000, 'w1');
    expect(next.map((r) => r.event.type).sort()).toEqual(['finding.raised', 'inventory.snapshot']);
    const after = new Map((await t.store.listEvents({ endpointId: agent.endpointId })).items.map((e) => [e.id, e]));
    expect(next.map((r) => r.event)).toEqual(next.map((r) => after.get(r.event.id)));
  });
});
