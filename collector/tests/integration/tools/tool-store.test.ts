/**
 * The tool projection and fleet queries on both real engines: SQLite (better-sqlite3, a file) and
 * PostgreSQL (the local server, a fresh schema per run). Tool events are built with the shared
 * event builder and validated by the shared schema, as an agent sends them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { makeEvent, type McpEvent, type ToolRecord } from '@mcpwatch/shared';
import { toolMigration } from '../../../src/tools/tool-migration.js';
import { projectToolEvents } from '../../../src/tools/tool-projection.js';
import { endpointsExposing, fleetDivergence, listTools, toolsOfEndpoint } from '../../../src/tools/tool-queries.js';
import { dropSchema, engineCases, TEST_PG_URL, uniqueSchemaName } from '../../support/pg.js';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const H = (c: string) => c.repeat(64);

function tool(over: Partial<ToolRecord>): ToolRecord {
  return {
    serverId: 'fp-github', serverKey: 'sk1', serverName: 'github', serverVersion: '1.2.0', protocolVersion: '2025-06-18', source: 'probe', sourcePath: null,
    name: 'create_issue', title: null, descriptionSha256: H('a'), inputSchemaSha256: H('b'), annotationsSha256: null, annotations: {}, instructionsSha256: null, capabilities: [],
    ...over,
  };
}
const ev = (type: 'tool.added' | 'tool.removed', endpointId: string, t: ToolRecord): McpEvent => makeEvent(type, endpointId, t);

async function open(engine: 'sqlite' | 'postgres'): Promise<{ db: AnyDb; close: () => Promise<void> }> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mcpw-tools-'));
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(path.join(dir, 'c.db')) }) }); // eslint-disable-line @typescript-eslint/no-explicit-any
    return { db, close: async () => { await db.destroy(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const schema = uniqueSchemaName('tools');
  const pool = new pg.Pool({ connectionString: TEST_PG_URL, max: 2 });
  pool.on('connect', (c) => void c.query(`set search_path to "${schema}"`));
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) }); // eslint-disable-line @typescript-eslint/no-explicit-any
  await sql`create schema ${sql.id(schema)}`.execute(db);
  return { db, close: async () => { await db.destroy(); await dropSchema(schema); } };
}

describe.each(await engineCases())('tool projection and queries (%s)', (engine) => {
  let db: AnyDb;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await open(engine));
    await toolMigration().up(db);
    await toolMigration().up(db); // idempotent
  });
  afterAll(async () => close());

  it('projects added/removed tools and answers by name, server, capability, prevalence and endpoint', async () => {
    await db.transaction().execute(async (trx) => {
      for (const ep of ['ep1', 'ep2', 'ep3']) await projectToolEvents(trx, ep, [ev('tool.added', ep, tool({}))], '2026-12-06T00:00:00Z');
      await projectToolEvents(trx, 'ep1', [
        ev('tool.added', 'ep1', tool({ serverId: 'listener:0.0.0.0:8080', serverName: 'shell', serverVersion: null, name: 'run_command', capabilities: ['shell-exec'], description: 'Run a shell command' })),
        ev('tool.added', 'ep1', tool({ name: 'delete_repo', capabilities: ['file-write'] })),
        ev('tool.removed', 'ep1', tool({ name: 'delete_repo', capabilities: ['file-write'] })),
      ], '2026-12-06T00:00:01Z');
    });
    const all = await listTools(db);
    expect(all[0]).toMatchObject({ serverId: 'fp-github', name: 'create_issue', endpoints: 3, descriptionVariants: 1 });
    expect(all.map((t) => t.name)).not.toContain('delete_repo');
    expect(await listTools(db, { capability: 'shell-exec' })).toEqual([{ serverId: 'listener:0.0.0.0:8080', serverName: 'shell', name: 'run_command', endpoints: 1, descriptionVariants: 1, capabilities: ['shell-exec'] }]);
    expect((await listTools(db, { server: 'github' })).map((t) => t.name)).toEqual(['create_issue']);
    expect((await endpointsExposing(db, 'create_issue')).map((r) => r.endpointId)).toEqual(['ep1', 'ep2', 'ep3']);
    const ep1 = await toolsOfEndpoint(db, 'ep1');
    expect(ep1.map((t) => t.name)).toEqual(['create_issue', 'run_command']);
    expect(ep1.find((t) => t.name === 'run_command')).toMatchObject({ description: 'Run a shell command', annotations: {}, serverVersion: null });
    expect(ep1.find((t) => t.name === 'create_issue')?.description).toBeUndefined();
  });

  it('finds fleet divergence: the same server version exposing another description on one endpoint', async () => {
    await db.transaction().execute(async (trx) => {
      await projectToolEvents(trx, 'ep3', [makeEvent('tool.changed', 'ep3', { ...tool({ descriptionSha256: H('f') }), changedFields: ['description'], previousDescriptionSha256: H('a'), previousInputSchemaSha256: H('b'), previousServerVersion: '1.2.0' })], '2026-12-06T00:01:00Z');
    });
    const div = await fleetDivergence(db);
    expect(div).toEqual([{
      serverId: 'fp-github', serverName: 'github', serverVersion: '1.2.0', name: 'create_issue',
      majority: { descriptionSha256: H('a'), inputSchemaSha256: H('b'), endpoints: 2 },
      divergent: [{ endpointId: 'ep3', descriptionSha256: H('f'), inputSchemaSha256: H('b') }],
    }]);
    expect((await listTools(db, { name: 'create_issue' }))[0]).toMatchObject({ endpoints: 3, descriptionVariants: 2 });
  });
});
