/**
 * What a quarantine took out, kept on the endpoint so restore can put it back: per server, in
 * `<stateDir>/containment/quarantine/`, `<id>.orig` (the config file's bytes before the edit) and
 * `<id>.json` (the record below), both owner-only and written atomically, the original first. The
 * record holds the removed entry's value (env values included): it never leaves the state dir,
 * is never logged and never sent. `<id>` is a hash of the serverKey (safe as a file name).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { EditFormat } from '../config-edit/index.js';
import { ensurePrivateDir, readJsonFile, writeFileDurable } from '../spool/durable-file.js';

export interface QuarantineRecord {
  serverKey: string;
  commandId: string;
  client: string;
  name: string;
  /** The file edited (symlinks resolved). */
  configPath: string;
  format: EditFormat;
  keyPath: string[];
  /** The removed entry as parsed. */
  value: unknown;
  /** The removed bytes when the editor cut a contiguous text (TOML). */
  removedText?: string;
  originalSha256: string;
  quarantinedSha256: string;
  quarantinedAt: string;
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export class QuarantineStore {
  private readonly dir: string;

  constructor(stateDir: string) {
    this.dir = path.join(stateDir, 'containment', 'quarantine');
    ensurePrivateDir(this.dir);
  }

  private base(serverKey: string): string {
    return path.join(this.dir, sha256(`serverKey/${serverKey}`).slice(0, 40));
  }

  /** The record of a quarantined server, or null. Throws on an unreadable record. */
  get(serverKey: string): QuarantineRecord | null {
    return readJsonFile<QuarantineRecord>(`${this.base(serverKey)}.json`);
  }

  original(serverKey: string): Buffer {
    return fs.readFileSync(`${this.base(serverKey)}.orig`);
  }

  /** Keeps the original bytes, then the record. Throws the fs error. */
  put(record: QuarantineRecord, original: Uint8Array): void {
    writeFileDurable(`${this.base(record.serverKey)}.orig`, original);
    writeFileDurable(`${this.base(record.serverKey)}.json`, JSON.stringify(record));
  }

  /** Forgets a server's quarantine (after a restore, or when the edit was not made). */
  delete(serverKey: string): void {
    fs.rmSync(`${this.base(serverKey)}.json`, { force: true });
    fs.rmSync(`${this.base(serverKey)}.orig`, { force: true });
  }
}
