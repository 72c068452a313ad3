/**
 * containment/replay-store.ts: repeats and replays told apart, persisted across restarts, bounded
 * without ever letting a forgotten command back in (the floor), and an unreadable file fails safe.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ReplayStore } from '../../../src/containment/index.js';
import { command, makeCa } from './command-keys.js';

const ca = makeCa();
const dirs: string[] = [];
function stateDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-replay-'));
  dirs.push(d);
  return d;
}
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('ReplayStore', () => {
  test('new, then repeat for the same signed command, replayed for its nonce under another id; kept across a restart', () => {
    const dir = stateDir();
    const c = command(ca, 'quarantine', 'ep', 'k');
    const s = new ReplayStore(dir);
    expect(s.check(c)).toBe('new');
    s.remember(c, Date.now());
    expect(s.check(c)).toBe('repeat');
    const again = new ReplayStore(dir);
    expect(again.check(c)).toBe('repeat');
    expect(again.check(command(ca, 'quarantine', 'ep', 'k', { nonce: c.nonce }))).toBe('replayed');
    expect(again.check(command(ca, 'restore', 'ep', 'k', { id: c.id }))).toBe('replayed');
  });

  test('bounded: past maxEntries the oldest is forgotten and the floor refuses anything issued before it', () => {
    const dir = stateDir();
    const s = new ReplayStore(dir, 3);
    const t0 = Date.now();
    const cs = [0, 1, 2, 3, 4].map((i) => command(ca, 'quarantine', 'ep', `k${i}`, {}, t0 + i * 1000));
    for (const c of cs) s.remember(c, t0);
    expect(s.size()).toBe(3);
    expect(s.check(cs[0]!)).toBe('replayed');
    expect(s.check(cs[1]!)).toBe('replayed');
    expect(s.check(cs[4]!)).toBe('repeat');
    expect(s.check(command(ca, 'quarantine', 'ep', 'k9', {}, t0 + 10_000))).toBe('new');
  });

  test('an unreadable file: a warning, and commands issued before now are refused', () => {
    const dir = stateDir();
    fs.mkdirSync(path.join(dir, 'containment'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'containment', 'seen-commands.json'), '{not json');
    const s = new ReplayStore(dir);
    expect(s.warning).toMatch(/unreadable/);
    expect(s.check(command(ca, 'quarantine', 'ep', 'k', {}, Date.now() - 60_000))).toBe('replayed');
    expect(s.check(command(ca, 'quarantine', 'ep', 'k', {}, Date.now() + 60_000))).toBe('new');
  });
});
