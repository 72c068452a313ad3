/**
 * @mcpwatch/collector: the collector service (buildApp, config, CA) and its store.
 */
export { buildApp, LOG_REDACT_PATHS, type AppDeps } from './app.js';
export { CONFIG_TABLE, loadConfig, redactedConfig, configHelp, type CollectorConfig, type ConfigSources, type NamedSecret } from './config.js';
export { CollectorError, Errors, isCollectorError } from './errors.js';
export { CertificateAuthority, loadOrCreateCa, createCaMaterial, caPaths } from './ca/certificate-authority.js';
export { CollectorMetrics } from './metrics.js';
export { validateBatch, warmBatchValidator } from './batch-validator.js';
export { boundedGunzip } from './routes/batches.js';
export { hashSecret } from './secret-hash.js';
export { main as collectorMain } from './server-cli.js';
export type { CollectorContext } from './collector-context.js';
// outlets: sinks and outbox drainers
export * from './sinks/index.js';
export { OutboxDrainer, type DrainerOptions, type CycleResult } from './outbox/drainer.js';
export { OutletMetrics } from './outbox/outlet-metrics.js';
export { outboxPlugin, outletsOf, type Outlets } from './outbox/outbox-plugin.js';
export { createStore, type CreateStoreOptions } from './store/index.js';
export { findingTransitionId } from './store/projection.js';
export type { Store, OutboxRow, IngestInput, EnrollInput, AgentRow } from './store/types.js';
// dashboard: the background server summary (timed by npm run bench:dashboard)
export { computeServerSummary } from './dashboard/server-summary.js';
