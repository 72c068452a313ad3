/**
 * Migration 0015 (src/store/inventory-fillfactor-migration.ts): on PostgreSQL the tables the
 * projector updates in place leave room on their pages for HOT updates; the rest keep the default.
 */
import { sql } from 'kysely';
import { engineCases } from '../support/pg.js';
import { openTestStore, type TestStore } from '../support/test-store.js';

const pgOnly = (await engineCases()).includes('postgres') ? describe : describe.skip;

pgOnly('inventory fillfactor (postgres)', () => {
  let t: TestStore | undefined;
  afterEach(async () => {
    await t?.cleanup();
    t = undefined;
  });

  test('servers, clients, processes, sockets, config_errors, endpoint_users and endpoint_tools get fillfactor 70; events keeps the default', async () => {
    t = await openTestStore('postgres');
    const { rows } = await sql<{ relname: string; reloptions: string[] | null }>`
      select c.relname, c.reloptions from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = ${t.options.pgSchema!} and c.relkind = 'r'`.execute(t.store.db);
    const options = new Map(rows.map((r) => [r.relname, r.reloptions ?? []]));
    for (const table of ['servers', 'clients', 'processes', 'sockets', 'config_errors', 'endpoint_users', 'endpoint_tools']) {
      expect([table, options.get(table)]).toEqual([table, ['fillfactor=70']]);
    }
    expect(options.get('events')).toEqual([]);
    expect(options.get('endpoints')).toEqual([]);
  });
});
