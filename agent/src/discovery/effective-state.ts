/**
 * What is in effect: for each configured server, `effective` (active | disabled | blocked-by-policy
 * | shadowed | not-loaded) and a reason naming the file or setting that decided it, from what the
 * client itself would do (issue 14). Inert servers stay in the inventory; only the state says so.
 *
 * Decided here, in this order (the first that applies wins):
 * 1. The entry's own `disabled` flag.
 * 2. Claude Code managed policy: a managed-mcp.json takes exclusive control (every other Claude
 *    Code server is inert); managed-settings.json `deniedMcpServers`, `allowedMcpServers`,
 *    `allowManagedMcpServersOnly`.
 * 3. Claude Code project `.mcp.json` servers: `disabledMcpjsonServers` / `enabledMcpjsonServers` /
 *    `enableAllProjectMcpServers` in ~/.claude.json (per project), ~/.claude/settings.json and the
 *    project's .claude/settings(.local).json; a server never approved is not-loaded.
 * 4. Claude Desktop extensions: `isEnabled: false` in Claude Extensions Settings/<id>.json.
 *    Claude Code plugins: `enabledPlugins["<plugin>@<marketplace>"]: false` in the user's
 *    settings.json (the plugin's id from installed_plugins.json, or from its cache folder
 *    plugins/cache/<marketplace>/<plugin>/<version>) disables every server the plugin brings.
 *    Codex plugins: `[plugins."<plugin>@<marketplace>"] enabled = false`, or
 *    `[plugins."<id>".mcp_servers.<name>] enabled = false`, in the config.toml beside the cache.
 * 5. VS Code family: `chat.mcp.enabled: false` or `chat.mcp.access: "none"` in the user settings.
 * 6. Duplicate names: entries of one client, user and project with the same name; the most
 *    specific scope wins (managed > project/workspace > profile > user > plugin; for Claude Code a
 *    local entry in ~/.claude.json beats the project's .mcp.json), the others are shadowed.
 * 7. VS Code family discovery (`chat.mcp.discovery.enabled` in the user settings: `true` for every
 *    source, or a per-source object {"claude-desktop", "windsurf", "cursor-global",
 *    "cursor-workspace": boolean}): VS Code also runs the servers of those clients' files, so they
 *    are in effect through VS Code too (active, the reason naming the setting), even when their own
 *    client would not start them; a server disabled by its own flag stays disabled. Not applied
 *    when the editor's MCP is off (`chat.mcp.enabled: false`, `chat.mcp.access: "none"`).
 *    Sources: https://code.visualstudio.com/docs/copilot/customization/mcp-servers ("Configure
 *    autodiscovery with chat.mcp.discovery.enabled ... select one or more tools"); the per-source
 *    keys as users' settings files write them (claude-desktop, windsurf, cursor-global,
 *    cursor-workspace); the boolean form from VS Code 1.99-era settings.
 *
 * Policy files are read through the bounded config reader; one that cannot be read or parsed is
 * returned as a ConfigError (never a silent "no policy"), and the servers it would govern keep the
 * state the remaining evidence gives. Never throws.
 */
import { basename, dirname, join, resolve } from 'node:path';
import type { ConfigError, EffectiveState, ServerEntry } from '@mcpwatch/shared';
import type { ConfigFileResult, ScanContext } from '../types.js';
import { systemRootDir } from './base-dirs.js';
import { readConfigFile } from './config-reader.js';

/** Reads one JSON policy file: its document, null when absent, or the error that stopped it. */
export type PolicyReader = (path: string) => Promise<{ document: Record<string, unknown> | null; error: ConfigError | null }>;

export interface EffectiveResult {
  servers: ServerEntry[];
  errors: ConfigError[];
}

const POLICY_MAX_BYTES = 1024 * 1024;

/** The default reader: the discovery config reader (bounded, timed, coded errors), JSONC. */
export const readPolicyFile: PolicyReader = async (path) => {
  const r = await readConfigFile(path, { format: 'jsonc', maxFileBytes: POLICY_MAX_BYTES, client: 'policy' });
  if (r.status === 'missing') return { document: null, error: null };
  if (r.status === 'error') return { document: null, error: r.error };
  return { document: r.document, error: null };
};

type Decision = { effective: EffectiveState; reason: string };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const names = (v: unknown, key?: string): string[] =>
  Array.isArray(v) ? v.flatMap((x) => (typeof x === 'string' ? [x] : key && isObj(x) && typeof x[key] === 'string' ? [x[key]] : [])) : [];

