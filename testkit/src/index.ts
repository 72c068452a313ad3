/**
 * @mcpwatch/testkit: the fakes and harnesses of every package's tests, imported by name. Nothing
 * here runs in production; it depends only on @mcpwatch/shared (no workspace cycle).
 */
export * from './harness/test-agent.js';
export * from './fakes/fake-batch-collector.js';
export * from './fakes/fake-enroll-server.js';
export * from './fakes/fault-proxy.js';
export * from './fakes/kinesalite-server.js';
export * from './fakes/securityhub-fake.js';
export * from './wait-for.js';
export * from './processes.js';
export * from './harness/enrolled-state.js';
