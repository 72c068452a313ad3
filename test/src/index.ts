export * from './harness/test-agent.js';
