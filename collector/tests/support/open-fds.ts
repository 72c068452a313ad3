/**
 * Which files this process holds open, read from /proc/self/fd: how tests see that a store (its
 * connection, its checkpoint worker, the query listener's worker thread) closed its database,
 * -wal and -shm files.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** Descriptors of this process that point at `pathPrefix` (the database, or its -wal / -shm files). */
export function openFds(pathPrefix: string): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(join('/proc/self/fd', fd));
      if (target.startsWith(pathPrefix)) out.push(target);
    } catch {
      // the descriptor closed while we listed (readdir's own one, for instance)
    }
  }
  return out;
}
