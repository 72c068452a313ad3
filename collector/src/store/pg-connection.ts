/**
 * PostgreSQL connections as the store uses them (the counterpart of sqlite-connection.ts): the
 * shared pool (ingest, queries, outbox) and the projector's own session, a pool of one that is
 * never recycled while idle because it holds the partition advisory locks (a new session would
 * have lost them; ownership is re-read from pg_locks anyway). An idle client losing its connection
 * must not crash the process: the next query reports it.
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './db-schema.js';

export interface PgConnections {
  db: Kysely<Database>;
  projectorDb: Kysely<Database>;
}

/** Opens both pools on `url` (tables in `pgSchema` when given); connects lazily. */
export function openPgConnections(url: string, opts: { pgSchema?: string; poolMax?: number } = {}): PgConnections {
  const common = { connectionString: url, connectionTimeoutMillis: 5000, ...(opts.pgSchema ? { options: `-c search_path=${opts.pgSchema}` } : {}) };
  const pool = new pg.Pool({ ...common, max: opts.poolMax ?? 10, idleTimeoutMillis: 30000 });
  pool.on('error', () => undefined);
  const projectorPool = new pg.Pool({ ...common, max: 1, idleTimeoutMillis: 0 });
  projectorPool.on('error', () => undefined);
  return {
    db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }),
    projectorDb: new Kysely<Database>({ dialect: new PostgresDialect({ pool: projectorPool }) }),
  };
}
