/**
 * The fleet-wide queries bench:fleet times (DESIGN.md: ≤ 10 ms p95 at 100,000 endpoints under
 * ingest load) read an index range in the order they answer, on SQLite: a page of findings by
 * severity and a page of "who runs server X" are the first rows of an index, not a sort of every
 * matching row. The SQL is the store's own (captured as better-sqlite3 runs it); the plan is
 * SQLite's EXPLAIN QUERY PLAN for it.
 */
import { CompiledQuery } from 'kysely';
import { statementsRunBy } from '../support/sqlite-statements.js';
import { openTestStore, type TestStore } from '../support/test-store.js';
import { enrolled, finding, hostInfo, serverEntry, snapshot } from '../support/store-fixtures.js';

describe('fleet query plans (sqlite)', () => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore('sqlite');
    for (let i = 0; i < 6; i++) {
      const host = hostInfo({ hostname: `plan-${i}`, hardwareUuid: `plan-hw-${i}` });
      const { agent, sender } = await enrolled(t.store, host);
      const servers = [serverEntry('github'), serverEntry(`tail-${i}`)];
      await sender.send([snapshot(agent.endpointId, host, { servers, findings: [finding('secret-in-env', i % 2 ? 'high' : 'medium', servers[0])] })]);
    }
  });
  afterEach(async () => {
    await t.cleanup();
  });

  test('findings by severity: the first rows of findings_by_severity, no sort', async () => {
    const reads = await statementsRunBy(() => t.store.listFindings({ severity: 'high', limit: 50 }));
    const page = reads.find((r) => /from "findings"/.test(r.sql) && /order by/.test(r.sql))!;
    expect(page).toBeDefined();
    const plan = await planOf(t, page);
    expect(plan).toMatch(/findings_by_severity/);
    expect(plan).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
  });

  test('who runs server X: the first rows of servers_fingerprint, no sort', async () => {
    const fingerprint = serverEntry('github').fingerprint;
    const reads = await statementsRunBy(() => t.store.serverEndpoints(fingerprint, { limit: 50 }));
    const page = reads.find((r) => /from "servers"/.test(r.sql))!;
    expect(page).toBeDefined();
    const plan = await planOf(t, page);
    expect(plan).toMatch(/servers_fingerprint/);
    expect(plan).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
  });

  test('servers by name: one row of server_name_groups per fingerprint, one seek per min/max, no server rows grouped', async () => {
    const reads = await statementsRunBy(() => t.store.listServers({ name: 'github', limit: 10 }));
    const groups = reads.find((r) => /from server_name_groups/.test(r.sql))!;
    const names = reads.find((r) => /and name > \?/.test(r.sql))!;
    const risk = reads.find((r) => /from fingerprint_risk/.test(r.sql))!;
    expect([groups, names, risk].every(Boolean)).toBe(true);
    // Without migration 0018 the grouping read every row of the name, the risk every row of the fingerprint.
    expect(reads.some((r) => /group by "s"\."fingerprint"/.test(r.sql) || /join "findings"/.test(r.sql))).toBe(false);
    const plan = await planOf(t, groups);
    expect(plan).toMatch(/SEARCH g USING PRIMARY KEY \(name=\?\)/);
    expect(plan).toMatch(/COVERING INDEX servers_name_first \(name=\? AND fingerprint=\? AND present=\?\)/);
    expect(plan).toMatch(/COVERING INDEX servers_name_seen \(name=\? AND fingerprint=\? AND present=\?\)/);
    expect(plan).not.toMatch(/SCAN/);
    expect(await planOf(t, names)).toMatch(/USING COVERING INDEX servers_fingerprint_names \(fingerprint=\? AND present=\? AND name>\?\)/);
    expect(await planOf(t, risk)).toMatch(/SEARCH fingerprint_risk USING PRIMARY KEY \(fingerprint=\?\)/);
    // And the answer is the fleet's: six endpoints run github, half of them with a high finding on it.
    const page = await t.store.listServers({ name: 'github', limit: 10 });
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ names: ['github'], endpointCount: 6, entryCount: 6, maxSeverity: 'high' });
  });
});

