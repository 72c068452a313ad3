/**
 * Migration 0018 (server-groups-migration.ts): listServers(name) reads aggregates kept by triggers
 * on servers and findings (SQLite). After every step of a mixed sequence (snapshots that add, keep,
 * drop and re-add servers; one server configured twice on one endpoint; one fingerprint under two
 * names; server.added / changed (variant, name and fingerprint) / removed; findings raised and
 * resolved by snapshots and events; rows deleted outright) the aggregates equal a recomputation
 * from the rows, and every listServers answer equals today's grouping query over the rows (the
 * query PostgreSQL still runs). The migration backfills a database that has rows already.
 * And on both engines: a snapshot resets only the rows it does not list (the listed ones are not
 * flipped off and on, so neither rewritten nor counted out and in again by the triggers).
 */
import { sql } from 'kysely';
import { InventoryQueries } from '../../src/store/inventory-queries.js';
import type { ServerEntry } from '@mcpwatch/shared';
import { engineCases } from '../support/pg.js';
import { openTestStore, type TestStore } from '../support/test-store.js';
import { enrolled, event, finding, hostInfo, serverEntry, snapshot } from '../support/store-fixtures.js';
import { statementsRunBy } from '../support/sqlite-statements.js';

type Row = Record<string, unknown>;
const norm = (rows: Row[]) => rows.map((r) => JSON.stringify(Object.values(r).map((v) => (typeof v === 'bigint' ? Number(v) : v)))).sort();

