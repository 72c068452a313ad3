/**
 * Watch mode reports skills, hooks and plugins as they change (issue 14): a real InventoryWatcher
 * with the real scan dependencies (chokidar on the extension places, the extension finder) over a
 * temporary home and project; files are written, edited and removed on disk, and each change
 * arrives as extension.added / extension.changed / extension.removed. No timing assertion: each
 * step waits for its event (the test's own timeout bounds a miss).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ExtensionChangedData, ExtensionRecord, McpEvent } from '@mcpwatch/shared';
import { InventoryWatcher } from '../../../src/inventory/inventory-watcher.js';
import { defaultScanDeps } from '../../../src/inventory/scan-deps.js';
import { extensionWatchSpecs } from '../../../src/extensions/extension-finder.js';
import type { ScanContext } from '../../../src/types.js';

const put = (path: string, content: unknown): void => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
};

describe('watch: extension events from real file changes', () => {
  let root: string;
  let home: string;
  let project: string;
  let watcher: InventoryWatcher;
  const events: McpEvent[] = [];
  const waiters: Array<{ test: (e: McpEvent) => boolean; resolve: (e: McpEvent) => void }> = [];
  const waitFor = (test: (e: McpEvent) => boolean): Promise<McpEvent> => {
    const seen = events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => waiters.push({ test, resolve }));
  };
  const ext = (e: McpEvent): ExtensionRecord => e.data as ExtensionRecord;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mcpw-extwatch-'));
    home = join(root, 'home', 'dev');
    project = join(home, 'code', 'app');
    put(join(project, '.mcp.json'), { mcpServers: {} }); // makes it a project of the walk
    put(join(home, '.claude', 'skills', 'existing', 'SKILL.md'), '---\nname: existing\nversion: 1.0.0\n---\nAlready there.\n');
    const ctx: ScanContext = { platform: 'linux', homes: [{ user: 'dev', home }], env: {}, projectRoots: [join(home, 'code')], systemRoot: join(root, 'sys') };
    watcher = new InventoryWatcher(
      {
        ctx,
        sources: { configs: true, processes: false, sockets: false },
        endpointId: 'ep-ext',
        debounceMs: 30,
        onEvent: (e) => {
          events.push(e);
          for (const w of [...waiters]) if (w.test(e)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(e);
          }
        },
      },
      defaultScanDeps(),
    );
    await watcher.start();
  });

  afterAll(async () => {
    await watcher.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('announces the extensions present at start after the snapshot (which carries none) as extension.added', () => {
    const types = events.map((e) => e.type);
    expect(types.indexOf('inventory.snapshot')).toBeLessThan(types.indexOf('extension.added'));
    expect(events.filter((e) => e.type.startsWith('extension.')).map((e) => `${e.type} ${ext(e).name}`)).toEqual(['extension.added existing']);
  });

  it('reports a user skill written after the start as extension.added', async () => {
    put(join(home, '.claude', 'skills', 'release', 'SKILL.md'), '---\nname: release\nversion: 2.0.0\n---\nCut a release.\n');
    const added = await waitFor((e) => e.type === 'extension.added' && ext(e).name === 'release');
    expect(ext(added)).toMatchObject({ client: 'claude-code', kind: 'skill', scope: 'user', user: 'dev', version: '2.0.0', runsCommand: false });
  });

  it('reports a script added to the skill (same version) as extension.changed without a version change', async () => {
    put(join(home, '.claude', 'skills', 'release', 'scripts', 'tag.sh'), '#!/bin/sh\ngit tag "$1"\n');
    const changed = await waitFor((e) => e.type === 'extension.changed' && ext(e).name === 'release');
    expect(changed.data as ExtensionChangedData).toMatchObject({ runsCommand: true, version: '2.0.0', previousVersion: '2.0.0', changedWithoutVersionChange: true });
  });

  it('reports a project hook committed into the repository, with its command redacted', async () => {
    put(join(project, '.claude', 'settings.json'), { hooks: { PostToolUse: [{ matcher: 'Edit', hooks: [{ type: 'command', command: 'curl -H "Authorization: Bearer ghp_CANARYCANARYCANARYCANARYCANARY12345" https://hooks.example.com' }] }] } });
    const added = await waitFor((e) => e.type === 'extension.added' && ext(e).kind === 'hook');
    expect(ext(added)).toMatchObject({ client: 'claude-code', scope: 'project', projectPath: project, hookEvent: 'PostToolUse', hookMatcher: 'Edit', runsCommand: true });
    expect(JSON.stringify(events)).not.toContain('CANARY');
    // The finding a project hook raises arrives with it.
    await waitFor((e) => e.type === 'finding.raised' && (e.data as { ruleId: string }).ruleId === 'project-extension-runs-command');
  });

  it('reports a legacy plugin repo with a plugin hook (${CLAUDE_PLUGIN_ROOT} expanded)', async () => {
    const repo = join(home, '.claude', 'plugins', 'repos', 'formatter');
    put(join(repo, 'hooks', 'hooks.json'), { hooks: { PostToolUse: [{ matcher: 'Write', hooks: [{ type: 'command', command: '${CLAUDE_PLUGIN_ROOT}/bin/format.sh' }] }] } });
    put(join(repo, '.claude-plugin', 'plugin.json'), { name: 'formatter', version: '0.3.0' });
    const plugin = await waitFor((e) => e.type === 'extension.added' && ext(e).kind === 'plugin' && ext(e).name === 'formatter');
    expect(ext(plugin)).toMatchObject({ scope: 'plugin', version: '0.3.0', runsCommand: true, path: repo });
    const hook = await waitFor((e) => e.type === 'extension.added' && ext(e).kind === 'hook' && ext(e).path === join(repo, 'hooks', 'hooks.json'));
    expect(ext(hook).hookCommand).toBe(`${repo}/bin/format.sh`);
  });

  it('reports a removed skill folder as extension.removed', async () => {
    rmSync(join(home, '.claude', 'skills', 'existing'), { recursive: true, force: true });
    const removed = await waitFor((e) => e.type === 'extension.removed' && ext(e).name === 'existing');
    expect(ext(removed)).toMatchObject({ kind: 'skill', scope: 'user' });
  });
});

describe('extension watch specs', () => {
  it('cover the skills folders, hook files and plugin registries of every home and project, and follow CLAUDE_CONFIG_DIR', () => {
    const ctx: ScanContext = { platform: 'linux', homes: [{ user: 'dev', home: '/h/dev' }], env: { CLAUDE_CONFIG_DIR: '/cfg/claude' }, projectRoots: [], systemRoot: '/sys' };
    const specs = extensionWatchSpecs(ctx, ['/src/app']);
    const by = (p: string) => specs.find((s) => s.path === p);
    expect(by('/h/dev/.claude/skills')).toEqual({ path: '/h/dev/.claude/skills', kind: 'dir', depth: 3 });
    expect(by('/cfg/claude/skills')).toMatchObject({ kind: 'dir' });
    expect(by('/cfg/claude/settings.json')).toMatchObject({ kind: 'file' });
    expect(by('/cfg/claude/plugins/installed_plugins.json')).toMatchObject({ kind: 'file' });
    expect(by('/h/dev/.claude/plugins/repos')).toMatchObject({ kind: 'dir' });
    expect(by('/src/app/.github/hooks')).toEqual({ path: '/src/app/.github/hooks', kind: 'dir', depth: 0 });
    expect(by('/src/app/.cursor/hooks.json')).toMatchObject({ kind: 'file' });
    expect(by('/sys/etc/claude-code/managed-settings.json')).toMatchObject({ kind: 'file' });
  });
});
