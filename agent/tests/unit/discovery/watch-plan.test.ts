import { createRelevance, MAX_WATCH_ROOTS, nearestExistingDir, planWatchRoots, type StatKind, type WatchSpec } from '../../../src/discovery/watch-plan.js';

/** One-off relevance of `p` through the real index. */
const relevanceOf = (p: string, specs: readonly WatchSpec[]) => createRelevance(specs)(p);

function fakeFs(dirs: string[], files: string[] = []): StatKind {
  return (p) => (dirs.includes(p) ? 'dir' : files.includes(p) ? 'file' : null);
}

describe('watch plan', () => {
  const specs: WatchSpec[] = [
    { path: '/h/.claude.json', kind: 'file', depth: 0 },
    { path: '/h/.config/Claude/claude_desktop_config.json', kind: 'file', depth: 0 },
    { path: '/h/.cursor/mcp.json', kind: 'file', depth: 0 },
    { path: '/h/.claude/plugins', kind: 'dir', depth: 6 },
    { path: '/h/.continue/mcpServers', kind: 'dir', depth: 0 },
  ];

  it('watches the parent of file targets and the nearest existing ancestor of missing ones', () => {
    const stat = fakeFs(['/', '/h', '/h/.cursor', '/h/.claude', '/h/.claude/plugins'], ['/h/.cursor/mcp.json']);
    expect(planWatchRoots(specs, stat)).toEqual([
      { dir: '/h', depth: 0 },
      { dir: '/h/.claude/plugins', depth: 6 },
      { dir: '/h/.cursor', depth: 0 },
    ]);
  });

  it('moves the watch down as folders appear', () => {
    const stat = fakeFs(['/', '/h', '/h/.config', '/h/.config/Claude', '/h/.continue', '/h/.continue/mcpServers']);
    expect(planWatchRoots(specs, stat)).toEqual([
      { dir: '/h', depth: 0 },
      { dir: '/h/.config/Claude', depth: 0 },
      { dir: '/h/.continue/mcpServers', depth: 0 },
    ]);
  });

  it('finds no root when nothing above exists', () => {
    expect(nearestExistingDir('/nope/a/b', fakeFs([]))).toBeNull();
    expect(planWatchRoots([{ path: '/nope/x.json', kind: 'file', depth: 0 }], fakeFs([]))).toEqual([]);
  });

  it('tells targets, folders on the way and unrelated paths apart', () => {
    expect(relevanceOf('/h/.cursor/mcp.json', specs)).toBe('target');
    expect(relevanceOf('/h/.claude/plugins/x/.mcp.json', specs)).toBe('target');
    expect(relevanceOf('/h/.config', specs)).toBe('ancestor');
    expect(relevanceOf('/h/.config/Claude', specs)).toBe('ancestor');
    expect(relevanceOf('/h/.bashrc', specs)).toBe('none');
    expect(relevanceOf('/h/.cursor/other.json', specs)).toBe('none');
  });

  it('indexes many homes once and stays bounded', () => {
    const many: WatchSpec[] = [];
    for (let i = 0; i < 6000; i++) {
      many.push({ path: `/home/u${i}/.cursor/mcp.json`, kind: 'file', depth: 0 }, { path: `/home/u${i}/.claude/plugins`, kind: 'dir', depth: 6 });
    }
    const rel = createRelevance(many);
    expect(rel('/home/u5999/.cursor/mcp.json')).toBe('target');
    expect(rel('/home/u42/.claude/plugins/a/b/.mcp.json')).toBe('target');
    expect(rel('/home/u42/.claude')).toBe('ancestor');
    expect(rel('/home/u42/Documents')).toBe('none');
    const roots = planWatchRoots(many, (p) => (p.split('/').length <= 3 ? 'dir' : null));
    expect(roots).toHaveLength(MAX_WATCH_ROOTS);
  });
});