describe('server groups, migration 0018 (sqlite)', () => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore('sqlite');
  });
  afterEach(async () => {
    await t.cleanup();
  });

  /** The aggregates as stored, and as recomputed from the rows. */
  async function aggregates() {
    const db = t.store.db;
    const q = async (text: string) => norm((await sql.raw<Row>(text).execute(db)).rows);
    const cols = 'transport, command, url, package_ecosystem, package_name, package_version';
    return {
      stored: {
        groups: await q(`select name, fingerprint, entries, endpoints from server_name_groups`),
        variants: await q(`select name, fingerprint, ${cols}, entries from server_name_variants`),
        risk: await q(`select fingerprint, severity_rank, findings from fingerprint_risk`),
      },
      recomputed: {
        groups: await q(`select name, fingerprint, count(*), count(distinct endpoint_id) from servers where present = 1 group by name, fingerprint`),
        variants: await q(`select name, fingerprint, ${cols}, count(*) from servers where present = 1 group by name, fingerprint, ${cols}`),
        risk: await q(
          `select s.fingerprint, f.severity_rank, count(*) from servers s join findings f on f.endpoint_id = s.endpoint_id and f.server_key = s.server_key where s.present = 1 and f.status = 'open' group by s.fingerprint, f.severity_rank`,
        ),
      },
    };
  }

  /** Aggregates equal their recomputation; every listServers answer equals the grouping query's. */
  async function expectExact(step: string): Promise<void> {
    const a = await aggregates();
    expect({ step, ...a.stored }).toEqual({ step, ...a.recomputed });
    const grouping = new InventoryQueries(t.store.db, null as never, 'postgres');
    const names = (await sql<{ name: string }>`select distinct name from servers`.execute(t.store.db)).rows.map((r) => r.name);
    for (const name of [...names, 'nobody-runs-this']) {
      for (const limit of [1, 2, 10]) {
        let cursor: string | undefined;
        do {
          const got = await t.store.listServers({ name, limit, ...(cursor ? { cursor } : {}) });
          const want = await grouping.listServers({ name, limit, ...(cursor ? { cursor } : {}) });
          expect({ step, name, limit, page: got }).toEqual({ step, name, limit, page: want });
          cursor = got.nextCursor ?? undefined;
        } while (cursor);
      }
    }
    // The other filters still group the rows; their risk comes from fingerprint_risk.
    expect({ step, page: await t.store.listServers({ limit: 100 }) }).toEqual({ step, page: await grouping.listServers({ limit: 100 }) });
    expect({ step, page: await t.store.listServers({ risk: 'medium', limit: 100 }) }).toEqual({ step, page: await grouping.listServers({ risk: 'medium', limit: 100 }) });
  }

  const at = (minute: number) => new Date(Date.UTC(2026, 5, 1, 10, minute));

  test('the aggregates stay exact through snapshots, server and finding events, and deletions', async () => {
    const github = serverEntry('github');
    const githubClaude = serverEntry('github', { client: 'claude-desktop', configPath: '/Users/alice/Library/Application Support/Claude/claude_desktop_config.json' });
    const alias = serverEntry('gh', { pkg: '@acme/github-mcp' }); // github's fingerprint under another name
    const github2 = serverEntry('github', { version: '2.0.0' }); // github's name, another fingerprint
    const shell = serverEntry('shell', { pkg: undefined, package: undefined, command: '/bin/sh', args: ['-c', 'mcp'] } as Partial<ServerEntry>);
    const remote = serverEntry('remote-docs', { transport: 'http', url: 'https://docs.example/mcp', command: null, args: [], package: undefined } as Partial<ServerEntry>);
    expect(alias.fingerprint).toBe(github.fingerprint);
    expect(githubClaude.fingerprint).toBe(github.fingerprint);
    expect(githubClaude.serverKey).not.toBe(github.serverKey);

    const e0 = await enrolled(t.store, hostInfo({ hostname: 'e0', hardwareUuid: 'hw-e0' }));
    const e1 = await enrolled(t.store, hostInfo({ hostname: 'e1', hardwareUuid: 'hw-e1' }));
    const e2 = await enrolled(t.store, hostInfo({ hostname: 'e2', hardwareUuid: 'hw-e2' }));
    const e3 = await enrolled(t.store, hostInfo({ hostname: 'e3', hardwareUuid: 'hw-e3' }));
    await expectExact('empty');

    await e0.sender.send([snapshot(e0.agent.endpointId, e0.host, { servers: [github, githubClaude, shell], findings: [finding('secret-in-env', 'high', github), finding('shell-exec', 'medium', shell)] }, at(1))]);
    await e1.sender.send([snapshot(e1.agent.endpointId, e1.host, { servers: [github, remote], findings: [finding('secret-in-env', 'low', github)] }, at(2))]);
    await e2.sender.send([snapshot(e2.agent.endpointId, e2.host, { servers: [github2, alias], findings: [finding('pinned', 'critical', alias)] }, at(3))]);
    await e3.sender.send([snapshot(e3.agent.endpointId, e3.host, { servers: [github, shell] }, at(4))]);
    await expectExact('first snapshots');

    // The same snapshot again (every row reset and re-upserted), one at a later time.
    await e0.sender.send([snapshot(e0.agent.endpointId, e0.host, { servers: [github, githubClaude, shell], findings: [finding('secret-in-env', 'high', github), finding('shell-exec', 'medium', shell)] }, at(5))]);
    await expectExact('snapshot repeated');

    // Server events: added, changed (its variant: command), changed (name and fingerprint under the same key), removed.
    const extra = serverEntry('extra');
    await e1.sender.send([
      event('server.added', e1.agent.endpointId, extra, at(6)),
      event('server.changed', e1.agent.endpointId, { ...github, command: 'bunx', changedFields: ['command'] }, at(6)),
    ]);
    await expectExact('added, variant changed');
    await e1.sender.send([event('server.changed', e1.agent.endpointId, { ...serverEntry('renamed', { pkg: '@acme/other' }), serverKey: extra.serverKey, changedFields: ['name', 'package'] }, at(7))]);
    await e2.sender.send([event('server.removed', e2.agent.endpointId, alias, at(7))]);
    await expectExact('renamed, removed');

    // Findings by event: a new one on a present server, one resolved.
    const crit = finding('tool-poisoning', 'critical', githubClaude);
    await e0.sender.send([event('finding.raised', e0.agent.endpointId, crit, at(8))]);
    await expectExact('finding raised');
    await e0.sender.send([event('finding.resolved', e0.agent.endpointId, crit, at(9))]);
    await e1.sender.send([event('finding.resolved', e1.agent.endpointId, finding('secret-in-env', 'low', github), at(9))]);
    await expectExact('findings resolved');

    // A snapshot that drops a server of the two-client pair and resolves a finding; one that drops everything.
    await e0.sender.send([snapshot(e0.agent.endpointId, e0.host, { servers: [githubClaude, shell], findings: [finding('shell-exec', 'high', shell)] }, at(10))]);
    await e3.sender.send([snapshot(e3.agent.endpointId, e3.host, { servers: [] }, at(11))]);
    await expectExact('servers dropped by snapshots');
    // And back.
    await e3.sender.send([snapshot(e3.agent.endpointId, e3.host, { servers: [github, githubClaude, alias], findings: [finding('secret-in-env', 'medium', alias)] }, at(12))]);
    await expectExact('servers back');

    // Rows deleted outright (no code path does today; the triggers keep the aggregates exact anyway).
    await sql`delete from findings where endpoint_id = ${e3.agent.endpointId}`.execute(t.store.db);
    await expectExact('findings deleted');
    await sql`delete from servers where endpoint_id = ${e0.agent.endpointId}`.execute(t.store.db);
    await expectExact('servers deleted');
    // A finding on a server of another fingerprint (server_key moved), and a severity change.
    await sql`update findings set server_key = ${remote.serverKey}, severity_rank = 4 where endpoint_id = ${e1.agent.endpointId}`.execute(t.store.db);
    await expectExact('finding moved');
  });

  test("the triggers read the changed row's endpoint by primary key, never a whole group (no ANALYZE statistics)", async () => {
    const ddl = (await sql<{ sql: string }>`select sql from sqlite_master where type = 'trigger' and tbl_name in ('servers', 'findings')`.execute(t.store.db)).rows.map((r) => r.sql);
    expect(ddl).toHaveLength(6);
    expect((await sql`select name from sqlite_master where name = 'sqlite_stat1'`.execute(t.store.db)).rows).toEqual([]);
    // Every subquery of servers or findings inside a trigger (balanced parentheses), its old./new. references bound.
    const subqueries = (text: string): string[] => {
      const out: string[] = [];
      for (let i = text.indexOf('(select '); i >= 0; i = text.indexOf('(select ', i + 1)) {
        let depth = 0;
        for (let j = i; j < text.length; j++) {
          depth += text[j] === '(' ? 1 : text[j] === ')' ? -1 : 0;
          if (depth === 0) {
            out.push(text.slice(i + 1, j));
            break;
          }
        }
      }
      return out;
    };
    const reads = [...new Set(ddl.flatMap(subqueries))].filter((q) => / from (servers|findings) \w+ where /.test(q));
    expect(reads.length).toBeGreaterThanOrEqual(5);
    for (const read of reads) {
      const bound = read.replace(/\b(new|old)\.\w+/g, "'x'").replace(/fingerprint_risk\.severity_rank/g, '1');
      const plan = (await sql.raw<{ detail: string }>(`explain query plan ${bound}`).execute(t.store.db)).rows.map((r) => r.detail).join(' | ');
      expect({ read, plan }).toEqual({ read, plan: expect.stringMatching(/^SEARCH \w+ USING (PRIMARY KEY|(COVERING )?INDEX \w+) \(endpoint_id=\?[^|]*$/) });
    }
  });

  test('the migration backfills a database that already has servers and findings', async () => {
    const github = serverEntry('github');
    const e0 = await enrolled(t.store, hostInfo({ hostname: 'b0', hardwareUuid: 'hw-b0' }));
    const e1 = await enrolled(t.store, hostInfo({ hostname: 'b1', hardwareUuid: 'hw-b1' }));
    await e0.sender.send([snapshot(e0.agent.endpointId, e0.host, { servers: [github, serverEntry('github', { client: 'vscode' })], findings: [finding('secret-in-env', 'high', github)] })]);
    await e1.sender.send([snapshot(e1.agent.endpointId, e1.host, { servers: [github, serverEntry('shell')] })]);
    // Back to before 0018: no aggregates, no triggers; then migrate.
    for (const name of ['servers_groups_insert', 'servers_groups_update', 'servers_groups_delete', 'findings_risk_insert', 'findings_risk_update', 'findings_risk_delete']) {
      await sql.raw(`drop trigger ${name}`).execute(t.store.db);
    }
    for (const table of ['server_name_groups', 'server_name_variants', 'fingerprint_risk']) await sql.raw(`drop table ${table}`).execute(t.store.db);
    await sql`delete from kysely_migration where name = '0018_server_name_groups'`.execute(t.store.db);
    await t.store.migrate();
    const a = await aggregates();
    expect(a.stored).toEqual(a.recomputed);
    expect(a.stored.groups).toHaveLength(2);
    const page = await t.store.listServers({ name: 'github', limit: 10 });
    expect(page.items).toEqual([expect.objectContaining({ names: ['github'], endpointCount: 2, entryCount: 3, maxSeverity: 'high' })]);
    // And the triggers are back.
    await e1.sender.send([snapshot(e1.agent.endpointId, e1.host, { servers: [] })]);
    const b = await aggregates();
    expect(b.stored).toEqual(b.recomputed);
  });
});

