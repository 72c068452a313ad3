/** Normalizes raw entries as the scan does: the servers, and every warning and error as problems. */
import type { ConfigError, ServerEntry } from '@mcpwatch/shared';
import { normalizeEntry } from '../../src/normalize/index.js';
import type { RawServerEntry } from '../../src/types.js';

export function normalizeAll(entries: readonly RawServerEntry[]): { servers: ServerEntry[]; problems: ConfigError[] } {
  const servers: ServerEntry[] = [];
  const problems: ConfigError[] = [];
  for (const e of entries) {
    const r = normalizeEntry(e);
    if (r.ok) {
      servers.push(r.server);
      problems.push(...r.warnings);
    } else problems.push(r.error);
  }
  return { servers, problems };
}
