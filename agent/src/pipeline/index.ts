/**
 * The agent pipeline's public surface (run mode): spool, shipper, enrollment, runtime, config.
 */
export { Spool, inspectSpool, encodeFrame, type SpoolOptions, type SpoolStats, type SpoolPosition, type FsyncPolicy } from './spool.js';
export { Shipper, readShipperState, type ShipperOptions, type ShipperState, type ShipperReport } from './shipper.js';
export { HttpClient, checkCollectorUrl, normalizeFingerprint, type HttpClientOptions } from './http-client.js';
export { enroll, loadIdentity, renewalDue, makeCsr, type AgentIdentity, type EnrollmentRecord } from './enroll-client.js';
export { AgentRuntime, acquireRunLock, type EventSink, type WatchEngine, type WatchEngineOptions, type Logger, type LogLevel } from './agent-runtime.js';
export { createLogger } from './logger.js';
export { PipelineError, PipelineCodes } from './pipeline-errors.js';
export { AGENT_VERSION } from './agent-version.js';
export { crc32 } from './crc32.js';
export { loadConfig, describeConfig } from '../config/load-config.js';
export { CONFIG_TABLE, configDefaults, type AgentConfig } from '../config/config-table.js';
