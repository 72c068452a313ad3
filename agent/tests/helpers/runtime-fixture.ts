/**
 * Per-test collector and agent runtime for end-to-end runtime tests: before each test a real
 * FakeCollector (HTTP) that trusts `agentId`'s key is listening; after each test the runtime the
 * test stored in `runtime` (if any) is shut down and the collector closed. Call at the top level of
 * a test file, before any hook that removes files the runtime may still be writing.
 */
import type { KeyObject } from 'node:crypto';
import { FakeCollector } from '@mcpwatch/testkit';
import type { AgentRuntime } from '../../src/runtime/agent-runtime.js';

export interface RuntimeFixture {
  /** The current test's collector (set before each test). */
  collector: FakeCollector;
  /** The runtime the test started; shut down after the test. */
  runtime: AgentRuntime | null;
}

export function collectorRuntimeFixture(agentId: string, publicKey: KeyObject): RuntimeFixture {
  const fx = { runtime: null } as RuntimeFixture;
  beforeEach(async () => {
    fx.collector = new FakeCollector(new Map([[agentId, publicKey]]));
    await fx.collector.listen();
  });
  afterEach(async () => {
    await fx.runtime?.shutdown();
    fx.runtime = null;
    await fx.collector.close();
  });
  return fx;
}
