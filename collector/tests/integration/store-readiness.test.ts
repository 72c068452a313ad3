/**
 * Issue 10 item 15: readiness means the store is really there and readable.
 * A collector over its own SQLite file in a temp data dir (real files, real app through inject):
 * deleting the files under it, or overwriting pages of the database, makes /readyz 503 and
 * mcpwatch_store_up 0, and a batch is not acknowledged into a deleted file (503, retryable).
 */
import { mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { SQLITE_FILE } from '../../src/store/index.js';
import { loadCaForTests } from '../support/ca-cache.js';
import { dropSchema, engineCases } from '../support/pg.js';
import { openTestStore } from '../support/test-store.js';
import { injectTransport, pooledKeyPair, TestAgent } from '@mcpwatch/testkit';

const SECRET = 'readiness-secret-0123456789';

async function collectorInDir(): Promise<{ app: FastifyInstance; dataDir: string; agent: TestAgent }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mcpw-ready-'));
  const config = loadConfig({ overrides: { dataDir, tls: 'off', enrollSecrets: `fleet:${SECRET}` } });
  const app = await buildApp(config, { logger: false, ca: loadCaForTests() });
  await app.ready();
  const agent = await TestAgent.enroll(injectTransport(app), { enrollSecret: SECRET, keys: pooledKeyPair(5) });
  expect((await agent.sendEvents(5)).status).toBe(200);
  return { app, dataDir, agent };
}

async function readyz(app: FastifyInstance): Promise<{ status: number; body: string; retryAfter: unknown }> {
  const r = await app.inject({ method: 'GET', url: '/readyz' });
  return { status: r.statusCode, body: r.body, retryAfter: r.headers['retry-after'] };
}

async function storeUp(app: FastifyInstance): Promise<string | undefined> {
  const r = await app.inject({ method: 'GET', url: '/metrics' });
  return /^mcpwatch_store_up (\d)$/m.exec(r.body)?.[1];
}

describe('readiness means the store is really there (SQLite)', () => {
  test('files deleted under a running collector: /readyz 503, store_up 0, a batch is not acked', async () => {
    const { app, dataDir, agent } = await collectorInDir();
    try {
      expect((await readyz(app)).status).toBe(200);
      expect(await storeUp(app)).toBe('1');
      for (const f of readdirSync(dataDir)) if (f.startsWith(SQLITE_FILE)) rmSync(join(dataDir, f));

      const r = await readyz(app);
      expect(r.status).toBe(503);
      expect(r.body).toMatch(/MCPW_ERR_STORE_UNAVAILABLE/);
      expect(r.retryAfter).toBeDefined();
      expect(await storeUp(app)).toBe('0');
      const sent = await agent.sendEvents(3);
      expect(sent.status).not.toBe(200);
      expect(sent.status).toBe(503);
      expect(sent.headers['retry-after']).toBeDefined();
      // A new enrollment is not written into the deleted file either.
      await expect(TestAgent.enroll(injectTransport(app), { enrollSecret: SECRET, keys: pooledKeyPair(6) })).rejects.toThrow();
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('the database file replaced by another file (same path, new inode): not ready', async () => {
    const { app, dataDir } = await collectorInDir();
    try {
      const file = join(dataDir, SQLITE_FILE);
      const ino = statSync(file).ino;
      rmSync(file);
      // An empty database at the same path: exists, opens, but is not the file the store writes to.
      new BetterSqlite3(file).exec('create table t(x)').close();
      expect(statSync(file).ino).not.toBe(ino);
      expect((await readyz(app)).status).toBe(503);
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test.each([
    ['pages after the first overwritten with junk', 4096],
    ['the header page overwritten with junk', 0],
  ])('a corrupted database (%s): /readyz 503 and store_up 0', async (_what, offset) => {
    const { app, dataDir } = await collectorInDir();
    try {
      const file = join(dataDir, SQLITE_FILE);
      // Move everything from the WAL into the main file first, so the junk hits live pages.
      // (The store's checkpoint worker may hold the WAL for a moment: retry until the file holds every page.)
      const side = new BetterSqlite3(file);
      for (let i = 0; i < 10_000; i++) {
        const [cp] = side.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
        const pages = side.pragma('page_count', { simple: true }) as number;
        if (cp?.busy === 0 && statSync(file).size >= pages * 4096 && pages > 2) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      side.close();
      const size = statSync(file).size;
      expect(size).toBeGreaterThan(offset + 4096);
      const fd = openSync(file, 'r+');
      const junk = Buffer.alloc(Math.min(size - offset, 256 * 1024), 0xa5);
      writeSync(fd, junk, 0, junk.length, offset);
      closeSync(fd);

      const r = await readyz(app);
      expect(r.status).toBe(503);
      expect(r.body).toMatch(/not ready/);
      expect(await storeUp(app)).toBe('0');
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

const engines = await engineCases();

describe.each(engines.filter((e) => e === 'postgres'))('readiness means the store is really there (%s)', (engine) => {
  test('its tables gone (schema dropped under the collector): /readyz 503 and store_up 0', async () => {
    const opened = await openTestStore(engine);
    const dataDir = mkdtempSync(join(tmpdir(), 'mcpw-ready-pg-'));
    const config = loadConfig({ overrides: { dataDir, tls: 'off', enrollSecrets: `fleet:${SECRET}` } });
    const app = await buildApp(config, { store: opened.store, logger: false, ca: loadCaForTests() });
    try {
      expect((await readyz(app)).status).toBe(200);
      expect(await storeUp(app)).toBe('1');
      await dropSchema(opened.options.pgSchema!);
      expect((await readyz(app)).status).toBe(503);
      expect(await storeUp(app)).toBe('0');
    } finally {
      await app.close();
      await opened.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