describe('names and clients of a page of servers (sqlite)', () => {
  let t: TestStore;
  afterEach(async () => {
    await t.cleanup();
  });

  test('one index seek per distinct (name, client), however many rows repeat it; the pairs SELECT DISTINCT gives', async () => {
    t = await openTestStore('sqlite');
    // One package under three names and two clients, on many endpoints (the same pair repeated).
    const variants = [serverEntry('github'), serverEntry('gh', { pkg: '@acme/github-mcp' }), serverEntry('github', { client: 'claude-desktop' }), serverEntry('zz-github', { pkg: '@acme/github-mcp', client: 'vscode' })];
    for (let i = 0; i < 12; i++) {
      const host = hostInfo({ hostname: `pairs-${i}`, hardwareUuid: `pairs-hw-${i}` });
      const { agent, sender } = await enrolled(t.store, host);
      await sender.send([snapshot(agent.endpointId, host, { servers: i < 8 ? [variants[0]!] : variants })]);
    }
    const raw = t.store.db;
    const truth = (
      (await raw.executeQuery(CompiledQuery.raw(`select distinct fingerprint, name, client from servers where present = 1 and fingerprint in (select fingerprint from servers where name = 'github') order by fingerprint, name, client`, []))).rows as Array<{
        fingerprint: string;
        name: string;
        client: string;
      }>
    );
    expect(new Set(truth.map((r) => `${r.name}/${r.client}`)).size).toBe(4);
    const reads = await statementsRunBy(() => t.store.listServers({ name: 'github', limit: 10 }));
    const page = await t.store.listServers({ name: 'github', limit: 10 });
    for (const group of page.items) {
      const mine = truth.filter((r) => r.fingerprint === group.fingerprint);
      expect(group.names).toEqual([...new Set(mine.map((r) => r.name))].sort());
      expect(group.clients).toEqual([...new Set(mine.map((r) => r.client))].sort());
    }
    expect(page.items.flatMap((g) => g.names).sort()).toEqual([...new Set(truth.map((r) => r.name))].sort());
    // The walk: a first pair, then per step the next client of the name or the next name; one seek each.
    const walk = reads.filter((r) => /^select name, client from servers/.test(r.sql));
    expect(walk.length).toBeLessThanOrEqual(truth.length * 2 + page.items.length);
    for (const step of walk) expect(await planOf(t, step)).toMatch(/^SEARCH servers USING COVERING INDEX servers_fingerprint_names \(fingerprint=\? AND present=\?( AND name>\?| AND name=\? AND client>\?)?\)$/);
    expect(reads.some((r) => /select distinct/.test(r.sql))).toBe(false);
  });
});

async function planOf(t: TestStore, statement: { sql: string; params: unknown[] }): Promise<string> {
  const rows = (await t.store.db.executeQuery(CompiledQuery.raw(`explain query plan ${statement.sql}`, statement.params))).rows as Array<{ detail: string }>;
  return rows.map((r) => r.detail).join('\n');
}

describe('fleet query indexes (postgres)', () => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore('postgres');
  });
  afterEach(async () => {
    await t.cleanup();
  });

  test('migration 0016 makes the names and findings indexes, and no servers index holding command, url or last_seen', async () => {
    const rows = (await t.store.db.executeQuery(CompiledQuery.raw(`select indexname, indexdef from pg_indexes where schemaname = current_schema() and tablename in ('servers', 'findings')`, []))).rows as Array<{ indexname: string; indexdef: string }>;
    const byName = new Map(rows.map((r) => [r.indexname, r.indexdef]));
    expect(byName.get('servers_fingerprint_names')).toMatch(/\(fingerprint, present, name, client\)/);
    expect(byName.get('findings_server')).toMatch(/\(endpoint_id, server_key, status, severity_rank\)/);
    expect(byName.has('servers_name_cover')).toBe(false);
    expect(byName.has('servers_name_seen')).toBe(false);
    for (const [name, def] of byName) if (/ON \S*servers /.test(def) && name !== 'servers_pkey') expect(def).not.toMatch(/last_seen|command|url/);
  });
});
