/**
 * The batch log's row on both engines: first and last event time (canonical ISO strings compared
 * as strings, any other form parsed, an unparseable time counted as the receive time), and the
 * agent + prior-batch lookup (one statement on SQLite, two on PostgreSQL): accepted, duplicate,
 * conflict, unknown agent.
 */
import { engineCases } from '../support/pg.js';
import { openTestStore, type TestStore } from '../support/test-store.js';
import { enrolled, event, serverEntry } from '../support/store-fixtures.js';

describe.each(await engineCases())('batch log append (%s)', (engine) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(engine);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  const at = (iso: string) => new Date(iso);
  const logRow = async (agentId: string, seq: number) =>
    t.store.db.selectFrom('batch_log').select(['first_event_at', 'last_event_at', 'event_count', 'event_types']).where('agent_id', '=', agentId).where('seq', '=', seq).executeTakeFirstOrThrow();

  test('first and last event time over canonical, other and unparseable forms', async () => {
    const { agent, sender } = await enrolled(t.store);
    const ep = agent.endpointId;
    const withTime = (name: string, time: string) => ({ ...event('server.added', ep, serverEntry(name), at('2026-06-01T12:00:00.000Z')), time });
    // Canonical strings only: the earliest and latest by string order are the instants' order.
    await sender.send([withTime('a', '2026-06-01T12:00:00.500Z'), withTime('b', '2026-06-01T11:59:59.999Z'), withTime('c', '2026-06-01T12:00:01.000Z')], {}, { project: false });
    expect(await logRow(agent.agentId, 1)).toMatchObject({ first_event_at: '2026-06-01T11:59:59.999Z', last_event_at: '2026-06-01T12:00:01.000Z', event_count: 3 });
    // Another form (no milliseconds, an offset) is earlier / later than every canonical one.
    await sender.send([withTime('a', '2026-06-01T12:00:00.500Z'), withTime('b', '2026-06-01T13:00:00+02:00'), withTime('c', '2026-06-01T12:30:00Z')], {}, { project: false });
    expect(await logRow(agent.agentId, 2)).toMatchObject({ first_event_at: '2026-06-01T11:00:00.000Z', last_event_at: '2026-06-01T12:30:00.000Z' });
    // An unparseable time counts as the receive time.
    const receivedAt = '2026-06-02T00:00:00.000Z';
    await sender.send([withTime('a', '2026-06-01T12:00:00.500Z'), withTime('b', 'not a time')], { receivedAt }, { project: false });
    expect(await logRow(agent.agentId, 3)).toMatchObject({ first_event_at: '2026-06-01T12:00:00.500Z', last_event_at: receivedAt });
    // A canonical-looking string that is no date (month 13) is parsed: unparseable, the receive time.
    await sender.send([withTime('a', '2026-13-01T12:00:00.000Z')], { receivedAt }, { project: false });
    expect(await logRow(agent.agentId, 4)).toMatchObject({ first_event_at: receivedAt, last_event_at: receivedAt });
    // No events: no times.
    await sender.send([], {}, { project: false });
    expect(await logRow(agent.agentId, 5)).toMatchObject({ first_event_at: null, last_event_at: null, event_count: 0 });
  });

  test('accepted, then duplicate and conflict under the same seq; an unknown agent is refused', async () => {
    const { agent, sender } = await enrolled(t.store);
    const events = [event('server.added', agent.endpointId, serverEntry('a'))];
    const { result, input } = await sender.send(events, {}, { project: false });
    expect(result).toEqual({ status: 'accepted', acked: 1, gap: false, chainBroken: false });
    expect(await t.store.ingestBatch(input)).toEqual({ status: 'duplicate', acked: 1 });
    expect(await t.store.ingestBatch(sender.input([event('server.added', agent.endpointId, serverEntry('b'))], { seq: 1 }))).toEqual({ status: 'conflict', seq: 1 });
    // A later seq is accepted after the duplicate and the conflict: the head moved once.
    expect((await sender.send(events, {}, { project: false })).result).toEqual({ status: 'accepted', acked: 2, gap: false, chainBroken: false });
    expect(await t.store.getAgent(agent.agentId)).toMatchObject({ lastSeq: 2 });
    const ghost = sender.input(events, { seq: 1, agent: { ...agent, agentId: 'ag_nobody' } });
    await expect(t.store.ingestBatch(ghost)).rejects.toMatchObject({ code: 'MCPW_ERR_UNKNOWN_AGENT' });
  });
});
