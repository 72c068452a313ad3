/**
 * Moves SQLite WAL checkpoints off the ingest path. With synchronous=NORMAL a commit does not
 * fsync; a checkpoint (copying the WAL into the database file) does, and SQLite's automatic
 * checkpoint runs it inside whichever commit crosses the threshold, stalling ingest. Here a worker
 * thread with its own connection runs PASSIVE checkpoints every `intervalMs`, concurrently with
 * the writer. The main connection keeps a high automatic threshold as a backstop, so the WAL stays
 * bounded even if the worker stops.
 *
 * The worker's code is inline (no file to locate at runtime, so the collector can be bundled); it
 * loads better-sqlite3 from the path the main thread resolved. Failures in the worker are
 * reported once through `onError` and the worker exits; ingest continues with the backstop.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driverPath);
let db;
try {
  db = new Database(workerData.file, { fileMustExist: true });
  db.pragma('busy_timeout = 1000');
} catch (e) {
  parentPort.postMessage({ error: String(e && e.message || e) });
  parentPort.close();
}
const timer = db && setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); }
  catch (e) { if (!/busy|locked/i.test(String(e && e.message))) { parentPort.postMessage({ error: String(e && e.message || e) }); clearInterval(timer); db.close(); } }
}, workerData.intervalMs);
parentPort.on('message', (m) => { if (m === 'stop') { clearInterval(timer); try { db.close(); } catch {} parentPort.close(); } });
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

/** Starts the checkpoint worker for the SQLite database at `file`. */
export function startCheckpointer(file: string, opts: { intervalMs?: number; onError?: (message: string) => void } = {}): Checkpointer {
  const driverPath = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driverPath, intervalMs: opts.intervalMs ?? 250 } });
  worker.unref();
  worker.on('message', (m: { error?: string }) => {
    if (m?.error) opts.onError?.(m.error);
  });
  worker.on('error', (e) => opts.onError?.(e.message));
  let exited = false;
  const exit = new Promise<void>((resolve) => worker.once('exit', () => {
    exited = true;
    resolve();
  }));
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        void exit.then(resolve);
        if (exited) return;
        // Keep the process alive until the worker has exited: unref'd, a caller awaiting stop()
        // (store.close()) in a process with nothing else to do would see the process end first.
        worker.ref();
        worker.postMessage('stop');
        // Bounded: a worker stuck in a checkpoint is terminated.
        const kill = setTimeout(() => void worker.terminate(), 2000);
        void exit.then(() => clearTimeout(kill));
      });
      return stopped;
    },
  };
}
