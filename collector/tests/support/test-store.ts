/**
 * Opens a real store for a test on either engine: SQLite in a fresh temp dir, or PostgreSQL in a
 * fresh schema. `cleanup()` closes it and removes the dir / drops the schema.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStore, type CreateStoreOptions } from '../../src/store/index.js';
import { dropSchema, TEST_PG_URL, uniqueSchemaName, type EngineName } from './pg.js';

export interface TestStore {
  store: Awaited<ReturnType<typeof createStore>>;
  /** How to open the same database again (a second collector process on it). */
  options: CreateStoreOptions;
  cleanup(): Promise<void>;
}

export async function openTestStore(engine: EngineName, extra: Partial<CreateStoreOptions> = {}): Promise<TestStore> {
  if (engine === 'sqlite') {
    const dataDir = mkdtempSync(join(tmpdir(), 'mcpw-store-'));
    const options = { dataDir, ...extra };
    const store = await createStore(options);
    return {
      store,
      options,
      cleanup: async () => {
        await store.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const pgSchema = uniqueSchemaName();
  const options = { databaseUrl: TEST_PG_URL, pgSchema, poolMax: 4, ...extra };
  const store = await createStore(options);
  return {
    store,
    options,
    cleanup: async () => {
      await store.close();
      await dropSchema(pgSchema);
    },
  };
}
