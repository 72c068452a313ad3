/**
 * PostgreSQL test harness shared by the collector's tests: probes the real server, gives every
 * test run its own schema (t_<random>) and drops it afterwards, so helpers running tests at the
 * same time never see each other's rows.
 *
 * When PostgreSQL is unreachable the PostgreSQL cases announce that they are skipped and why;
 * under CI=true that is a failure instead (see `pgEngineCases`).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The test server: 127.0.0.1:5432, database `test`, trust auth (override with MCPWATCH_TEST_PG_URL). */
export const TEST_PG_URL = process.env.MCPWATCH_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type PgProbe = { ok: true } | { ok: false; reason: string };

let probe: Promise<PgProbe> | undefined;

/** Whether the test PostgreSQL answers `select 1` (probed once per process). */
export function probePostgres(): Promise<PgProbe> {
  probe ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('select 1');
      return { ok: true } as const;
    } catch (e) {
      return { ok: false, reason: `PostgreSQL at ${TEST_PG_URL} is unreachable: ${(e as Error).message}` } as const;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return probe;
}

/** A fresh schema name, unique per call. */
export function uniqueSchemaName(prefix = 't'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** Drops `schema` and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema.replace(/"/g, '')}" cascade`);
  } finally {
    await client.end();
  }
}

export type EngineName = 'sqlite' | 'postgres';

/**
 * The engines a store test suite runs on: always sqlite; postgres when reachable. When it is
 * not, a warning names the reason; under CI=true the unreachable server throws (a failure).
 * Use with top-level await: `describe.each(await engineCases())('store (%s)', ...)`.
 */
export async function engineCases(): Promise<EngineName[]> {
  const p = await probePostgres();
  if (p.ok) return ['sqlite', 'postgres'];
  if (process.env.CI === 'true') throw new Error(`CI=true and ${p.reason}: PostgreSQL tests must run under CI`);
  console.warn(`SKIPPED PostgreSQL store tests: ${p.reason}`);
  return ['sqlite'];
}
