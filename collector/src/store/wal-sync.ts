/**
 * fdatasync of a SQLite database's write-ahead log on libuv's thread pool, so an ack's durability
 * wait does not block the event loop (issue 15). A COMMIT at synchronous=FULL fsyncs the WAL
 * inside the COMMIT call, on the event loop's thread: measured on the bench box (load 2.3, 16 x
 * 4 KiB rows per commit) FULL commits took p50 0.87 / p99 26 / max 73 ms against 0.05 / 3.7 / 8.9
 * ms at NORMAL, so one slow fsync held every request and the projector for tens of ms.
 *
 * Contract: `sync()` resolves after an fdatasync of the WAL that STARTED after the call, so every
 * frame a COMMIT wrote before the call is on disk (checkpoints in between sync the WAL and the
 * database themselves at NORMAL, so frames copied out of the WAL are durable too). Calls made while
 * a sync runs share the next one (group commit over fsync: one per round, however many groups
 * committed meanwhile). Rejects when the WAL cannot be opened or synced. `close()` waits for the
 * sync in flight, then closes the descriptor.
 */
import { open, type FileHandle } from 'node:fs/promises';

export class WalSync {
  #fd: FileHandle | null = null;
  #inflight: Promise<void> | null = null;
  #next: Promise<void> | null = null;
  #closed = false;
  /** fdatasync calls made (tests and benchmarks). */
  syncs = 0;

  constructor(readonly walPath: string) {}

  sync(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`write-ahead log ${this.walPath}: closed`));
    if (this.#inflight === null) {
      this.#inflight = this.#run().finally(() => {
        this.#inflight = null;
      });
      return this.#inflight;
    }
    // One is running: it may have started before the caller's COMMIT; wait for the next one.
    this.#next ??= this.#inflight
      .catch(() => undefined)
      .then(() => {
        this.#next = null;
        return this.sync();
      });
    return this.#next;
  }

  async #run(): Promise<void> {
    this.#fd ??= await open(this.walPath, 'r+');
    this.syncs++;
    await this.#fd.datasync();
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#next?.catch(() => undefined);
    await this.#inflight?.catch(() => undefined);
    await this.#fd?.close().catch(() => undefined);
    this.#fd = null;
  }
}
