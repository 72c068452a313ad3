/**
 * The projector's in-memory hand-off (src/store/projection-handoff.ts), on both engines: batches
 * this process appended are projected from the events ingest parsed, anything else from the log,
 * and the result is the same either way; exactly once still holds when a restart falls between;
 * the outbox behind the projector gets the events from memory, without decompressing the body.
 */
import { createStore } from '../../src/store/index.js';
import type { McpEvent } from '@mcpwatch/shared';
import { engineCases } from '../support/pg.js';
import { openTestStore, type TestStore } from '../support/test-store.js';
import { enrolled, event, finding, hostInfo, serverEntry, snapshot } from '../support/store-fixtures.js';

type Store = Awaited<ReturnType<typeof createStore>>;
const AT = new Date('2026-11-02T10:00:00.000Z');

/** Four batches: servers added, a snapshot with findings, a heartbeat, a server removed. */
function batches(endpointId: string): McpEvent[][] {
  const a = serverEntry('alpha');
  const b = serverEntry('beta');
  const host = hostInfo({ hardwareUuid: 'hw-handoff' });
  return [
    [event('server.added', endpointId, a, AT), event('server.added', endpointId, b, AT)],
    [snapshot(endpointId, host, { servers: [a, b], findings: [finding('secret-in-env', 'high', a)] }, new Date(AT.getTime() + 1000))],
    [event('agent.heartbeat', endpointId, { version: '0.1.0', uptimeS: 5, cpuPercent: 0.1, rssBytes: 1, spoolBytes: 0, spoolDepth: 0, droppedCount: 0, lastError: null, intervalsMs: {}, throttled: false } as never, new Date(AT.getTime() + 2000))],
    [event('server.removed', endpointId, b, new Date(AT.getTime() + 3000))],
  ];
}

/** What the projection left, without the ids and times that differ between two databases. */
async function projectedState(store: Store, endpointId: string) {
  const detail = (await store.getEndpoint(endpointId, 0))!;
  const events = (await store.listEvents({ endpointId, limit: 500 })).items;
  return {
    servers: detail.servers.map((s) => [s.name, s.firstSeen, s.lastSeen]).sort(),
    findings: detail.findings.map((f) => [f.id, f.status, f.severity]).sort(),
    health: detail.endpoint.health,
    events: events.map((e) => [e.type, e.time, JSON.stringify(e.data)]).sort(),
    outbox: await store.outboxDepth(),
  };
}

describe.each(await engineCases())('projection hand-off (%s)', (engine) => {
  let t: TestStore | undefined;
  let reopened: Store | undefined;
  afterEach(async () => {
    await reopened?.close();
    reopened = undefined;
    await t?.cleanup();
    t = undefined;
  });

  /** Appends the four batches with the projector off; `restart`: the store is closed and opened again first. */
  async function appendThenProject(restart: boolean): Promise<{ store: Store; endpointId: string }> {
    t = await openTestStore(engine, { project: false });
    // The projector takes its partitions first (PostgreSQL), as a running collector's has.
    await t.store.awaitProjection();
    const { agent, sender } = await enrolled(t.store);
    for (const events of batches(agent.endpointId)) await sender.send(events, { receivedAt: AT.toISOString() }, { project: false });
    let store = t.store;
    if (restart) {
      await t.store.close();
      store = reopened = await createStore({ ...t.options, project: false });
    }
    await store.awaitProjection();
    return { store, endpointId: agent.endpointId };
  }

  test('batches this process appended are projected from the hand-off, the same as from the log after a restart', async () => {
    const handed = await appendThenProject(false);
    expect(handed.store.projectorCounters).toMatchObject({ batches: 4, handedOff: 4, skipped: 0 });
    const fromHandOff = await projectedState(handed.store, handed.endpointId);
    await t!.cleanup();
    t = undefined;

    const logged = await appendThenProject(true);
    expect(logged.store.projectorCounters).toMatchObject({ batches: 4, handedOff: 0, skipped: 0 });
    const fromLog = await projectedState(logged.store, logged.endpointId);

    // beta was removed by the last batch; alpha was last reported by the snapshot.
    expect(fromHandOff.servers).toEqual([['alpha', AT.toISOString(), new Date(AT.getTime() + 1000).toISOString()]]);
    expect(fromHandOff.findings).toHaveLength(1);
    expect(fromHandOff.events.length).toBeGreaterThanOrEqual(5);
    expect(fromHandOff).toEqual(fromLog);
  });

  test('the outbox behind the projector reads the projected events from memory, whether they came from the hand-off or the log', async () => {
    for (const restart of [false, true]) {
      const { store } = await appendThenProject(restart);
      const before = store.eventReads.decompressed;
      const rows = await store.claimOutbox('file', 100, 60_000, 'test');
      expect(rows.length).toBeGreaterThanOrEqual(5);
      expect(rows.every((r) => r.event.data !== undefined)).toBe(true);
      expect(store.eventReads.decompressed).toBe(before);
      await reopened?.close();
      reopened = undefined;
      await t!.cleanup();
      t = undefined;
    }
  });

  test('a NUL character in handed-over events is stored as U+FFFD, as from the log; the caller\'s objects are left alone', async () => {
    t = await openTestStore(engine, { project: false });
    await t.store.awaitProjection();
    const { agent, sender } = await enrolled(t.store);
    const entry = serverEntry('nul\u0000name');
    await sender.send([event('server.added', agent.endpointId, entry)], {}, { project: false });
    await t.store.awaitProjection();
    expect(t.store.projectorCounters).toMatchObject({ batches: 1, handedOff: 1, skipped: 0 });
    expect((await t.store.getEndpoint(agent.endpointId, 0))!.servers.map((s) => s.name)).toEqual(['nul\uFFFDname']);
    expect(entry.name).toBe('nul\u0000name');
  });

  test('a restart between ack and projection: what was handed over is lost, the log projects it, each batch exactly once', async () => {
    t = await openTestStore(engine, { project: false });
    await t.store.awaitProjection();
    const { agent, sender } = await enrolled(t.store);
    const all = batches(agent.endpointId);
    // Two batches projected in this process (from the hand-off), two more acked, then a restart.
    for (const events of all.slice(0, 2)) await sender.send(events, {}, { project: false });
    await t.store.awaitProjection();
    expect(t.store.projectorCounters).toMatchObject({ batches: 2, handedOff: 2 });
    for (const events of all.slice(2)) await sender.send(events, {}, { project: false });
    await t.store.close();
    reopened = await createStore({ ...t.options, project: false });
    await reopened.awaitProjection();
    expect(reopened.projectorCounters).toMatchObject({ batches: 2, handedOff: 0, skipped: 0 });
    const ids = new Set(all.flat().map((e) => e.id));
    const indexed = (await reopened.listEvents({ endpointId: agent.endpointId, limit: 500 })).items.filter((e) => ids.has(e.id));
    expect(indexed.map((e) => e.id).sort()).toEqual([...ids].sort());
    // Every event once in the outbox (the five the agent sent and the finding the snapshot raised):
    // nothing projected twice.
    expect(await reopened.outboxDepth()).toEqual({ file: all.flat().length + 1 });
  });
});
