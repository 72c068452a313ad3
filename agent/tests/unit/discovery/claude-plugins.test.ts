/**
 * Claude Code plugins as MCP server sources (issue 14): installed plugins, the legacy plugin repos
 * (plugins/repos/<name>, also under $CLAUDE_CONFIG_DIR), `${CLAUDE_PLUGIN_ROOT}` replaced by the
 * plugin's folder as Claude Code does, and plugin.json `mcpServers` naming another file of the
 * plugin (read), or a file outside it (an error, not read). Codex plugins (~/.codex/plugins/cache)
 * and Cursor plugins (~/.cursor/plugins/local, ~/.cursor/plugins/cache) the same way.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { discover, watchTargets } from '../../../src/discovery/index.js';
import { findExtensions } from '../../../src/extensions/extension-finder.js';
import { redactCommandLine } from '../../../src/collect/process-command-line.js';
import { normalizeEntry } from '../../../src/normalize/index.js';
import type { ScanContext } from '../../../src/types.js';

let root: string;
const put = (path: string, content: unknown): void => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
};

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'mcpw-cplug-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('Claude Code plugin servers', () => {
  it('reads legacy plugin repos, expands ${CLAUDE_PLUGIN_ROOT}, follows mcpServers file references inside the plugin only', async () => {
    const home = join(root, 'home', 'dev');
    const configDir = join(root, 'claude-config');
    const repo = join(home, '.claude', 'plugins', 'repos', 'db-tools');
    put(join(repo, '.mcp.json'), { 'db-server': { command: '${CLAUDE_PLUGIN_ROOT}/servers/db-server', args: ['--config', '${CLAUDE_PLUGIN_ROOT}/config.json'], env: { DB_URL: '${DB_URL}' } } });
    const nested = join(home, '.claude', 'plugins', 'repos', 'acme', 'api-kit');
    put(join(nested, '.claude-plugin', 'plugin.json'), { name: 'api-kit', mcpServers: './mcp/servers.json' });
    put(join(nested, 'mcp', 'servers.json'), { mcpServers: { 'api-server': { command: 'node', args: ['${CLAUDE_PLUGIN_ROOT}/dist/index.js'] } } });
    const escaping = join(configDir, 'plugins', 'repos', 'sneaky');
    put(join(escaping, '.claude-plugin', 'plugin.json'), { name: 'sneaky', mcpServers: '../../../../outside.json' });
    put(join(root, 'outside.json'), { mcpServers: { outside: { command: 'evil' } } });
    put(join(configDir, 'plugins', 'repos', 'inline', '.claude-plugin', 'plugin.json'), { name: 'inline', mcpServers: { 'inline-api': { command: '${CLAUDE_PLUGIN_ROOT}/bin/api' } } });

    const ctx: ScanContext = { platform: 'linux', homes: [{ user: 'dev', home }], env: { CLAUDE_CONFIG_DIR: configDir }, projectRoots: [], systemRoot: join(root, 'sys') };
    const r = await discover(ctx);
    const entries = r.files.flatMap((f) => f.entries).filter((e) => e.client === 'claude-code');
    const servers = entries.map((e) => {
      const n = normalizeEntry(e);
      if (!n.ok) throw new Error(n.error.reason);
      return n.server;
    });
    const by = (name: string) => servers.find((s) => s.name === name)!;
    expect(servers.map((s) => `${s.name} ${s.scope}`).sort()).toEqual(['api-server plugin', 'db-server plugin', 'inline-api plugin']);
    expect(by('db-server')).toMatchObject({ command: `${repo}/servers/db-server`, args: ['--config', `${repo}/config.json`], envKeys: ['DB_URL'] });
    expect(by('api-server')).toMatchObject({ command: 'node', args: [`${nested}/dist/index.js`], configPath: join(nested, 'mcp', 'servers.json') });
    expect(by('api-server').package).toMatchObject({ ecosystem: 'local', name: `${nested}/dist/index.js` });
    expect(by('inline-api').command).toBe(join(configDir, 'plugins', 'repos', 'inline', 'bin', 'api'));
    const errors = r.files.flatMap((f) => f.errors);
    expect(errors.map((e) => `${e.code} ${e.path}`)).toEqual([`invalid-reference ${join(escaping, '.claude-plugin', 'plugin.json')}`]);
    expect(watchTargets(ctx)).toEqual(expect.arrayContaining([join(home, '.claude', 'plugins', 'repos'), join(configDir, 'plugins', 'repos')]));
  });
});

describe('Codex and Cursor plugins', () => {
  it('reads their installed plugins\' servers (${PLUGIN_ROOT} expanded) and lists the plugins and their hooks as extensions', async () => {
    const home = join(root, 'home', 'dev');
    const codexPlugin = join(home, '.codex', 'plugins', 'cache', 'openai-curated', 'linear', '1.2.0');
    put(join(codexPlugin, '.codex-plugin', 'plugin.json'), { name: 'linear', version: '1.2.0', skills: './skills/' });
    put(join(codexPlugin, '.mcp.json'), { mcpServers: { 'codex-linear': { command: 'node', args: ['${PLUGIN_ROOT}/server.js'] } } });
    put(join(codexPlugin, 'skills', 'triage', 'SKILL.md'), '---\nname: triage\n---\nTriage issues.\n');
    const cursorLocal = join(home, '.cursor', 'plugins', 'local', 'figma');
    put(join(cursorLocal, '.cursor-plugin', 'plugin.json'), { name: 'figma', version: '0.1.0', mcpServers: { 'cursor-figma': { url: 'https://mcp.figma.com/mcp' } } });
    put(join(cursorLocal, 'hooks', 'hooks.json'), { version: 1, hooks: { beforeShellExecution: [{ command: './hooks/guard.sh' }] } });
    const cursorCached = join(home, '.cursor', 'plugins', 'cache', 'cursor-public', 'stripe', 'abc123');
    put(join(cursorCached, 'mcp.json'), { mcpServers: { 'cursor-stripe': { command: 'npx', args: ['-y', '@stripe/mcp@0.2.4'] } } });
    put(join(cursorCached, '.cursor-plugin', 'plugin.json'), { name: 'stripe', version: '0.2.4' });

    const ctx: ScanContext = { platform: 'linux', homes: [{ user: 'dev', home }], env: {}, projectRoots: [], systemRoot: join(root, 'sys') };
    const r = await discover(ctx);
    const servers = r.files.flatMap((f) => f.entries).map((e) => {
      const n = normalizeEntry(e);
      if (!n.ok) throw new Error(n.error.reason);
      return n.server;
    });
    expect(servers.map((s) => `${s.client} ${s.name} ${s.scope}`).sort()).toEqual(['codex codex-linear plugin', 'cursor cursor-figma plugin', 'cursor cursor-stripe plugin']);
    expect(servers.find((s) => s.name === 'codex-linear')?.args).toEqual([`${codexPlugin}/server.js`]);
    expect(servers.find((s) => s.name === 'cursor-stripe')?.package).toMatchObject({ ecosystem: 'npm', name: '@stripe/mcp', version: '0.2.4' });
    expect(r.errors).toEqual([]);

    const ext = await findExtensions(ctx, [], { redact: redactCommandLine });
    expect(ext.extensions.map((e) => `${e.client} ${e.kind} ${e.name} ${e.version ?? '-'} runs=${e.runsCommand}`).sort()).toEqual([
      'codex plugin linear 1.2.0 runs=false',
      'cursor hook beforeShellExecution - runs=true',
      'cursor plugin figma 0.1.0 runs=true',
      'cursor plugin stripe 0.2.4 runs=false',
    ]);
    expect(ext.errors).toEqual([]);
  });
});