/** Machine-wide folders of Claude Code's managed files on this platform. */
export function claudeManagedDirs(ctx: Pick<ScanContext, 'platform' | 'systemRoot' | 'env'>): string[] {
  const root = systemRootDir(ctx);
  if (ctx.platform === 'darwin') return [join(root, 'Library', 'Application Support', 'ClaudeCode')];
  if (ctx.platform === 'win32') return [join(root, 'ProgramData', 'ClaudeCode'), join(root, 'Program Files', 'ClaudeCode')];
  return [join(root, 'etc', 'claude-code')];
}

interface ClaudePolicy {
  exclusive: string | null;
  denied: Map<string, string>;
  allowed: { names: Set<string>; path: string } | null;
  managedOnly: string | null;
}

async function claudePolicy(ctx: Pick<ScanContext, 'platform' | 'systemRoot' | 'env'>, files: readonly ConfigFileResult[], read: PolicyReader, errors: ConfigError[]): Promise<ClaudePolicy> {
  const managedMcp = files.find((f) => f.client === 'claude-code' && f.scope === 'managed' && basename(f.path) === 'managed-mcp.json' && f.document !== undefined);
  const policy: ClaudePolicy = { exclusive: managedMcp?.path ?? null, denied: new Map(), allowed: null, managedOnly: null };
  for (const dir of claudeManagedDirs(ctx)) {
    const path = join(dir, 'managed-settings.json');
    const { document, error } = await read(path);
    if (error) errors.push({ ...error, client: 'claude-code' });
    if (!document) continue;
    for (const n of names(document.deniedMcpServers, 'serverName')) policy.denied.set(n, path);
    const allowed = names(document.allowedMcpServers, 'serverName');
    if (Array.isArray(document.allowedMcpServers)) policy.allowed = { names: new Set([...(policy.allowed?.names ?? []), ...allowed]), path };
    if (document.allowManagedMcpServersOnly === true) policy.managedOnly = path;
  }
  return policy;
}

function claudePolicyDecision(s: ServerEntry, p: ClaudePolicy): Decision | null {
  if (s.scope === 'managed') return null;
  if (p.exclusive) return { effective: 'blocked-by-policy', reason: `managed-mcp.json (${p.exclusive}) takes exclusive control of Claude Code's MCP servers` };
  const denied = p.denied.get(s.name);
  if (denied) return { effective: 'blocked-by-policy', reason: `"${s.name}" is in deniedMcpServers of ${denied}` };
  if (p.managedOnly) return { effective: 'blocked-by-policy', reason: `allowManagedMcpServersOnly is true in ${p.managedOnly}` };
  if (p.allowed && !p.allowed.names.has(s.name)) return { effective: 'blocked-by-policy', reason: `"${s.name}" is not in allowedMcpServers of ${p.allowed.path}` };
  return null;
}

/** Approval of a project .mcp.json server: settings files first, then ~/.claude.json's project record. */
async function mcpjsonDecision(
  s: ServerEntry,
  files: readonly ConfigFileResult[],
  read: PolicyReader,
  errors: ConfigError[],
  cache: Map<string, Record<string, unknown> | null>,
  configDir: string | null,
): Promise<Decision> {
  const project = s.projectPath ?? dirname(s.configPath);
  const sources: Array<{ where: string; doc: Record<string, unknown> | null }> = [];
  for (const path of [join(project, '.claude', 'settings.local.json'), join(project, '.claude', 'settings.json')]) {
    if (!cache.has(path)) {
      const { document, error } = await read(path);
      if (error) errors.push({ ...error, client: 'claude-code' });
      cache.set(path, document);
    }
    sources.push({ where: path, doc: cache.get(path) ?? null });
  }
  for (const f of files) {
    if (f.client !== 'claude-code' || basename(f.path) !== '.claude.json' || !isObj(f.document)) continue;
    if (s.user !== null && s.user !== undefined && f.user !== s.user) continue;
    const projects = f.document.projects;
    const record = isObj(projects) ? projects[project] : undefined;
    sources.push({ where: `${f.path} (projects["${project}"])`, doc: isObj(record) ? record : null });
    // ~/.claude.json keeps its settings in ~/.claude/settings.json; $CLAUDE_CONFIG_DIR/.claude.json beside it.
    const dir = dirname(f.path);
    const userSettings = configDir !== null && dir === configDir ? join(dir, 'settings.json') : join(dir, '.claude', 'settings.json');
    if (!cache.has(userSettings)) {
      const { document, error } = await read(userSettings);
      if (error) errors.push({ ...error, client: 'claude-code' });
      cache.set(userSettings, document);
    }
    sources.push({ where: userSettings, doc: cache.get(userSettings) ?? null });
  }
  for (const { where, doc } of sources) {
    if (!doc) continue;
    if (names(doc.disabledMcpjsonServers).includes(s.name)) return { effective: 'disabled', reason: `"${s.name}" is in disabledMcpjsonServers of ${where}` };
  }
  for (const { where, doc } of sources) {
    if (!doc) continue;
    if (doc.enableAllProjectMcpServers === true) return { effective: 'active', reason: `enableAllProjectMcpServers is true in ${where}` };
    if (names(doc.enabledMcpjsonServers).includes(s.name)) return { effective: 'active', reason: `"${s.name}" is in enabledMcpjsonServers of ${where}` };
  }
  return { effective: 'not-loaded', reason: 'project .mcp.json server not approved in Claude Code (not in enabledMcpjsonServers, enableAllProjectMcpServers not set)' };
}

