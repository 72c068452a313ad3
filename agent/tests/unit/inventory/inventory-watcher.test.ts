import type { McpEvent } from '@mcpwatch/shared';
import type { ProcessRow, SocketRow } from '../../../src/platform/source-types.js';
import { InventoryWatcher, type WatchDeps } from '../../../src/inventory/inventory-watcher.js';
import type { ScanContext } from '../../../src/types.js';
import { row } from '../../helpers/records.js';

const CTX: ScanContext = { platform: 'linux', homes: [{ user: 'u', home: '/nonexistent/u' }], env: {}, projectRoots: [], systemRoot: '/nonexistent' };

function fakeDeps(state: { rows: ProcessRow[]; sockets: SocketRow[]; socketReads: number; rulesRuns: number }): WatchDeps {
  return {
    discover: async () => ({ files: [], clients: [], errors: [] }),
    normalize: () => ({ ok: false, error: { path: '', code: 'x', reason: 'x' } }),
    evaluateRules: () => {
      state.rulesRuns++;
      return [];
    },
    processSource: async () => ({ ok: true, rows: state.rows }),
    socketSource: async () => {
      state.socketReads++;
      return { ok: true, rows: state.sockets };
    },
    hostFacts: async () => ({ hostname: 'h', osName: null, osRelease: null, arch: null, hardwareUuid: null, serial: null }),
    resolveHosts: async () => new Map(),
    resolveUser: () => 'u',
    redact: (s) => s,
    signatures: () => [],
    selfPids: new Set(),
    watchSpecs: () => [],
  };
}

describe('InventoryWatcher (runtime polling)', () => {
  it('emits a snapshot, then process/socket events on change, and nothing (no rules, no socket read) when nothing moved', async () => {
    const state = { rows: [row(1, 0, '/sbin/init')], sockets: [] as SocketRow[], socketReads: 0, rulesRuns: 0 };
    const events: McpEvent[] = [];
    const w = new InventoryWatcher(
      { ctx: CTX, sources: { configs: false, processes: true, sockets: true }, endpointId: 'ep', processIntervalMs: 60_000, onEvent: (e) => events.push(e) },
      fakeDeps(state),
    );
    await w.start();
    expect(events.map((e) => e.type)).toEqual(['inventory.snapshot']);
    expect(state.socketReads).toBe(0); // no MCP process: the socket table is not read

    state.rows = [...state.rows, row(50, 1, 'npm exec mcp-server-time')];
    state.sockets = [{ protocol: 'tcp', localAddress: '0.0.0.0', localPort: 7000, peerAddress: null, peerPort: null, state: 'LISTEN', pid: 50, processName: 'node' }];
    await w.pollNow();
    expect(events.slice(1).map((e) => e.type)).toEqual(['process.started', 'socket.opened']);
    const rulesAfterChange = state.rulesRuns;

    await w.pollNow();
    expect(events).toHaveLength(3);
    expect(state.rulesRuns).toBe(rulesAfterChange);

    state.rows = [row(1, 0, '/sbin/init')];
    await w.pollNow();
    expect(events.slice(3).map((e) => e.type)).toEqual(['process.stopped', 'socket.closed']);
    await w.stop();
    await w.stop();
  });

  it('keeps watching when the event consumer throws, and reports it', async () => {
    const state = { rows: [] as ProcessRow[], sockets: [] as SocketRow[], socketReads: 0, rulesRuns: 0 };
    const errors: string[] = [];
    const w = new InventoryWatcher(
      {
        ctx: CTX, sources: { configs: false, processes: true, sockets: false }, endpointId: 'ep', processIntervalMs: 60_000,
        onEvent: () => { throw new Error('sink down'); },
        onError: (e) => errors.push(e.code),
      },
      fakeDeps(state),
    );
    await w.start();
    state.rows = [row(9, 1, 'mcp-server-x')];
    await w.pollNow();
    expect(errors).toEqual(['MCPW_ERR_WATCH_SINK', 'MCPW_ERR_WATCH_SINK']);
    expect(w.current()?.processes.map((p) => p.pid)).toEqual([9]);
    await w.stop();
  });
});
