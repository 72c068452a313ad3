/**
 * What the run-mode runtime tests share: a real HTTP collector (testkit's FakeCollector, verifying
 * signatures and chains) started before and closed after each test, an enrolled state dir for it,
 * runtimes shut down after each test, and a watch engine that only emits a given snapshot.
 * `runtimeRig()` registers the beforeEach/afterEach hooks of the calling test file.
 */
import type { KeyObject } from 'node:crypto';
import { makeEvent, type InventoryDocument } from '@mcpwatch/shared';
import { enrolledStateDir, FakeCollector } from '@mcpwatch/testkit';
import type { AgentRuntime, WatchEngine, WatchEngineOptions } from '../../src/runtime/agent-runtime.js';

/** A watch engine (without setProcessIntervalMs) that emits `doc` as a snapshot on its first start. */
export class SnapshotEngine implements WatchEngine {
  constructor(
    readonly o: WatchEngineOptions,
    private readonly doc: InventoryDocument,
  ) {}
  async start(): Promise<void> {
    if (this.o.emitSnapshot) {
      const { host, clients, servers, processes, sockets, findings, errors } = this.doc;
      this.o.onEvent(makeEvent('inventory.snapshot', this.o.endpointId, { host, clients, servers, processes, sockets, findings, errors }));
    }
  }
  async stop(): Promise<void> {}
  current(): InventoryDocument {
    return this.doc;
  }
}

export interface RuntimeRig {
  /** This test's collector (a new one per test). */
  readonly collector: FakeCollector;
  /** A state dir enrolled with this test's collector. */
  stateDir(): string;
  /** Shuts `runtime` down after the test; returns it. */
  track<R extends AgentRuntime>(runtime: R): R;
}

export function runtimeRig(o: { agentId: string; endpointId: string; publicKey: KeyObject; privateKey: KeyObject; prefix: string }): RuntimeRig {
  let collector: FakeCollector | null = null;
  const runtimes: AgentRuntime[] = [];
  beforeEach(async () => {
    collector = new FakeCollector(new Map([[o.agentId, o.publicKey]]));
    await collector.listen();
  });
  afterEach(async () => {
    for (const r of runtimes.splice(0)) await r.shutdown();
    await collector?.close();
    collector = null;
  });
  return {
    get collector(): FakeCollector {
      if (!collector) throw new Error('runtimeRig: the collector exists only inside a test');
      return collector;
    },
    stateDir: () => enrolledStateDir({ agentId: o.agentId, endpointId: o.endpointId, server: (collector as FakeCollector).url, privateKey: o.privateKey, prefix: o.prefix }),
    track(runtime) {
      runtimes.push(runtime);
      return runtime;
    },
  };
}
