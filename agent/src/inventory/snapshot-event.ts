/**
 * The `inventory.snapshot` event of an inventory: built here only, for the watcher's start scan
 * and the runtime's periodic snapshots alike. Pure; never throws.
 */
import { makeEvent, type InventoryDocument, type McpEvent } from '@mcpwatch/shared';

/** The whole inventory `d` as one inventory.snapshot event of `endpointId`, at `at` (default now). */
export function snapshotEvent(d: InventoryDocument, endpointId: string, at: Date = new Date()): McpEvent {
  const data = { host: d.host, clients: d.clients, servers: d.servers, processes: d.processes, sockets: d.sockets, findings: d.findings, errors: d.errors };
  return makeEvent('inventory.snapshot', endpointId, data, at);
}
