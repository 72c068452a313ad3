/**
 * Store.agentsMayHaveChanged on SQLite: false across the store's own ingest and projection commits,
 * true after it revoked or restored an agent and after another connection committed (PRAGMA
 * data_version); absent on PostgreSQL. The agent cache keeps rows past its TTL on it
 * (agent-cache.ts), so a revocation made anywhere must show within the TTL.
 */
import { generateKeyPairSync } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import { openTestStore, type TestStore } from '../support/test-store.js';
import { enrolled, hostInfo } from '../support/store-fixtures.js';
import { AgentCache } from '../../src/agent-cache.js';

describe('agentsMayHaveChanged', () => {
  let t: TestStore;
  afterEach(async () => {
    await t.cleanup();
  });

  test('sqlite: its own revoke and another connection\'s commit count, ingest does not; the agent cache then reads the row again', async () => {
    t = await openTestStore('sqlite');
    const host = hostInfo({ hostname: 'wbo-1', hardwareUuid: 'wbo-hw-1' });
    const { agent, sender } = await enrolled(t.store, host);
    const store = t.store;
    expect(store.agentsMayHaveChanged).toBeDefined();
    expect(store.agentsMayHaveChanged!()).toBe(false);
    await sender.send([]); // this process's own writes (append, projection)
    expect(store.agentsMayHaveChanged!()).toBe(false);
    await store.setAgentRevoked(agent.agentId, false);
    expect(store.agentsMayHaveChanged!()).toBe(true);
    expect(store.agentsMayHaveChanged!()).toBe(false);

    let now = 0;
    // The fixtures' rows hold a placeholder key: the cache gets a real one (the row is the store's).
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const view = { getAgent: async (id: string) => ((r) => r && { ...r, publicKeyPem: pem })(await store.getAgent(id)), agentsMayHaveChanged: () => store.agentsMayHaveChanged!() };
    const cache = new AgentCache(view, { ttlMs: 1000, max: 10, now: () => now });
    expect((await cache.get(agent.agentId))!.row.revokedAt).toBeNull();
    const other = new BetterSqlite3(store.sqliteFile!);
    try {
      other.prepare('update agents set revoked_at = ? where agent_id = ?').run('2026-12-07T00:00:00.000Z', agent.agentId);
    } finally {
      other.close();
    }
    now += 500; // within the TTL: the cached row
    expect((await cache.get(agent.agentId))!.row.revokedAt).toBeNull();
    now += 500; // the next check sees the other connection's commit and drops every entry
    expect((await cache.get(agent.agentId))!.row.revokedAt).toBe('2026-12-07T00:00:00.000Z');
    expect(store.agentsMayHaveChanged!()).toBe(false);
  });

  test('postgres: absent (several collectors share the database: rows expire after the TTL)', async () => {
    t = await openTestStore('postgres');
    expect(t.store.agentsMayHaveChanged).toBeUndefined();
  });
});
