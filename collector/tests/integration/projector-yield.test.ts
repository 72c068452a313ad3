/**
 * The projector runs on the event loop between requests and yields to ingest (issue 15): while
 * ingest is busy it projects nothing (the log absorbs the burst), it catches up once ingest is
 * quiet, and a lag past softLagMs makes it project even while ingest stays busy (a sustained load
 * cannot starve it). Real store (SQLite file / PostgreSQL schema), the store's projector off, a
 * Projector driven directly with a controllable "ingest is busy" signal.
 */
import { waitFor } from '@mcpwatch/testkit';
import { Projector } from '../../src/store/projector.js';
import { PartitionOwnership, PG_PARTITIONS } from '../../src/store/projection-partitions.js';
import { InsertShapes } from '../../src/store/sql-shapes.js';
import { engineCases } from '../support/pg.js';
import { openTestStore, type TestStore } from '../support/test-store.js';
import { enrolled, event, serverEntry } from '../support/store-fixtures.js';

describe.each(await engineCases())('projector yields to ingest (%s)', (engine) => {
  let t: TestStore;
  let projector: Projector | undefined;
  beforeEach(async () => {
    t = await openTestStore(engine, { project: false });
  });
  afterEach(async () => {
    await projector?.stop();
    projector = undefined;
    await t.cleanup();
  });

  function start(isIngestHot: () => boolean, softLagMs: number, more: Partial<ConstructorParameters<typeof Projector>[0]> = {}): Projector {
    const p = new Projector({
      engine,
      db: t.store.db,
      shapes: new InsertShapes(),
      ...(engine === 'postgres' ? { ownership: new PartitionOwnership(t.store.db, t.options.pgSchema!, PG_PARTITIONS) } : {}),
      pollIntervalMs: 5,
      isIngestHot,
      softLagMs,
      ...more,
    });
    p.start();
    return p;
  }

  test('busy ingest: nothing projected; quiet: caught up', async () => {
    const { agent, sender } = await enrolled(t.store);
    for (let i = 0; i < 3; i++) await sender.send([event('server.added', agent.endpointId, serverEntry(`s${i}`))], {}, { project: false });
    let hot = true;
    let asked = 0;
    projector = start(() => {
      asked++;
      return hot;
    }, 3_600_000);
    // It looked many times and yielded every time.
    await waitFor('the projector to ask whether ingest is busy 20 times', () => asked >= 20);
    expect(projector.projectedBatches).toBe(0);
    expect((await t.store.projectionStatus()).lagBatches).toBe(3);
    hot = false;
    await waitFor('the projector to catch up', async () => (await t.store.projectionStatus()).lagBatches === 0);
    expect(projector.projectedBatches).toBe(3);
    expect((await t.store.listServers({})).items.flatMap((s) => s.names).sort()).toEqual(['s0', 's1', 's2']);
  });

  test('busy ingest but a lag past softLagMs: projected anyway', async () => {
    const { agent, sender } = await enrolled(t.store);
    await sender.send([event('server.added', agent.endpointId, serverEntry('late'))], {}, { project: false });
    projector = start(() => true, 0);
    await waitFor('the projector to project while ingest stays busy', async () => (await t.store.projectionStatus()).lagBatches === 0);
    expect(projector.projectedBatches).toBe(1);
  });

  test('a backlog larger than one transaction: the projector still knows how old the rest is', async () => {
    // The scheduler projects while ingest is busy only once the oldest pending row is softLagMs old;
    // a transaction that applied every row it took must not leave that age unknown while more wait.
    const { agent, sender } = await enrolled(t.store);
    for (let i = 0; i < 5; i++) await sender.send([event('server.added', agent.endpointId, serverEntry(`b${i}`))], {}, { project: false });
    projector = new Projector({
      engine,
      db: t.store.db,
      shapes: new InsertShapes(),
      ...(engine === 'postgres' ? { ownership: new PartitionOwnership(t.store.db, t.options.pgSchema!, PG_PARTITIONS) } : {}),
      maxBatchesPerTransaction: 2,
    });
    const oldestLeft = async (): Promise<number | null> => {
      const r = await t.store.db.selectFrom('projection_pending').select('received_at').orderBy('log_id').limit(1).executeTakeFirst();
      return r ? Date.parse(r.received_at) : null;
    };
    expect(await projector.projectOnce()).toBe(2);
    expect(projector.oldestPendingMs).not.toBeNull();
    expect(projector.oldestPendingMs).toBe(await oldestLeft());
    expect(await projector.projectOnce()).toBe(2);
    expect(projector.oldestPendingMs).toBe(await oldestLeft());
    expect(await projector.projectOnce()).toBe(1);
    expect(projector.oldestPendingMs).toBeNull();
    expect((await t.store.projectionStatus()).lagBatches).toBe(0);
  });

  // A budget of 0 ms is spent after every row; a quiet turn (quietTurnMs: any length) lets the
  // transaction go on while ingest stays quiet, and ingest turning busy ends it at the next turn.
  test('ingest quiet: a spent budget goes on in the same transaction after a turn of the event loop', async () => {
    const { agent, sender } = await enrolled(t.store);
    for (let i = 0; i < 5; i++) await sender.send([event('server.added', agent.endpointId, serverEntry(`q${i}`))], {}, { project: false });
    projector = start(() => false, 3_600_000, { transactionBudgetMs: 0, extendWhileQuietMs: 3_600_000, quietTurnMs: Infinity });
    await waitFor('the projector to catch up', async () => (await t.store.projectionStatus()).lagBatches === 0);
    expect(projector.projectedBatches).toBe(5);
    expect(projector.projectedTransactions).toBe(1);
    expect((await t.store.listServers({})).items.flatMap((s) => s.names).sort()).toEqual(['q0', 'q1', 'q2', 'q3', 'q4']);
  });

  test('ingest turning busy during the turn ends the transaction; without extension each spent budget commits', async () => {
    const { agent, sender } = await enrolled(t.store);
    for (let i = 0; i < 3; i++) await sender.send([event('server.added', agent.endpointId, serverEntry(`h${i}`))], {}, { project: false });
    // Quiet when the scheduler and the first transaction ask, busy from the turn after its first row.
    let asked = 0;
    projector = start(() => ++asked > 2, 0, { transactionBudgetMs: 0, extendWhileQuietMs: 3_600_000, quietTurnMs: Infinity });
    await waitFor('the projector to catch up', async () => (await t.store.projectionStatus()).lagBatches === 0);
    expect(projector.projectedBatches).toBe(3);
    expect(projector.projectedTransactions).toBe(3);
    expect((await t.store.listServers({})).items.flatMap((s) => s.names).sort()).toEqual(['h0', 'h1', 'h2']);
  });

  test('a turn that served something (longer than quietTurnMs) ends the transaction', async () => {
    const { agent, sender } = await enrolled(t.store);
    for (let i = 0; i < 3; i++) await sender.send([event('server.added', agent.endpointId, serverEntry(`t${i}`))], {}, { project: false });
    projector = start(() => false, 3_600_000, { transactionBudgetMs: 0, extendWhileQuietMs: 3_600_000, quietTurnMs: 0 });
    await waitFor('the projector to catch up', async () => (await t.store.projectionStatus()).lagBatches === 0);
    expect(projector.projectedBatches).toBe(3);
    expect(projector.projectedTransactions).toBe(3);
  });

  test('rows per transaction by default: 256 on SQLite (its time budget bounds a transaction), 64 on PostgreSQL', async () => {
    const { agent, sender } = await enrolled(t.store);
    for (let i = 0; i < 100; i++) await sender.send([event('agent.heartbeat', agent.endpointId, { version: '0.1.0', uptimeS: i, cpuPercent: 0, rssBytes: 1, spoolBytes: 0, spoolDepth: 0, droppedCount: 0, lastError: null, intervalsMs: {}, throttled: false } as never)], {}, { project: false });
    projector = start(() => false, 3_600_000, { transactionBudgetMs: Infinity });
    await waitFor('the projector to catch up', async () => (await t.store.projectionStatus()).lagBatches === 0);
    expect(projector.projectedBatches).toBe(100);
    expect(projector.projectedTransactions).toBe(engine === 'sqlite' ? 1 : 2);
  });

  test('an append shortly before (a kick): the transaction is not extended (steady ingest)', async () => {
    const { agent, sender } = await enrolled(t.store);
    for (let i = 0; i < 3; i++) await sender.send([event('server.added', agent.endpointId, serverEntry(`k${i}`))], {}, { project: false });
    projector = new Projector({
      engine,
      db: t.store.db,
      shapes: new InsertShapes(),
      ...(engine === 'postgres' ? { ownership: new PartitionOwnership(t.store.db, t.options.pgSchema!, PG_PARTITIONS) } : {}),
      isIngestHot: () => false,
      transactionBudgetMs: 0,
      extendWhileQuietMs: 3_600_000,
      quietTurnMs: Infinity,
      extendAfterQuietMs: 3_600_000,
    });
    projector.kick();
    await projector.drain();
    expect(projector.projectedBatches).toBe(3);
    expect(projector.projectedTransactions).toBe(3);
  });
});
