/**
 * Dead letters: batches the collector refused for good (a 4xx that is not retryable), kept as
 * files in `<stateDir>/dead-letter/` so a person can see what was refused and why, instead of a
 * silent drop. Bounded (STYLE.md habit 3): past `maxBytes` the oldest files are removed and
 * counted; the newest is always kept. Each file holds the batch body as sent, its seq, the
 * answer's status, code and error, and when it was put there. Throws the fs error when the
 * directory cannot be written (the shipper reports it and retries).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensurePrivateDir, writeFileDurable } from '../spool/durable-file.js';
import type { PendingBatch } from './batch-builder.js';

export interface DeadLetterReason {
  status?: number;
  code?: string;
  error: string;
}

export class DeadLetters {
  readonly dir: string;

  constructor(
    stateDir: string,
    private readonly maxBytes: number,
  ) {
    this.dir = path.join(stateDir, 'dead-letter');
  }

  /** Stores `b` with why it was refused; returns the file and how many old files were dropped. */
  put(b: PendingBatch, why: DeadLetterReason, now: number = Date.now()): { file: string; dropped: number } {
    ensurePrivateDir(this.dir);
    const file = path.join(this.dir, `${String(now).padStart(15, '0')}-seq${b.seq}.json`);
    const record = { agentId: b.agentId, seq: b.seq, status: why.status ?? null, code: why.code ?? null, error: why.error, deadLetteredAt: new Date(now).toISOString(), events: b.count, body: b.body };
    writeFileDurable(file, JSON.stringify(record));
    return { file, dropped: this.bound() };
  }

  /** Removes the oldest files past maxBytes (never the newest); returns how many went. */
  private bound(): number {
    const files = fs.readdirSync(this.dir).filter((n) => n.endsWith('.json')).sort();
    let total = 0;
    const sizes = files.map((n) => {
      const s = fs.statSync(path.join(this.dir, n)).size;
      total += s;
      return s;
    });
    let dropped = 0;
    for (let i = 0; i < files.length - 1 && total > this.maxBytes; i++) {
      fs.rmSync(path.join(this.dir, files[i]!), { force: true });
      total -= sizes[i]!;
      dropped++;
    }
    return dropped;
  }
}