/** Claude Desktop extension enabled state: Claude Extensions Settings/<id>.json beside the extensions folder. */
async function dxtDecision(s: ServerEntry, read: PolicyReader, errors: ConfigError[]): Promise<Decision | null> {
  const extDir = dirname(s.configPath);
  const root = dirname(extDir);
  if (basename(root) !== 'Claude Extensions') return null;
  const path = join(dirname(root), 'Claude Extensions Settings', `${basename(extDir)}.json`);
  const { document, error } = await read(path);
  if (error) errors.push({ ...error, client: 'claude-desktop' });
  if (document?.isEnabled === false) return { effective: 'disabled', reason: `extension disabled (isEnabled false in ${path})` };
  return null;
}

/** The client folder (`.claude`, `.codex`) a plugin server belongs to, and its plugin id when the path tells it. */
function pluginHome(configPath: string): { claudeDir: string; id: string | null } | null {
  const parts = configPath.split(/[\\/]/);
  const at = parts.findIndex((p, i) => p === 'plugins' && i > 0 && ['cache', 'repos', 'marketplaces'].includes(parts[i + 1] ?? ''));
  if (at < 1) return null;
  const claudeDir = configPath.slice(0, parts.slice(0, at).join('/').length);
  const [kind, market, plugin] = parts.slice(at + 1);
  return { claudeDir, id: kind === 'cache' && market && plugin ? `${plugin}@${market}` : null };
}

/** Claude Code plugin enabled state: enabledPlugins in the settings.json beside the plugins folder. */
async function claudePluginDecision(s: ServerEntry, read: PolicyReader, errors: ConfigError[], cache: Map<string, Record<string, unknown> | null>): Promise<Decision | null> {
  const where = pluginHome(s.configPath);
  if (!where) return null;
  const load = async (path: string): Promise<Record<string, unknown> | null> => {
    if (!cache.has(path)) {
      const { document, error } = await read(path);
      if (error) errors.push({ ...error, client: 'claude-code' });
      cache.set(path, document);
    }
    return cache.get(path) ?? null;
  };
  let id = where.id;
  const installed = await load(join(where.claudeDir, 'plugins', 'installed_plugins.json'));
  if (isObj(installed) && isObj(installed.plugins)) {
    for (const [pluginId, value] of Object.entries(installed.plugins)) {
      for (const e of Array.isArray(value) ? value : [value]) {
        const root = isObj(e) && typeof e.installPath === 'string' ? e.installPath.replace(/[\\/]+$/, '') : null;
        if (root && (s.configPath.startsWith(`${root}/`) || s.configPath.startsWith(`${root}\\`))) id = pluginId;
      }
    }
  }
  if (!id) return null;
  const settingsPath = join(where.claudeDir, 'settings.json');
  const settings = await load(settingsPath);
  if (isObj(settings) && isObj(settings.enabledPlugins) && settings.enabledPlugins[id] === false) {
    return { effective: 'disabled', reason: `plugin "${id}" is disabled (enabledPlugins in ${settingsPath})` };
  }
  return null;
}