describe.each(await engineCases())('listServers(name) answers (%s)', (engine) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(engine);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  test('counts distinct endpoints and entries per fingerprint, most prevalent first, with the highest open finding', async () => {
    const github = serverEntry('github');
    const other = serverEntry('github', { version: '2.0.0', configPath: '/Users/alice/work/.cursor/mcp.json' });
    const e0 = await enrolled(t.store, hostInfo({ hostname: 'n0', hardwareUuid: 'hw-n0' }));
    const e1 = await enrolled(t.store, hostInfo({ hostname: 'n1', hardwareUuid: 'hw-n1' }));
    await e0.sender.send([snapshot(e0.agent.endpointId, e0.host, { servers: [github, serverEntry('github', { client: 'vscode' })], findings: [finding('secret-in-env', 'medium', github)] }, new Date('2026-06-01T10:00:00.000Z'))]);
    await e1.sender.send([snapshot(e1.agent.endpointId, e1.host, { servers: [github, other] }, new Date('2026-06-01T11:00:00.000Z'))]);
    const page = await t.store.listServers({ name: 'github', limit: 10 });
    expect(page.items.map((g) => [g.fingerprint, g.endpointCount, g.entryCount, g.maxSeverity, g.clients, g.packageVersion])).toEqual([
      [github.fingerprint, 2, 3, 'medium', ['cursor', 'vscode'], '1.0.0'],
      [other.fingerprint, 1, 1, null, ['cursor'], '2.0.0'],
    ]);
    expect(page.items[0]).toMatchObject({ firstSeen: '2026-06-01T10:00:00.000Z', lastSeen: '2026-06-01T11:00:00.000Z', names: ['github'], transport: 'stdio', command: 'npx' });
    const first = await t.store.listServers({ name: 'github', limit: 1 });
    expect(first.items.map((g) => g.fingerprint)).toEqual([github.fingerprint]);
    expect((await t.store.listServers({ name: 'github', limit: 1, cursor: first.nextCursor! })).items.map((g) => g.fingerprint)).toEqual([other.fingerprint]);
  });
});

