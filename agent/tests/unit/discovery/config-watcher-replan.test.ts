/**
 * ConfigWatcher re-plans with specs that did not change (the same array: the inventory keeps them
 * while no project is added) and still follows the folders as they appear; new specs (a new array)
 * are taken at the next re-plan. Real chokidar watchers on a temp folder; existence from a stat the
 * test controls.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigWatcher } from '../../../src/discovery/config-watcher.js';
import type { StatKind, WatchSpec } from '../../../src/discovery/watch-plan.js';
import { defaultScanDeps } from '../../../src/inventory/scan-deps.js';
import type { ScanContext } from '../../../src/types.js';

describe('ConfigWatcher re-plan', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mcpw-replan-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('follows folders that appear with the same specs array, and takes a new array at the next re-plan', async () => {
    const cursor = path.join(dir, '.cursor');
    const vscode = path.join(dir, '.vscode');
    let specs: WatchSpec[] = [{ path: path.join(cursor, 'mcp.json'), kind: 'file', depth: 0 }];
    const existing = new Set([dir]);
    const stat: StatKind = (p) => (existing.has(p) || p === path.parse(p).root || !p.startsWith(dir) ? 'dir' : null);
    let asked = 0;
    const w = new ConfigWatcher({ specs: () => (asked++, specs), onChange: () => undefined, onError: (e) => { throw e; }, stat });
    await w.start();
    expect(w.watchedRoots()).toEqual([{ dir, depth: 0 }]);
    await w.replan();
    expect(w.watchedRoots()).toEqual([{ dir, depth: 0 }]);
    mkdirSync(cursor);
    existing.add(cursor);
    await w.replan();
    expect(w.watchedRoots()).toEqual([{ dir: cursor, depth: 0 }]);
    mkdirSync(vscode);
    existing.add(vscode);
    specs = [...specs, { path: path.join(vscode, 'mcp.json'), kind: 'file', depth: 0 }];
    await w.replan();
    expect(w.watchedRoots().map((r) => r.dir).sort()).toEqual([cursor, vscode]);
    expect(asked).toBe(4);
    await w.close();
  });

  it('the run deps hand out the same specs while neither the context nor the known projects changed', async () => {
    const deps = defaultScanDeps();
    const ctx: ScanContext = { platform: 'linux', homes: [{ user: 'alice', home: dir }], projectRoots: [], env: {}, systemRoot: path.join(dir, 'sys') };
    const first = deps.watchSpecs(ctx);
    expect(deps.watchSpecs(ctx)).toBe(first);
    expect(first.length).toBeGreaterThan(10);
    const other = { ...ctx, homes: [{ user: 'bob', home: path.join(dir, 'bob') }] } as ScanContext;
    expect(deps.watchSpecs(other)).not.toBe(first);
  });
});
