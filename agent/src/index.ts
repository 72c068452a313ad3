/**
 * @mcpwatch/agent public API: the CLI entry, scanning, diffing and watching, and the types
 * between the agent's parts. Everything else is internal.
 */
export { main, EXIT_FAILURE, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE } from './cli.js';
export { COMMANDS, type Command, type CommandIO } from './commands/index.js';
export { localEndpointId } from './commands/watch.js';
export {
  ALL_SOURCES,
  assembleInventory,
  classifyRuntime,
  runScan,
  scanConfigs,
  snapshotRuntime,
  type ConfigState,
  type NormalizeOutcome,
  type ScanRulesInput,
  type RuntimeSnapshot,
  type RuntimeState,
  type ScanDeps,
  type ScanOptions,
  type ScanOutcome,
  type ScanSources,
} from './scan.js';
export { defaultScanDeps } from './scan-deps.js';
export { buildScanContext, type ContextOptions } from './scan-context.js';
export { diffInventories, EMPTY_INVENTORY, type DiffableInventory } from './diff.js';
export { InventoryWatcher, DEFAULT_DEBOUNCE_MS, DEFAULT_PROCESS_INTERVAL_MS, type InventoryWatcherOptions, type WatchDeps } from './watch/inventory-watcher.js';
export { formatInventoryTable } from './format/inventory-table.js';
export type { ProcessRow, ProcessSource } from './collect/process-source.js';
export type { SocketRow, SocketSource } from './collect/socket-source.js';
export { AgentError, UsageError } from './errors.js';
export type * from './types.js';
export * from './pipeline/index.js';
