/**
 * Replaces a user's config file atomically: the new bytes go to a temporary file in the same
 * directory (same file system), are fsync'ed, get the original's mode and owner, and are renamed
 * over it; the directory is fsync'ed. A reader (the user's MCP client) sees the old file or the new
 * one, never a torn mix. Throws the fs error (EACCES, EPERM, ...) with the original untouched; the
 * temporary file is removed on failure.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { hostOs } from '../platform/os.js';
import { fsyncDir } from '../spool/durable-file.js';

/** Writes `data` over `file`, keeping its mode and (when permitted) its owner and group. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const st = fs.statSync(file);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.mcpwatch-${randomBytes(4).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'wx', st.mode & 0o7777);
  try {
    try {
      fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
      fs.fsyncSync(fd);
      fs.fchmodSync(fd, st.mode & 0o7777);
      if (hostOs().posixModes && (st.uid !== process.getuid?.() || st.gid !== process.getgid?.())) fs.fchownSync(fd, st.uid, st.gid);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(path.dirname(file));
}
