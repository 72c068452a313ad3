/**
 * The tool watcher's schedule: a kick (the inventory saw a new MCP server process) brings polls
 * forward at the kick delays, on top of the poll interval; nothing before start() or after stop().
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
