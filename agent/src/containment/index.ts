/**
 * Containment on the endpoint: verify the signed commands of a batch ack, quarantine / restore
 * server entries in client configs, report the outcomes as events.
 */
export { ContainmentExecutor, type ContainmentExecutorOptions } from './containment-executor.js';
export { verifyIncoming, shapeProblem, type Verdict } from './command-verifier.js';
export { ReplayStore, DEFAULT_MAX_SEEN_COMMANDS } from './replay-store.js';
export { QuarantineStore, type QuarantineRecord } from './quarantine-store.js';
export { locateEntry, type Located } from './server-locator.js';
