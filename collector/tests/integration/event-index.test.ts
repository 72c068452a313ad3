/**
 * The event index points into the batch log instead of copying event JSON (issue 15), on both
 * engines: an agent's events are indexed with no data of their own and read back from the stored
 * body, exactly as sent; /v1/events (listEvents), on a store that has not decoded them yet (the
 * projector leaves what it projects in the cache), decompresses only the batches its page needs,
 * once each, and a repeated page is answered from the decoded-batch cache; the collector's own
 * events (seq gaps) keep their data; an index row whose log row is gone is left out, not failed;
 * the outbox publishes events read the same way.
 */
import { createStore } from '../../src/store/index.js';
import { engineCases } from '../support/pg.js';
import { openTestStore, type TestStore } from '../support/test-store.js';
import { BatchSender, enrollInput, event, hostInfo, serverEntry } from '../support/store-fixtures.js';

describe.each(await engineCases())('event index over the batch log (%s)', (engine) => {
  let t: TestStore;
  let reopened: Awaited<ReturnType<typeof createStore>> | undefined;
  beforeEach(async () => {
    t = await openTestStore(engine);
  });
  afterEach(async () => {
    await reopened?.close();
    reopened = undefined;
    await t.cleanup();
  });

  /**
   * The same database opened again (a restarted collector): nothing decoded in memory. The
   * projector leaves every batch it projects in the reader's cache, so only a fresh store shows
   * what reading from the log costs.
   */
  async function restart() {
    await t.store.close();
    reopened = await createStore(t.options);
    return reopened;
  }

  async function agentSender(name: string) {
    const outcome = await t.store.enrollAgent(enrollInput(hostInfo({ hostname: name })));
    const agent = (await t.store.getAgent(outcome.agentId))!;
    return { agent, sender: new BatchSender(t.store, agent, ['file']) };
  }

  test('agent events are indexed without their JSON and read back from the log as sent; only the batches a page needs are decompressed', async () => {
    const a = await agentSender('alpha');
    const b = await agentSender('beta');
    const sent = [];
    for (let i = 0; i < 3; i++) {
      const events = [event('server.added', a.agent.endpointId, serverEntry(`a${i}`)), event('server.added', a.agent.endpointId, serverEntry(`a${i}x`))];
      sent.push(...events);
      await a.sender.send(events);
    }
    for (let i = 0; i < 4; i++) await b.sender.send([event('server.added', b.agent.endpointId, serverEntry(`b${i}`))]);

    const copies = await t.store.db.selectFrom('events').select((eb) => eb.fn.countAll<string | number>().as('n')).where('data', 'is not', null).executeTakeFirstOrThrow();
    expect(Number(copies.n)).toBe(0);

    const store = await restart();
    const before = store.eventReads;
    const page = await store.listEvents({ endpointId: a.agent.endpointId, limit: 100 });
    expect(page.items.map((e) => e.id).sort()).toEqual(sent.map((e) => e.id).sort());
    for (const e of page.items) {
      const original = sent.find((s) => s.id === e.id)!;
      expect(e).toEqual({ v: 1, id: original.id, type: 'server.added', time: new Date(original.time).toISOString(), endpointId: a.agent.endpointId, data: original.data });
    }
    // alpha's 3 batches, not beta's 4 (its events are not on the page).
    const after = store.eventReads;
    expect(after.decompressed - before.decompressed).toBe(3);

    // The same page again: from the cache, nothing decompressed.
    const again = await store.listEvents({ endpointId: a.agent.endpointId, limit: 100 });
    expect(again.items).toEqual(page.items);
    expect(store.eventReads.decompressed).toBe(after.decompressed);
    expect(store.eventReads.hits - after.hits).toBe(3);

    // Paging walks the same events with cursors.
    const walked = [];
    let cursor: string | undefined;
    do {
      const p = await store.listEvents({ endpointId: a.agent.endpointId, limit: 4, ...(cursor ? { cursor } : {}) });
      walked.push(...p.items.map((e) => e.id));
      cursor = p.nextCursor ?? undefined;
    } while (cursor);
    expect(walked).toEqual(page.items.map((e) => e.id));
  });

  test("the collector's own events keep their data; an event whose log row is gone is left out, by queries and the outbox", async () => {
    const a = await agentSender('alpha');
    await a.sender.send([event('server.added', a.agent.endpointId, serverEntry('one'))]);
    // seq 3 after 1: a gap, recorded as the collector's own event.
    const gapBatch = [event('server.added', a.agent.endpointId, serverEntry('two'))];
    await a.sender.send(gapBatch, { seq: 3 });

    const gap = await t.store.listEvents({ type: 'collector.seq_gap' });
    expect(gap.items).toHaveLength(1);
    expect(gap.items[0]!.data).toMatchObject({ agentId: a.agent.agentId, seq: 3, expectedSeq: 2 });
    const own = await t.store.db.selectFrom('events').select(['data']).where('type', '=', 'collector.seq_gap').executeTakeFirstOrThrow();
    expect(own.data).not.toBeNull();

    // The first batch's log row deleted by hand (under a collector that has not decoded it: one
    // that has answers from memory until the batch leaves its cache; retention clears the cache):
    // its event is left out, the others still answer, and the outbox drops it (it cannot be
    // published) instead of failing the claim.
    const store = await restart();
    await store.db.deleteFrom('batch_log').where('agent_id', '=', a.agent.agentId).where('seq', '=', 1).execute();
    const rest = await store.listEvents({ endpointId: a.agent.endpointId });
    expect(rest.items.map((e) => e.type).sort()).toEqual(['collector.seq_gap', 'server.added']);
    expect(rest.items.find((e) => e.type === 'server.added')!.id).toBe(gapBatch[0]!.id);
    expect(rest.nextCursor).toBeNull();

    const claimed = await store.claimOutbox('file', 100, 60_000, 'test');
    expect(claimed.map((r) => r.event.type).sort()).toEqual(['collector.seq_gap', 'server.added']);
    expect(claimed.find((r) => r.event.type === 'server.added')!.event).toEqual({ v: 1, id: gapBatch[0]!.id, type: 'server.added', time: new Date(gapBatch[0]!.time).toISOString(), endpointId: a.agent.endpointId, data: gapBatch[0]!.data });
    await store.completeOutbox('file', claimed.map((r) => r.id));
    expect(await store.outboxDepth()).toEqual({});
  });
});
