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
  // Where the database lives, and how to remove it once the store is closed.
  let target: { options: CreateStoreOptions; remove(): Promise<void> };
  if (engine === 'sqlite') {
    const dataDir = mkdtempSync(join(tmpdir(), 'mcpw-store-'));
    target = { options: { dataDir }, remove: async () => rmSync(dataDir, { recursive: true, force: true }) };
  } else {
    const pgSchema = uniqueSchemaName();
    target = { options: { databaseUrl: TEST_PG_URL, pgSchema, poolMax: 4 }, remove: () => dropSchema(pgSchema) };
  }
  const options = { ...target.options, ...extra };
  const store = await createStore(options);
  return {
    store,
    options,
    cleanup: async () => {
      await store.close();
      await target.remove();
    },
  };
}
