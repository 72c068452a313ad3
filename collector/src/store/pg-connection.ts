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
  return {
    db: openPool(url, opts.pgSchema, [], { max: opts.poolMax ?? 10, idleTimeoutMillis: 30000 }),
    projectorDb: openPool(url, opts.pgSchema, [], { max: 1, idleTimeoutMillis: 0 }),
  };
}

/**
 * A small read-only pool on `url` (the query listener's worker): every session starts with
 * default_transaction_read_only on, so PostgreSQL refuses any write made through it.
 */
export function openPgReadOnly(url: string, opts: { pgSchema?: string; poolMax?: number } = {}): Kysely<Database> {
  return openPool(url, opts.pgSchema, ['-c default_transaction_read_only=on'], { max: opts.poolMax ?? 4, idleTimeoutMillis: 30000 });
}

function openPool(url: string, pgSchema: string | undefined, settings: string[], sizing: { max: number; idleTimeoutMillis: number }): Kysely<Database> {
  const options = [...(pgSchema ? [`-c search_path=${pgSchema}`] : []), ...settings].join(' ');
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 5000, ...(options ? { options } : {}), ...sizing });
  pool.on('error', () => undefined);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
