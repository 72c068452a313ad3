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
} from './inventory/scan.js';
export { defaultScanDeps } from './inventory/scan-deps.js';
export { buildScanContext, type ContextOptions } from './inventory/scan-context.js';
export { diffInventories, EMPTY_INVENTORY, type DiffableInventory } from './inventory/diff.js';
export { InventoryWatcher, DEFAULT_DEBOUNCE_MS, DEFAULT_PROCESS_INTERVAL_MS, type InventoryWatcherOptions, type WatchDeps } from './inventory/inventory-watcher.js';
export { formatInventoryTable } from './inventory/inventory-table.js';
export { LONG_RUNNING_NODE_OPTIONS } from './runtime/launch.js';
export type { ProcessRow, ProcessSource, SocketRow, SocketSource } from './platform/source-types.js';
export { platformSources } from './platform/index.js';
export { listenerSource } from './platform/listener-source.js';
export { createWindowsProcessSource, createWindowsSocketSource, type WindowsSourceDeps } from './platform/win32/sources.js';
export { probeMcp, PROBE_DEFAULTS, type ProbeOutcome, type ProbeOptions, type ProbeTarget } from './probe/mcp-probe.js';
export { ListenerProber, listenerCandidates, type ListenerCandidate, type SocketMcpServer } from './probe/listener-prober.js';
export { ToolWatcher, type ToolWatcherOptions } from './tools/tool-watcher.js';
export type * from './types.js';
// Run mode: spool, shipper, enrollment, runtime, config.
export { Spool, inspectSpool, encodeFrame, type SpoolOptions, type SpoolStats, type SpoolPosition, type FsyncPolicy } from './spool/spool.js';
export { Shipper, readShipperState, type ShipperOptions, type ShipperState, type ShipperReport } from './ship/shipper.js';
export { HttpClient, checkCollectorUrl, normalizeFingerprint, type HttpClientOptions } from './ship/http-client.js';
export { enroll, loadIdentity, renewalDue, makeCsr, type AgentIdentity, type EnrollmentRecord } from './enroll/enroll-client.js';
export { AgentRuntime, acquireRunLock, type EventSink, type WatchEngine, type WatchEngineOptions, type Logger, type LogLevel } from './runtime/agent-runtime.js';
export { createLogger } from './runtime/logger.js';
export { AgentError, UsageError, PipelineError, AgentCodes } from './errors.js';
export { AGENT_VERSION } from './runtime/agent-version.js';
export { crc32 } from './spool/crc32.js';
export { loadConfig, describeConfig } from './config/load-config.js';
export { CONFIG_TABLE, configDefaults, type AgentConfig } from './config/config-table.js';
export { appendJournal, readJournal, pruneJournal, DEFAULT_JOURNAL_MAX_BYTES } from './hooks/hook-journal.js';
