/**
 * The SQLite ingest worker (see sqlite-ingest-writer.ts): its own connection to the database file,
 * the same KyselyStore ingest code, one message per batch. Not imported by anything but the writer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { KyselyStore } from './kysely-store.js';
import { openSqliteConnection } from './sqlite-connection.js';
import type { IngestInput } from './types.js';
import type { WriterData, WriterReply } from './sqlite-ingest-writer.js';

const data = workerData as WriterData;
const store = new KyselyStore({ engine: 'sqlite', db: openSqliteConnection(data.file, { mustExist: true }) });
const port = parentPort!;

port.on('message', (m: { id: number; input: IngestInput } | { close: true }) => {
  if ('close' in m) {
    void store.close().finally(() => port.close());
    return;
  }
  store.ingestBatch(m.input).then(
    (ok) => port.postMessage({ id: m.id, ok } satisfies WriterReply),
    (e: unknown) => {
      const err = e as { code?: unknown; statusCode?: unknown; message?: unknown; retryAfterS?: unknown };
      port.postMessage({
        id: m.id,
        error: {
          message: typeof err?.message === 'string' ? err.message : String(e),
          ...(typeof err?.code === 'string' ? { code: err.code } : {}),
          ...(typeof err?.statusCode === 'number' ? { statusCode: err.statusCode } : {}),
          ...(typeof err?.retryAfterS === 'number' ? { retryAfterS: err.retryAfterS } : {}),
        },
      } satisfies WriterReply);
    },
  );
});
