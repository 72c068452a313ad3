/**
 * The collector's store: `createStore()` opens SQLite (a file in the data dir; the embedded
 * default) or PostgreSQL (when a `postgres://` URL is given), applies the migrations and returns
 * the one Store interface of ./types.ts.
 *
 * Failure contract: an unreachable database rejects with MCPW_ERR_STORE_UNAVAILABLE; a bad URL or
 * schema name with MCPW_ERR_CONFIG.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { Errors } from '../errors.js';
import type { Database } from './db-schema.js';
import { KyselyStore, classifyStoreError } from './kysely-store.js';
import { startCheckpointer } from './sqlite-checkpointer.js';
import { openSqliteConnection, openSqliteReadOnly } from './sqlite-connection.js';
import { openPgConnections, openPgReadOnly } from './pg-connection.js';
import type { Store } from './types.js';

export * from './types.js';
export type { HistoryProblem, HistoryProblemKind, HistoryReport, VerifyHistoryOptions } from './history-verifier.js';
export { KyselyStore, classifyStoreError } from './kysely-store.js';
export { sinkWantsEvent, SECURITY_HUB_SINK } from './sink-routing.js';
export { encodeCursor, decodeCursor, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './inventory-queries.js';

/** File name of the SQLite database inside the data dir. */
export const SQLITE_FILE = 'mcpwatch.sqlite';

export interface CreateStoreOptions {
  /** Data dir for the SQLite file (created if missing). Required when no databaseUrl is given. */
  dataDir?: string;
  /** `postgres://` or `postgresql://` URL: use PostgreSQL instead of SQLite. */
  databaseUrl?: string;
  /** PostgreSQL schema for the tables (created if missing); default: the connection's search_path. */
  pgSchema?: string;
  /** PostgreSQL pool size (default 10). */
  poolMax?: number;
  /** Apply migrations before returning (default true). */
  migrate?: boolean;
  /** Clock, for tests. */
  now?: () => Date;
  /**
   * Run the projector in the background (default true). false: nothing is projected unless the
   * caller runs awaitProjection() (benchmarks of the append path alone, tests of crash recovery).
   */
  project?: boolean;
  /** Most log rows per projection transaction (default 64). */
  maxProjectionBatch?: number;
  /** Background projector errors. */
  onProjectorError?: (e: unknown) => void;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Opens the store named by `opts` and (by default) migrates it to the latest schema. */
export async function createStore(opts: CreateStoreOptions): Promise<Store & KyselyStore> {
  const store = opts.databaseUrl ? openPostgres(opts) : openSqlite(opts);
  if (opts.migrate !== false) {
    try {
      await store.migrate();
    } catch (e) {
      await store.close().catch(() => undefined);
      throw classifyStoreError(e);
    }
  }
  if (opts.project !== false) store.startProjector();
  return store;
}

function openSqlite(opts: CreateStoreOptions): KyselyStore {
  if (!opts.dataDir) throw Errors.config('store: dataDir is required when DATABASE_URL is not set');
  const file = join(opts.dataDir, SQLITE_FILE);
  let db: Kysely<Database>;
  try {
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    db = openSqliteConnection(file);
  } catch (e) {
    throw Errors.storeUnavailable(`cannot open SQLite database in ${opts.dataDir}: ${(e as Error).message}`, { cause: e });
  }
  const checkpointer = startCheckpointer(file);
  return new KyselyStore({
    engine: 'sqlite',
    db,
    beforeClose: () => checkpointer.stop(),
    sqliteFile: file,
    ...projectorOptions(opts),
  });
}

function openPostgres(opts: CreateStoreOptions): KyselyStore {
  const url = opts.databaseUrl!;
  if (!/^postgres(ql)?:\/\//.test(url)) throw Errors.config('DATABASE_URL must start with postgres:// or postgresql://');
  if (opts.pgSchema !== undefined && !SCHEMA_NAME.test(opts.pgSchema)) {
    throw Errors.config('store: pgSchema must be letters, digits and _ (at most 63), starting with a letter or _');
  }
  const { db, projectorDb } = openPgConnections(url, { ...(opts.pgSchema ? { pgSchema: opts.pgSchema } : {}), ...(opts.poolMax !== undefined ? { poolMax: opts.poolMax } : {}) });
  return new KyselyStore({ engine: 'postgres', db, projectorDb, ...(opts.pgSchema ? { pgSchema: opts.pgSchema } : {}), ...projectorOptions(opts) });
}

function projectorOptions(opts: CreateStoreOptions): Partial<ConstructorParameters<typeof KyselyStore>[0]> {
  return {
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.maxProjectionBatch !== undefined ? { maxProjectionBatch: opts.maxProjectionBatch } : {}),
    ...(opts.onProjectorError ? { onProjectorError: opts.onProjectorError } : {}),
  };
}

/** Where an open store's database is, to open it again read-only (KyselyStore.sqliteFile / pgSchema). */
export type ReadOnlyStoreTarget = { sqliteFile: string } | { databaseUrl: string; pgSchema?: string };

/**
 * Opens the database of another store read-only (the query listener's worker): no migrations, no
 * projector, no checkpointer; the connection itself refuses writes (SQLite: read-only file and
 * query_only; PostgreSQL: read-only sessions in a pool of `poolMax`, default 4). The file or
 * schema must exist already (the collector opened and migrated it). `recordTokenUse`: where an API
 * token's last use goes (this store cannot write it; without it, finding a token due for a use
 * record fails like any write).
 */
export function openReadOnlyStore(target: ReadOnlyStoreTarget, opts: { poolMax?: number; recordTokenUse?: (tokenHash: string) => void } = {}): KyselyStore {
  const tokens = opts.recordTokenUse ? { recordTokenUse: opts.recordTokenUse } : {};
  if ('sqliteFile' in target) {
    let db: Kysely<Database>;
    try {
      db = openSqliteReadOnly(target.sqliteFile);
    } catch (e) {
      throw Errors.storeUnavailable(`cannot open SQLite database ${target.sqliteFile} read-only: ${(e as Error).message}`, { cause: e });
    }
    return new KyselyStore({ engine: 'sqlite', db, ...tokens });
  }
  const { databaseUrl, pgSchema } = target;
  if (pgSchema !== undefined && !SCHEMA_NAME.test(pgSchema)) throw Errors.config('store: pgSchema must be letters, digits and _ (at most 63), starting with a letter or _');
  const db = openPgReadOnly(databaseUrl, { ...(pgSchema ? { pgSchema } : {}), ...(opts.poolMax !== undefined ? { poolMax: opts.poolMax } : {}) });
  return new KyselyStore({ engine: 'postgres', db, ...(pgSchema ? { pgSchema } : {}), ...tokens });
}
