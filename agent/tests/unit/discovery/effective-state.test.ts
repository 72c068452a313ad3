/**
 * What is in effect (discovery/effective-state.ts): real config and policy files in temporary
 * homes, discovered and normalized as a scan does, then decided. Each case names the file or
 * setting that decided the state; a malformed policy file is a coded error, not a crash.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ServerEntry } from '@mcpwatch/shared';
import { discover } from '../../../src/discovery/index.js';
import { isInEffect, resolveEffectiveState } from '../../../src/discovery/effective-state.js';
import { normalizeEntry } from '../../../src/normalize/index.js';
import type { ScanContext } from '../../../src/types.js';

let root: string;
let n = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'mcpw-effective-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function put(path: string, content: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
}
const stdio = (pkg: string) => ({ command: 'npx', args: ['-y', pkg] });

async function decide(build: (home: string, project: string, sys: string) => void) {
  const home = join(root, `h${n++}`);
  const project = join(home, 'code', 'app');
  const sys = join(home, 'sys');
  mkdirSync(project, { recursive: true });
  build(home, project, sys);
  const ctx: ScanContext = { platform: 'linux', homes: [{ user: 'u', home }], env: {}, projectRoots: [join(home, 'code')], systemRoot: sys };
  const found = await discover(ctx);
  const servers: ServerEntry[] = found.files.flatMap((f) => f.entries).map((e) => {
    const r = normalizeEntry(e);
    if (!r.ok) throw new Error(r.error.reason);
    return r.server;
  });
  const result = await resolveEffectiveState(ctx, servers, found.files);
  const state = (name: string, client = 'claude-code') => {
    const s = result.servers.filter((x) => x.name === name && x.client === client);
    return s.map((x) => `${x.scope}:${x.effective}`).sort().join(' ');
  };
  const reason = (name: string, client = 'claude-code') => result.servers.find((x) => x.name === name && x.client === client)?.effectiveReason ?? '';
  return { result, state, reason, project, sys, home };
}

describe('resolveEffectiveState', () => {
  it('a managed-mcp.json makes every other Claude Code server inert, and is active itself', async () => {
    const r = await decide((home, _p, sys) => {
      put(join(home, '.claude.json'), { mcpServers: { mine: stdio('a') } });
      put(join(sys, 'etc', 'claude-code', 'managed-mcp.json'), { mcpServers: { corp: stdio('corp') } });
    });
    expect(r.state('mine')).toBe('user:blocked-by-policy');
    expect(r.reason('mine')).toContain('managed-mcp.json');
    expect(r.state('corp')).toBe('managed:active');
  });

  it('applies deniedMcpServers, allowedMcpServers and allowManagedMcpServersOnly from managed-settings.json', async () => {
    const denied = await decide((home, _p, sys) => {
      put(join(home, '.claude.json'), { mcpServers: { evil: stdio('evil'), ok: stdio('ok') } });
      put(join(sys, 'etc', 'claude-code', 'managed-settings.json'), { deniedMcpServers: [{ serverName: 'evil' }], allowedMcpServers: [{ serverName: 'ok' }] });
    });
    expect(denied.state('evil')).toBe('user:blocked-by-policy');
    expect(denied.reason('evil')).toContain('deniedMcpServers');
    expect(denied.state('ok')).toBe('user:active');
    const notAllowed = await decide((home, _p, sys) => {
      put(join(home, '.claude.json'), { mcpServers: { other: stdio('other') } });
      put(join(sys, 'etc', 'claude-code', 'managed-settings.json'), { allowedMcpServers: [{ serverName: 'ok' }] });
    });
    expect(notAllowed.reason('other')).toContain('not in allowedMcpServers');
    const only = await decide((home, _p, sys) => {
      put(join(home, '.claude.json'), { mcpServers: { other: stdio('other') } });
      put(join(sys, 'etc', 'claude-code', 'managed-settings.json'), { allowManagedMcpServersOnly: true });
    });
    expect(only.state('other')).toBe('user:blocked-by-policy');
  });

  it('project .mcp.json servers: not-loaded until approved, active when enabled, disabled when listed', async () => {
    const r = await decide((home, project) => {
      put(join(project, '.mcp.json'), { mcpServers: { fresh: stdio('fresh'), approved: stdio('approved'), refused: stdio('refused') } });
      put(join(home, '.claude.json'), { projects: { [project]: { enabledMcpjsonServers: ['approved'], mcpServers: {} } } });
      put(join(project, '.claude', 'settings.local.json'), { disabledMcpjsonServers: ['refused'] });
    });
    expect(r.state('fresh')).toBe('project:not-loaded');
    expect(r.state('approved')).toBe('project:active');
    expect(r.reason('approved')).toContain('enabledMcpjsonServers');
    expect(r.state('refused')).toBe('project:disabled');
    const all = await decide((_h, project) => {
      put(join(project, '.mcp.json'), { mcpServers: { fresh: stdio('fresh') } });
      put(join(project, '.claude', 'settings.json'), { enableAllProjectMcpServers: true });
    });
    expect(all.state('fresh')).toBe('project:active');
  });

  it('a local entry shadows the same name in the project .mcp.json; the user one stays active', async () => {
    const r = await decide((home, project) => {
      put(join(project, '.mcp.json'), { mcpServers: { db: stdio('team-db') } });
      put(join(home, '.claude.json'), { mcpServers: { db: stdio('my-db') }, projects: { [project]: { enableAllProjectMcpServers: true, mcpServers: { db: stdio('local-db') } } } });
    });
    expect(r.state('db')).toBe('project:active project:shadowed user:active');
    const shadowed = r.result.servers.find((s) => s.effective === 'shadowed')!;
    expect(shadowed.configPath).toBe(join(r.project, '.mcp.json'));
    expect(shadowed.effectiveReason).toContain('.claude.json');
  });

  it('own disabled flags, disabled Claude Desktop extensions and VS Code chat.mcp.enabled', async () => {
    const r = await decide((home) => {
      put(join(home, '.cursor', 'mcp.json'), { mcpServers: { off: { ...stdio('off'), disabled: true } } });
      put(join(home, '.config', 'Claude', 'Claude Extensions', 'ant.fs', 'manifest.json'), { name: 'dxt-fs', server: { mcp_config: stdio('fs') } });
      put(join(home, '.config', 'Claude', 'Claude Extensions Settings', 'ant.fs.json'), { isEnabled: false });
      put(join(home, '.config', 'Code', 'User', 'settings.json'), '{ "chat.mcp.enabled": false, // off\n "mcp": { "servers": { "vs": { "command": "uvx", "args": ["x"] } } } }');
    });
    expect(r.state('off', 'cursor')).toBe('user:disabled');
    expect(r.state('dxt-fs', 'claude-desktop')).toBe('plugin:disabled');
    expect(r.reason('dxt-fs', 'claude-desktop')).toContain('isEnabled false');
    expect(r.state('vs', 'vscode')).toBe('user:disabled');
    expect(r.reason('vs', 'vscode')).toContain('chat.mcp.enabled');
  });

  it('VS Code chat.mcp.discovery.enabled (per-source object or true) puts the imported clients\' servers in effect through VS Code', async () => {
    const r = await decide((home, project) => {
      put(join(home, '.config', 'Claude', 'claude_desktop_config.json'), { mcpServers: { desk: stdio('d'), 'desk-off': { ...stdio('x'), disabled: true } } });
      put(join(home, '.codeium', 'windsurf', 'mcp_config.json'), { mcpServers: { surf: stdio('w') } });
      put(join(home, '.cursor', 'mcp.json'), { mcpServers: { 'cur-user': stdio('c') } });
      put(join(project, '.cursor', 'mcp.json'), { mcpServers: { 'cur-proj': stdio('p') } });
      // Claude Code would not start an unapproved .mcp.json server; VS Code does not import it either.
      put(join(project, '.mcp.json'), { mcpServers: { pending: stdio('q') } });
      put(join(home, '.config', 'Code', 'User', 'settings.json'), '{ // JSONC\n "chat.mcp.discovery.enabled": { "claude-desktop": true, "cursor-workspace": true, "windsurf": false } }');
    });
    expect(r.state('desk', 'claude-desktop')).toBe('user:active');
    expect(r.reason('desk', 'claude-desktop')).toMatch(/^configured and enabled; loaded by vscode too \(chat\.mcp\.discovery\.enabled imports "claude-desktop" in .*Code\/User\/settings\.json\)$/);
    expect(r.state('desk-off', 'claude-desktop')).toBe('user:disabled');
    expect(r.reason('surf', 'windsurf')).toBe('configured and enabled');
    expect(r.reason('cur-user', 'cursor')).toBe('configured and enabled');
    expect(r.reason('cur-proj', 'cursor')).toContain('loaded by vscode too (chat.mcp.discovery.enabled imports "cursor-workspace"');
    expect(r.state('pending')).toBe('project:not-loaded');
  });

  it('VS Code discovery as the older boolean imports every source, and nothing when the editor\'s MCP is off', async () => {
    const on = await decide((home) => {
      put(join(home, '.codeium', 'windsurf', 'mcp_config.json'), { mcpServers: { surf: stdio('w') } });
      put(join(home, '.config', 'Code - Insiders', 'User', 'settings.json'), { 'chat.mcp.discovery.enabled': true });
    });
    expect(on.reason('surf', 'windsurf')).toContain('loaded by vscode-insiders too');
    const off = await decide((home) => {
      put(join(home, '.codeium', 'windsurf', 'mcp_config.json'), { mcpServers: { surf: stdio('w') } });
      put(join(home, '.config', 'Code', 'User', 'settings.json'), { 'chat.mcp.discovery.enabled': true, 'chat.mcp.enabled': false });
    });
    expect(off.reason('surf', 'windsurf')).toBe('configured and enabled');
  });

  it('a Claude Code plugin disabled in enabledPlugins makes its servers disabled; an enabled one stays active', async () => {
    const r = await decide((home) => {
      const cache = join(home, '.claude', 'plugins', 'cache', 'acme-market');
      put(join(cache, 'db-tools', '1.0.0', '.mcp.json'), { mcpServers: { 'plugin-db': stdio('db') } });
      put(join(cache, 'notes', '2.0.0', '.mcp.json'), { mcpServers: { 'plugin-notes': stdio('notes') } });
      // Installed in place (an older layout): its id comes from installed_plugins.json.
      const inPlace = join(home, '.claude', 'plugins', 'marketplaces', 'team', 'plugins', 'deploy');
      put(join(inPlace, '.mcp.json'), { mcpServers: { 'plugin-deploy': stdio('deploy') } });
      put(join(home, '.claude', 'plugins', 'installed_plugins.json'), { version: 2, plugins: { 'deploy@team': [{ scope: 'user', installPath: inPlace }] } });
      put(join(home, '.claude', 'settings.json'), { enabledPlugins: { 'db-tools@acme-market': false, 'notes@acme-market': true, 'deploy@team': false } });
    });
    expect(r.state('plugin-db')).toBe('plugin:disabled');
    expect(r.reason('plugin-db')).toContain('plugin "db-tools@acme-market" is disabled (enabledPlugins in');
    expect(r.state('plugin-notes')).toBe('plugin:active');
    expect(r.state('plugin-deploy')).toBe('plugin:disabled');
  });

  it('Codex plugins disabled in config.toml ([plugins."id"] or one of its mcp_servers) are disabled', async () => {
    const r = await decide((home) => {
      const cache = join(home, '.codex', 'plugins', 'cache', 'openai-curated');
      put(join(cache, 'linear', '1.0.0', '.mcp.json'), { mcpServers: { 'cx-linear': stdio('l') } });
      put(join(cache, 'drive', '2.1.0', '.mcp.json'), { mcpServers: { 'cx-drive': stdio('d'), 'cx-docs': stdio('o') } });
      put(join(home, '.codex', 'config.toml'), '[plugins."linear@openai-curated"]\nenabled = false\n\n[plugins."drive@openai-curated"]\nenabled = true\n\n[plugins."drive@openai-curated".mcp_servers.cx-docs]\nenabled = false\n');
    });
    expect(r.state('cx-linear', 'codex')).toBe('plugin:disabled');
    expect(r.reason('cx-linear', 'codex')).toContain('[plugins."linear@openai-curated"] enabled = false');
    expect(r.state('cx-drive', 'codex')).toBe('plugin:active');
    expect(r.state('cx-docs', 'codex')).toBe('plugin:disabled');
  });

  it('with CLAUDE_CONFIG_DIR, project approvals come from $CLAUDE_CONFIG_DIR/settings.json', async () => {
    const home = join(root, `h${n++}`);
    const project = join(home, 'code', 'app');
    const configDir = join(home, 'claude-cfg');
    put(join(project, '.mcp.json'), { mcpServers: { approved: stdio('a'), other: stdio('b') } });
    put(join(configDir, '.claude.json'), { projects: {} });
    put(join(configDir, 'settings.json'), { enabledMcpjsonServers: ['approved'] });
    const ctx: ScanContext = { platform: 'linux', homes: [{ user: 'u', home }], env: { CLAUDE_CONFIG_DIR: configDir }, projectRoots: [join(home, 'code')], systemRoot: join(home, 'sys') };
    const found = await discover(ctx);
    const servers = found.files.flatMap((f) => f.entries).map((e) => {
      const r = normalizeEntry(e);
      if (!r.ok) throw new Error(r.error.reason);
      return r.server;
    });
    const result = await resolveEffectiveState(ctx, servers, found.files);
    const by = (name: string) => result.servers.find((x) => x.name === name)!;
    expect(by('approved')).toMatchObject({ effective: 'active', effectiveReason: `"approved" is in enabledMcpjsonServers of ${join(configDir, 'settings.json')}` });
    expect(by('other').effective).toBe('not-loaded');
  });

  it('a malformed policy file is a coded error; the servers keep the state the rest gives', async () => {
    const r = await decide((home, _p, sys) => {
      put(join(home, '.claude.json'), { mcpServers: { mine: stdio('a') } });
      put(join(sys, 'etc', 'claude-code', 'managed-settings.json'), '{ "deniedMcpServers": [ ');
    });
    expect(r.result.errors).toEqual([expect.objectContaining({ code: 'parse', client: 'claude-code', path: join(r.sys, 'etc', 'claude-code', 'managed-settings.json') })]);
    expect(r.state('mine')).toBe('user:active');
  });

  it('isInEffect reads servers from agents before the state existed by their disabled flag', () => {
    expect(isInEffect({ disabled: false })).toBe(true);
    expect(isInEffect({ disabled: true })).toBe(false);
    expect(isInEffect({ disabled: false, effective: 'shadowed' })).toBe(false);
    expect(isInEffect({ disabled: false, effective: 'active' })).toBe(true);
  });
});