/** Codex plugin enabled state, from the parsed config.toml of the Codex home holding the plugin cache. */
function codexPluginDecision(s: ServerEntry, files: readonly ConfigFileResult[]): Decision | null {
  const where = pluginHome(s.configPath);
  if (!where?.id) return null;
  const config = files.find((f) => f.client === 'codex' && f.scope === 'user' && basename(f.path) === 'config.toml' && dirname(f.path) === where.claudeDir && isObj(f.document));
  const plugins = isObj(config?.document) ? config.document.plugins : undefined;
  const entry = isObj(plugins) ? plugins[where.id] : undefined;
  if (!isObj(entry)) return null;
  if (entry.enabled === false) return { effective: 'disabled', reason: `plugin "${where.id}" is disabled ([plugins."${where.id}"] enabled = false in ${config!.path})` };
  const server = isObj(entry.mcp_servers) ? entry.mcp_servers[s.name] : undefined;
  if (isObj(server) && server.enabled === false) return { effective: 'disabled', reason: `[plugins."${where.id}".mcp_servers.${s.name}] enabled = false in ${config!.path}` };
  return null;
}

const VSCODE_FAMILY = new Set(['vscode', 'vscode-insiders', 'vscodium']);

function vscodeDecision(s: ServerEntry, files: readonly ConfigFileResult[]): Decision | null {
  if (!VSCODE_FAMILY.has(s.client)) return null;
  for (const f of files) {
    if (f.client !== s.client || f.scope !== 'user' || basename(f.path) !== 'settings.json' || !isObj(f.document)) continue;
    if (s.user != null && f.user !== s.user) continue;
    if (f.document['chat.mcp.enabled'] === false) return { effective: 'disabled', reason: `chat.mcp.enabled is false in ${f.path}` };
    if (f.document['chat.mcp.access'] === 'none') return { effective: 'blocked-by-policy', reason: `chat.mcp.access is "none" in ${f.path}` };
  }
  return null;
}

/** What each `chat.mcp.discovery.enabled` source imports: the client and the scopes of its files. */
const DISCOVERY_SOURCES: ReadonlyArray<{ key: string; client: string; scopes: readonly string[] }> = [
  { key: 'claude-desktop', client: 'claude-desktop', scopes: ['user'] },
  { key: 'windsurf', client: 'windsurf', scopes: ['user'] },
  { key: 'cursor-global', client: 'cursor', scopes: ['user'] },
  { key: 'cursor-workspace', client: 'cursor', scopes: ['project'] },
];

interface DiscoveryImport {
  editor: string;
  user: string | null;
  path: string;
  sources: Set<string>;
}

/** The discovery sources each VS Code family editor's user settings turn on (none when its MCP is off). */
function vscodeImports(files: readonly ConfigFileResult[]): DiscoveryImport[] {
  const out: DiscoveryImport[] = [];
  for (const f of files) {
    if (!VSCODE_FAMILY.has(f.client) || f.scope !== 'user' || basename(f.path) !== 'settings.json' || !isObj(f.document)) continue;
    const doc = f.document;
    if (doc['chat.mcp.enabled'] === false || doc['chat.mcp.access'] === 'none') continue;
    const setting = doc['chat.mcp.discovery.enabled'] ?? (isObj(doc.chat) && isObj(doc.chat.mcp) && isObj(doc.chat.mcp.discovery) ? doc.chat.mcp.discovery.enabled : undefined);
    const sources = new Set<string>();
    if (setting === true) for (const src of DISCOVERY_SOURCES) sources.add(src.key);
    else if (isObj(setting)) for (const [key, on] of Object.entries(setting)) if (on === true) sources.add(key);
    if (sources.size > 0) out.push({ editor: f.client, user: f.user ?? null, path: f.path, sources });
  }
  return out;
}

/** Marks the servers a VS Code family editor imports as in effect through it. */
function applyVscodeImports(decided: Array<{ server: ServerEntry; d: Decision }>, imports: readonly DiscoveryImport[]): void {
  if (imports.length === 0) return;
  for (const x of decided) {
    const src = DISCOVERY_SOURCES.find((d) => d.client === x.server.client && d.scopes.includes(x.server.scope));
    if (!src || x.server.disabled) continue;
    const by = imports.filter((i) => i.sources.has(src.key) && (x.server.user == null || i.user == null || i.user === x.server.user));
    if (by.length === 0) continue;
    const via = `loaded by ${by.map((i) => i.editor).join(', ')} too (chat.mcp.discovery.enabled imports "${src.key}" in ${by[0]!.path})`;
    x.d = x.d.effective === 'active' ? { effective: 'active', reason: `${x.d.reason}; ${via}` } : { effective: 'active', reason: `${via}; for ${x.server.client} itself: ${x.d.effective} (${x.d.reason})` };
  }
}