describe.each(await engineCases())('a snapshot resets only the rows it does not list (%s)', (engine) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(engine);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  test('listed rows keep their state (last_seen moves forward only), unlisted rows and findings go', async () => {
    const a = serverEntry('a');
    const b = serverEntry('b');
    const fa = finding('secret-in-env', 'high', a);
    const fb = finding('secret-in-env', 'medium', b);
    const e = await enrolled(t.store, hostInfo({ hostname: 'r0', hardwareUuid: 'hw-r0' }));
    const t1 = new Date('2026-06-01T10:00:00.000Z');
    const t2 = new Date('2026-06-01T11:00:00.000Z');
    await e.sender.send([snapshot(e.agent.endpointId, e.host, { servers: [a, b], findings: [fa, fb] }, t1)]);
    const again = () => e.sender.send([snapshot(e.agent.endpointId, e.host, { servers: [a], findings: [fa] }, t2)]);
    const reads = engine === 'sqlite' ? await statementsRunBy(again) : (await again(), []);
    const rows = async () =>
      Object.fromEntries(
        (await t.store.db.selectFrom('servers').select(['name', 'present', 'removed_at', 'first_seen', 'last_seen']).where('endpoint_id', '=', e.agent.endpointId).execute()).map((r) => [r.name, { ...r, present: Number(r.present) }]),
      );
    expect(await rows()).toEqual({
      a: { name: 'a', present: 1, removed_at: null, first_seen: t1.toISOString(), last_seen: t2.toISOString() },
      b: { name: 'b', present: 0, removed_at: t2.toISOString(), first_seen: t1.toISOString(), last_seen: t1.toISOString() },
    });
    const findings = await t.store.db.selectFrom('findings').select(['finding_id', 'status', 'resolved_at']).where('endpoint_id', '=', e.agent.endpointId).orderBy('finding_id').execute();
    expect(Object.fromEntries(findings.map((f) => [f.finding_id, [f.status, f.resolved_at]]))).toEqual({ [fa.id]: ['open', null], [fb.id]: ['resolved', t2.toISOString()] });
    if (engine === 'sqlite') {
      // a's row is not written whole (no upsert carries its key), only its last_seen; b's goes by key.
      const writes = reads.filter((r) => /^(insert into|update) "servers"/.test(r.sql));
      expect(writes.filter((w) => /^insert/.test(w.sql)).some((w) => w.params.includes(a.serverKey))).toBe(false);
      expect(writes.some((w) => /set "present" = \?/.test(w.sql) && w.params.includes(b.serverKey) && !w.params.includes(a.serverKey))).toBe(true);
    }
    // An older snapshot listing a again leaves its last_seen where it is.
    await e.sender.send([snapshot(e.agent.endpointId, e.host, { servers: [a], findings: [fa] }, t1)]);
    expect((await rows()).a).toEqual({ name: 'a', present: 1, removed_at: null, first_seen: t1.toISOString(), last_seen: t2.toISOString() });
  });
});
