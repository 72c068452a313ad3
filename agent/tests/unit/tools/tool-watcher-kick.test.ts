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

  /** A watcher over `count` listeners of other processes, 4 probes a poll, every probe not MCP; counts polls and probed ports. */
  function backlogWatcher(count: number, extra: { backlogPollMs: number; backlogFreshPerMinute?: number }) {
    const rows: SocketRow[] = Array.from({ length: count }, (_, i) => ({
      protocol: 'tcp', localAddress: '127.0.0.1', localPort: 40_000 + i, peerAddress: null, peerPort: null, state: 'LISTEN', pid: 5000 + i, processName: 'svc',
    }));
    const seen = { polls: 0, probed: [] as number[] };
    const watcher = new ToolWatcher({
      endpointId: 'ep-backlog', stateDir: dir,
      socketSource: async () => {
        seen.polls++;
        return { ok: true, rows };
      },
      knowledge: () => ({ mcpPids: new Set<number>(), servers: [] }),
      prober: {
        maxProbesPerPoll: 4,
        probeOtherListeners: () => true,
        probe: async (t) => {
          seen.probed.push(t.port);
          return { kind: 'not-mcp', reason: 'http-404' };
        },
      },
      // The interval alone would not poll again during the test.
      pollIntervalMs: 3_600_000, onEvent: () => undefined, ...extra,
    });
    return { watcher, seen };
  }

  it('polls again soon while listeners wait behind the per-poll bound, then at the interval', async () => {
    const { watcher, seen } = backlogWatcher(10, { backlogPollMs: 20 });
    watcher.start();
    await waitFor(() => seen.probed.length === 10, 'every listener probed');
    expect(seen.polls).toBe(3); // 4 + 4 + 2
    expect(new Set(seen.probed).size).toBe(10);
    await sleep(200);
    expect(seen.polls).toBe(3); // nothing left: back to the (hour-long) interval
    await watcher.stop();
  });

  it('takes on a backlog only up to the fresh probes a minute allows, then waits for the minute', async () => {
    const { watcher, seen } = backlogWatcher(40, { backlogPollMs: 10, backlogFreshPerMinute: 8 });
    watcher.start();
    await waitFor(() => seen.probed.length === 8, 'two polls of probes');
    await sleep(300);
    expect(seen.probed).toHaveLength(8);
    expect(seen.polls).toBe(2);
    await watcher.stop();
  });
});