const SCOPE_RANK: Record<string, number> = { managed: 5, workspace: 4, project: 4, profile: 3, user: 2, plugin: 1 };

function rank(s: ServerEntry): number {
  // Claude Code: a local entry (~/.claude.json projects.<path>) beats the project's .mcp.json.
  const localBonus = s.client === 'claude-code' && s.scope === 'project' && basename(s.configPath) === '.claude.json' ? 0.5 : 0;
  return (SCOPE_RANK[s.scope] ?? 0) + localBonus;
}

/** Marks same-named active entries of one client, user and project: the most specific wins. */
function shadow(decided: Array<{ server: ServerEntry; d: Decision }>): void {
  const groups = new Map<string, Array<{ server: ServerEntry; d: Decision }>>();
  for (const x of decided) {
    if (x.d.effective !== 'active') continue;
    const k = [x.server.client, x.server.user ?? '', x.server.projectPath ?? '', x.server.name].join('\0');
    groups.set(k, [...(groups.get(k) ?? []), x]);
  }
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const sorted = [...group].sort((a, b) => rank(b.server) - rank(a.server));
    const winner = sorted[0]!.server;
    for (const loser of sorted.slice(1)) {
      loser.d = { effective: 'shadowed', reason: `"${winner.name}" is also defined in ${winner.configPath} (${winner.scope}), which wins` };
    }
  }
}

/** Decides `effective` and `effectiveReason` for every server. Never throws. */
export async function resolveEffectiveState(
  ctx: Pick<ScanContext, 'platform' | 'systemRoot' | 'env'>,
  servers: readonly ServerEntry[],
  files: readonly ConfigFileResult[],
  read: PolicyReader = readPolicyFile,
): Promise<EffectiveResult> {
  const errors: ConfigError[] = [];
  try {
    const needClaude = servers.some((s) => s.client === 'claude-code');
    const policy = needClaude ? await claudePolicy(ctx, files, read, errors) : null;
    const cache = new Map<string, Record<string, unknown> | null>();
    const decided: Array<{ server: ServerEntry; d: Decision }> = [];
    for (const s of servers) {
      let d: Decision | null = null;
      if (s.disabled) d = { effective: 'disabled', reason: `disabled in ${s.configPath}` };
      if (!d && policy && s.client === 'claude-code') d = claudePolicyDecision(s, policy);
      if (!d && s.client === 'claude-code' && s.scope === 'project' && basename(s.configPath) === '.mcp.json') d = await mcpjsonDecision(s, files, read, errors, cache, ctx.env.CLAUDE_CONFIG_DIR?.trim() ? resolve(ctx.env.CLAUDE_CONFIG_DIR) : null);
      if (!d && s.client === 'claude-desktop' && s.scope === 'plugin') d = await dxtDecision(s, read, errors);
      if (!d && s.client === 'claude-code' && s.scope === 'plugin') d = await claudePluginDecision(s, read, errors, cache);
      if (!d && s.client === 'codex' && s.scope === 'plugin') d = codexPluginDecision(s, files);
      if (!d) d = vscodeDecision(s, files);
      decided.push({ server: s, d: d ?? { effective: 'active', reason: 'configured and enabled' } });
    }
    shadow(decided);
    applyVscodeImports(decided, vscodeImports(files));
    return { servers: decided.map(({ server, d }) => ({ ...server, effective: d.effective, effectiveReason: d.reason.slice(0, 1024) })), errors };
  } catch (error) {
    const reason = `effective state not decided: ${(error as Error).message}`.slice(0, 2048);
    return { servers: [...servers], errors: [...errors, { path: '(effective-state)', client: null, code: 'effective-state-failed', reason, line: null, column: null, entry: null }] };
  }
}

/** Whether a server is in effect (servers from agents before issue 14 carry no state: in effect unless disabled). */
export function isInEffect(s: Pick<ServerEntry, 'effective' | 'disabled'>): boolean {
  return s.effective === undefined ? !s.disabled : s.effective === 'active';
}
