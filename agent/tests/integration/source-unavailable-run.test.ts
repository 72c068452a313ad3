/**
 * Run mode with a socket source that fails (issue 17): the runtime with the real inventory watcher,
 * the real process source and a real process that looks like an MCP server (so the socket table is
 * read at every poll), the rules engine wired as commands/run.ts wires it, shipping to a real HTTP
 * collector (testkit's FakeCollector, which verifies signatures). Polls are driven directly
 * (pollNow) and the interval is an hour, so nothing depends on timing:
 *  - every heartbeat carries the failing socket source (code, reason, since), schema-valid;
 *  - `source-unavailable` is raised at the configured threshold (3 polls, 0 ms), not before;
 *  - when the source answers again, the finding is resolved and the heartbeat has no sourceErrors.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { generateKeyPairSync } from 'node:crypto';
import type { Finding, McpEvent } from '@mcpwatch/shared';
import { AgentRuntime } from '../../src/runtime/agent-runtime.js';
import { configDefaults, type AgentConfig } from '../../src/config/config-table.js';
import { InventoryWatcher } from '../../src/inventory/inventory-watcher.js';
import { buildScanContext } from '../../src/inventory/scan-context.js';
import { defaultScanDeps, rulesEvaluator } from '../../src/inventory/scan-deps.js';
import { AgentCodes, AgentError } from '../../src/errors.js';
import type { SocketSource } from '../../src/platform/source-types.js';
import { enrolledStateDir, FakeCollector } from '@mcpwatch/testkit';
import { schemaErrors, validateEvent } from '../helpers/schemas.js';

const AGENT = 'ag_source_unavailable';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

let collector: FakeCollector;
let server: ChildProcess;
beforeAll(async () => {
  collector = new FakeCollector(new Map([[AGENT, publicKey]]));
  await collector.listen();
  // A real process whose command line names an MCP server (matched by pattern): it makes the
  // watcher read the socket table at every poll.
  server = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)', 'mcp-server-idle'], { stdio: 'ignore' });
  await once(server, 'spawn');
});
afterAll(async () => {
  server.kill('SIGKILL');
  await collector.close();
});

type Heartbeat = Extract<McpEvent, { type: 'agent.heartbeat' }>;
const heartbeats = (): Heartbeat[] => collector.events().filter((e): e is Heartbeat => e.type === 'agent.heartbeat');
const sourceFindings = (type: 'finding.raised' | 'finding.resolved'): Finding[] =>
  collector.events().filter((e) => e.type === type).map((e) => e.data as Finding).filter((f) => f.ruleId === 'source-unavailable');

test('a failing socket source is in every heartbeat, becomes source-unavailable after 3 polls, and resolves when it answers', async () => {
  // Arrange
  const stateDir = enrolledStateDir({ agentId: AGENT, endpointId: 'ep_source', server: collector.url, privateKey, settings: {}, prefix: 'mcpw-source-unavailable-' });
  const config: AgentConfig = {
    ...configDefaults(), stateDir, processPollMs: 3_600_000, heartbeatMs: 3_600_000, sourceFailurePolls: 3, sourceFailureMs: 0,
    retryBaseMs: 10, retryMaxMs: 50, reconnectJitterMs: 0, batchMaxWaitMs: 10, lowPriority: false, enrollSecret: null,
  };
  const ctx = await buildScanContext({ platform: 'linux', home: stateDir, projectRoots: [], systemRoot: null });
  const real = defaultScanDeps();
  let socketsFail = true;
  let socketReads = 0;
  const socketSource: SocketSource = async (scope) => {
    socketReads += 1;
    return socketsFail ? { ok: false, error: new AgentError(AgentCodes.socketSource, 'netstat -ano exited 1 (injected)') } : real.socketSource(scope);
  };
  let watcher: InventoryWatcher | null = null;
  const runtime: AgentRuntime = new AgentRuntime({
    config,
    createWatcher: (o) =>
      (watcher = new InventoryWatcher(
        {
          ctx, sources: { configs: false, processes: true, sockets: true }, endpointId: o.endpointId, processIntervalMs: o.processIntervalMs, emitSnapshot: o.emitSnapshot,
          sourceFailurePolls: config.sourceFailurePolls, sourceFailureMs: config.sourceFailureMs, onEvent: o.onEvent, onError: o.onError,
        },
        { ...real, socketSource, evaluateRules: rulesEvaluator(() => runtime.rulesOptions()) },
      )),
    hostInfo: async () => ({ hostname: 'h', platform: 'linux', users: [] }),
    log: () => undefined,
  });

  try {
    // Act 1: the start scan (poll 1) and its heartbeat, then poll 2.
    await runtime.start();
    await watcher!.pollNow();
    expect(await runtime.flush()).toBe(true);

    // Assert 1: the heartbeat names the failing source; no finding yet.
    expect(socketReads).toBe(2);
    const first = heartbeats()[0]!;
    expect(schemaErrors(validateEvent, first)).toBe('');
    expect(first.data.sourceErrors).toEqual([{ source: 'sockets', code: 'MCPW_ERR_SOCKET_SOURCE', reason: 'netstat -ano exited 1 (injected)', since: expect.any(String) }]);
    expect(sourceFindings('finding.raised')).toEqual([]);

    // Act 2: poll 3 reaches the threshold.
    await watcher!.pollNow();
    runtime.heartbeatNow();
    expect(await runtime.flush()).toBe(true);

    // Assert 2: raised once, about the socket source; the heartbeat still carries it, same since.
    const raised = sourceFindings('finding.raised');
    expect(raised.map((f) => [f.evidence?.field, f.evidence?.kind])).toEqual([['source.sockets', 'MCPW_ERR_SOCKET_SOURCE']]);
    const later = heartbeats().at(-1)!;
    expect(schemaErrors(validateEvent, later)).toBe('');
    expect(later.data.sourceErrors?.[0]?.since).toBe(first.data.sourceErrors?.[0]?.since);

    // Act 3: the source answers again.
    socketsFail = false;
    await watcher!.pollNow();
    runtime.heartbeatNow();
    expect(await runtime.flush()).toBe(true);

    // Assert 3: resolved, and the last heartbeat has no failing source.
    expect(sourceFindings('finding.resolved').map((f) => f.id)).toEqual(raised.map((f) => f.id));
    expect(heartbeats().at(-1)!.data.sourceErrors).toBeUndefined();
  } finally {
    await runtime.shutdown();
  }
}, 60_000);
