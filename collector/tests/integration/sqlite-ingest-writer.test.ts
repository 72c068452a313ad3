/**
 * SQLite ingest on its worker thread (src/store/sqlite-ingest-writer.ts): the same answers as the
 * in-thread store, coded errors intact across the thread boundary, a worker that dies fails its
 * batches with 503 and the next batch starts a new one, and close() lets batches in flight finish.
 */
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStore, SQLITE_FILE } from '../../src/store/index.js';
import { SqliteIngestWriter } from '../../src/store/sqlite-ingest-writer.js';
import { enrolled, event, serverEntry } from '../support/store-fixtures.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'mcpw-writer-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('SQLite ingest worker', () => {
  test('accepts, dedupes and refuses exactly as the in-thread store does; coded errors keep code and status', async () => {
    const answers: unknown[][] = [];
    for (const ingestThread of [true, false]) {
      const store = await createStore({ dataDir: tempDir(), ingestThread });
      try {
        const { agent, sender } = await enrolled(store);
        const got: unknown[] = [];
        const first = await sender.send([event('server.added', agent.endpointId, serverEntry('github'))]);
        got.push(first.result);
        got.push(await store.ingestBatch(first.input));
        got.push(await store.ingestBatch(sender.input([event('server.added', agent.endpointId, serverEntry('other'))], { seq: 1 })));
        const refused = await store.ingestBatch({ ...sender.input([]), agent: { ...agent, agentId: 'ghost' } }).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(Error);
        got.push({ code: (refused as { code?: string }).code, statusCode: (refused as { statusCode?: number }).statusCode });
        // What the worker wrote is what the main connection reads.
        got.push((await store.getEndpoint(agent.endpointId))!.servers.map((s) => s.name));
        got.push(await store.outboxDepth());
        answers.push(got);
      } finally {
        await store.close();
      }
    }
    expect(answers[0]).toEqual([
      { status: 'accepted', acked: 1, gap: false, chainBroken: false },
      { status: 'duplicate', acked: 1 },
      { status: 'conflict', seq: 1 },
      { code: 'MCPW_ERR_UNKNOWN_AGENT', statusCode: 401 },
      ['github'],
      { file: 1 },
    ]);
    expect(answers[1]).toEqual(answers[0]);
  });

  test('a worker that cannot run fails its batch with 503 MCPW_ERR_STORE_UNAVAILABLE; the next batch starts a new worker', async () => {
    const dir = tempDir();
    const store = await createStore({ dataDir: dir, ingestThread: false });
    const { agent, sender } = await enrolled(store);
    const file = join(dir, SQLITE_FILE);
    const writer = new SqliteIngestWriter({ file: `${file}.moved` });
    try {
      // The database is not where the worker looks: it dies at start.
      const lost = await writer.ingest(sender.input([event('server.added', agent.endpointId, serverEntry('a'))])).catch((e: unknown) => e);
      expect(lost).toMatchObject({ code: 'MCPW_ERR_STORE_UNAVAILABLE', statusCode: 503 });
      await store.close();
      renameSync(file, `${file}.moved`);
      for (const suffix of ['-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
      const result = await writer.ingest(sender.input([event('server.added', agent.endpointId, serverEntry('a'))]));
      expect(result).toMatchObject({ status: 'accepted', acked: 1 });
    } finally {
      await writer.stop();
    }
    // The new worker wrote into the database it found: moved back, the store reads the batch.
    renameSync(`${file}.moved`, file);
    const reopened = await createStore({ dataDir: dir, ingestThread: false });
    try {
      expect((await reopened.getEndpoint(agent.endpointId))!.servers.map((s) => s.name)).toEqual(['a']);
    } finally {
      await reopened.close();
    }
  });

  test('close() lets the batches already handed to the worker finish, then refuses new ones', async () => {
    const store = await createStore({ dataDir: tempDir(), ingestThread: true });
    const agents = await Promise.all([1, 2, 3, 4].map(async (i) => enrolled(store, { hostname: `h${i}`, platform: 'linux', users: ['u'], hardwareUuid: `hw-${i}-${Math.random()}` })));
    const inFlight = agents.map(({ agent, sender }) => store.ingestBatch(sender.input([event('server.added', agent.endpointId, serverEntry('x'))])));
    const closed = store.close();
    const results = await Promise.all(inFlight);
    await closed;
    expect(results.map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
    await expect(store.ingestBatch(agents[0]!.sender.input([]))).rejects.toMatchObject({ code: 'MCPW_ERR_STORE_UNAVAILABLE' });
  });
});
