/**
 * The tool watcher's schedule: a kick (the inventory saw a new MCP server process) brings polls
 * forward at the kick delays, on top of the poll interval; nothing before start() or after stop().
 * A poll that left due listeners for later (the per-poll probe bound) is followed by another soon.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SocketRow } from '../../../src/platform/source-types.js';
import { ToolWatcher } from '../../../src/tools/tool-watcher.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await sleep(10);
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

describe('ToolWatcher kick', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mcpw-kick-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const make = (polls: number[]) =>
    new ToolWatcher({
      endpointId: 'ep-kick',
      stateDir: dir,
      socketSource: async () => {
        polls.push(Date.now());
        return { ok: true, rows: [] };
      },
      knowledge: () => ({ mcpPids: new Set<number>(), servers: [] }),
      // The interval alone would not poll again during the test.
      pollIntervalMs: 3_600_000,
      kickDelaysMs: [20, 60, 120],
      onEvent: () => undefined,
    });

  it('polls once per kick delay after a kick, and again for a later kick', async () => {
    const polls: number[] = [];
    const w = make(polls);
    w.kick(); // before start: nothing
    w.start();
    await waitFor(() => polls.length === 1, 'the first poll');
    const kickedAt = Date.now();
    w.kick();
    w.kick(); // a second kick at once adds no poll: its times are covered
    await waitFor(() => polls.length === 4, 'three polls after the kick');
    expect(polls.slice(1).every((t) => t >= kickedAt)).toBe(true);
    await sleep(300);
    expect(polls).toHaveLength(4);
    w.kick();
    await waitFor(() => polls.length === 7, 'three polls after another kick');
    await w.stop();
    w.kick(); // after stop: nothing
    await sleep(200);
    expect(polls).toHaveLength(7);
  });

  it('a kick during a running poll is served after it', async () => {
    const polls: number[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const w = new ToolWatcher({
      endpointId: 'ep-kick', stateDir: dir,
      socketSource: async () => {
        polls.push(Date.now());
        if (polls.length === 1) await gate;
        return { ok: true, rows: [] };
      },
      knowledge: () => ({ mcpPids: new Set<number>(), servers: [] }),
      pollIntervalMs: 3_600_000, kickDelaysMs: [20, 60, 120], onEvent: () => undefined,
    });
    w.start();
    await waitFor(() => polls.length === 1, 'the first poll');
    w.kick();
    release();
    await waitFor(() => polls.length === 4, 'three polls after the kick');
    await w.stop();
  });
});

describe('ToolWatcher backlog', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mcpw-backlog-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('polls again soon while listeners wait behind the per-poll bound, then at the interval', async () => {
    const rows: SocketRow[] = Array.from({ length: 10 }, (_, i) => ({
      protocol: 'tcp', localAddress: '127.0.0.1', localPort: 40_000 + i, peerAddress: null, peerPort: null, state: 'LISTEN', pid: 5000 + i, processName: 'svc',
    }));
    const probedPorts: number[] = [];
    let polls = 0;
    const w = new ToolWatcher({
      endpointId: 'ep-backlog', stateDir: dir,
      socketSource: async () => {
        polls++;
        return { ok: true, rows };
      },
      knowledge: () => ({ mcpPids: new Set<number>(), servers: [] }),
      prober: {
        maxProbesPerPoll: 4,
        probeOtherListeners: () => true,
        probe: async (t) => {
          probedPorts.push(t.port);
          return { kind: 'not-mcp', reason: 'http-404' };
        },
      },
      pollIntervalMs: 3_600_000, backlogPollMs: 20, onEvent: () => undefined,
    });
    w.start();
    await waitFor(() => probedPorts.length === 10, 'every listener probed');
    expect(polls).toBe(3); // 4 + 4 + 2
    expect(new Set(probedPorts).size).toBe(10);
    await sleep(200);
    expect(polls).toBe(3); // nothing left: back to the (hour-long) interval
    await w.stop();
  });

  it('takes on a backlog only up to the fresh probes a minute allows, then waits for the minute', async () => {
    const rows: SocketRow[] = Array.from({ length: 40 }, (_, i) => ({
      protocol: 'tcp', localAddress: '127.0.0.1', localPort: 41_000 + i, peerAddress: null, peerPort: null, state: 'LISTEN', pid: 6000 + i, processName: 'svc',
    }));
    let probes = 0;
    let polls = 0;
    const w = new ToolWatcher({
      endpointId: 'ep-backlog', stateDir: dir,
      socketSource: async () => {
        polls++;
        return { ok: true, rows };
      },
      knowledge: () => ({ mcpPids: new Set<number>(), servers: [] }),
      prober: { maxProbesPerPoll: 4, probeOtherListeners: () => true, probe: async () => (probes++, { kind: 'not-mcp', reason: 'http-404' }) },
      pollIntervalMs: 3_600_000, backlogPollMs: 10, backlogFreshPerMinute: 8, onEvent: () => undefined,
    });
    w.start();
    await waitFor(() => probes === 8, 'two polls of probes');
    await sleep(300);
    expect(probes).toBe(8);
    expect(polls).toBe(2);
    await w.stop();
  });
});
