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

const probes = new Map<string, Promise<PgProbe>>();

/** Whether the PostgreSQL at `url` answers `select 1` (probed once per process and URL). */
export function probePostgres(url: string = TEST_PG_URL): Promise<PgProbe> {
  let probe = probes.get(url);
  if (!probe) {
    probe = (async () => {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
      try {
        await client.connect();
        await client.query('select 1');
        return { ok: true } as const;
      } catch (e) {
        return { ok: false, reason: `PostgreSQL at ${url.replace(/\/\/[^@/]*@/, '//')} is unreachable: ${(e as Error).message}` } as const;
      } finally {
        await client.end().catch(() => undefined);
      }
    })();
    probes.set(url, probe);
  }
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
export async function engineCases(
  opts: { url?: string; env?: Record<string, string | undefined>; warn?: (message: string) => void } = {},
): Promise<EngineName[]> {
  const p = await probePostgres(opts.url);
  if (p.ok) return ['sqlite', 'postgres'];
  if ((opts.env ?? process.env).CI === 'true') throw new Error(`CI=true and ${p.reason}: PostgreSQL tests must run under CI`);
  (opts.warn ?? console.warn)(`SKIPPED PostgreSQL store tests: ${p.reason}`);
  return ['sqlite'];
}
