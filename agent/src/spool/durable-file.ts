/**
 * Small durable files: write-to-temp, fsync, rename, fsync the directory. A reader sees either the
 * old or the new content, never a torn mix, even after kill -9 or power loss. (writeFileAtomic:
 * the same without the fsyncs, for reports of the moment.)
 * Files are created owner-only (0600) because some hold keys or agent state.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hostOs, type OsSpec } from '../platform/os.js';

/** Atomically replace `file` with `data` (mode 0600 by default). Throws the fs error on failure. */
export function writeFileDurable(file: string, data: string | Uint8Array, mode = 0o600): void {
  replaceFile(file, data, mode, true);
  fsyncDir(path.dirname(file));
}

/**
 * Replace `file` with `data` atomically (a reader sees the old or the new content) but without
 * fsync: for files that are only a report of the moment (health.json, rewritten at every
 * heartbeat), where a power loss may cost the latest version but never a torn one, and the two
 * fsyncs (file and folder) would be most of the write's cost, every minute, on every endpoint.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): void {
  replaceFile(file, data, mode, false);
}

function replaceFile(file: string, data: string | Uint8Array, mode: number, sync: boolean): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w', mode);
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    if (sync) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** fsync a directory so a rename or unlink in it is durable. Skipped where the OS cannot (Windows). */
export function fsyncDir(dir: string, spec: OsSpec = hostOs()): void {
  if (!spec.fsyncsDirectories) return;
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // some filesystems refuse fsync on directories; the rename itself is still atomic
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Parse a JSON file; null when it is missing. Throws SyntaxError on bad JSON (caller decides). */
export function readJsonFile<T>(file: string): T | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  return JSON.parse(text) as T;
}

/** Create a directory (and parents) owner-only. */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
}
