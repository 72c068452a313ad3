/**
 * Where the tool prober (tools/tool-watcher.ts) gets this machine's listening TCP sockets: on
 * Linux the /proc listener table (linux/listener-source.ts: nothing spawned per poll, owners looked
 * up once per socket, the `priority` pids' at once and the rest by a rate-limited walk; rows carry
 * the socket's inode), falling back to `fallback` (the platform's socket source, called without a
 * scope) when /proc/net cannot be read; elsewhere `fallback`, called without a scope. The Linux
 * module loads on first use.
 */
import os from 'node:os';
import type { SocketSource } from './source-types.js';

export function listenerSource(fallback: SocketSource, priority: () => ReadonlySet<number> = () => new Set(), platform: string = os.platform()): SocketSource {
  if (platform !== 'linux') return () => fallback();
  let table: import('./linux/listener-source.js').ProcListenerSource | null = null;
  return async () => {
    table ??= (await import('./linux/listener-source.js')).createProcListenerSource();
    const rows = await table(priority());
    return rows.ok ? rows : fallback();
  };
}
