/**
 * Extensions that run code, per client and scope (issue 14): skills (Claude Code `.claude/skills`
 * and the cross-client `.agents/skills` folders), hooks (Claude Code and Gemini CLI settings
 * `hooks`; Cursor, Windsurf and Copilot `hooks.json` files; a Claude Code plugin's
 * hooks/hooks.json or plugin.json `hooks`, with `${CLAUDE_PLUGIN_ROOT}` expanded) and Claude Code
 * plugins (the folders plugins/installed_plugins.json records, and the legacy plugins/repos/*).
 * Claude Code's user folder is ~/.claude, or $CLAUDE_CONFIG_DIR when that is set for the home.
 * `extensionPlaces` lists every place read, so watch mode watches the same places.
 *
 * Promises: every extension gets a stable key, a SHA-256 over its content (skills and plugins: the
 * sorted relative paths and bytes of their files; hooks: the definition), its declared version and
 * whether it can start a process. Hook commands are redacted with the injected redactor before
 * they are recorded. Bounded: at most MAX_FILES_PER_EXTENSION files and MAX_BYTES_PER_EXTENSION
 * bytes hashed per folder (past that, only names and sizes count), depth MAX_DEPTH, never through
 * symlinks, node_modules or .git; at most MAX_EXTENSIONS records per scan.
 * Failures: a settings file that cannot be read or parsed, or a folder that cannot be listed, is a
 * ConfigError (code as the config reader gives it, or `unreadable`) next to the records that could
 * be read. Never throws.
 */
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { ConfigError, ConfigScope, ExtensionKind, ExtensionRecord } from '@mcpwatch/shared';
import { homeBases } from '../discovery/base-dirs.js';
import { readConfigFile } from '../discovery/config-reader.js';
import { claudeInstalledPlugins } from '../discovery/project-finder.js';
import { claudeManagedDirs } from '../discovery/effective-state.js';
import { expandPluginRoot } from '../discovery/plugin-root.js';
import { MAX_WATCH_DEPTH, type WatchSpec } from '../discovery/watch-plan.js';
import type { ScanContext } from '../types.js';

export const MAX_FILES_PER_EXTENSION = 500;
export const MAX_BYTES_PER_EXTENSION = 16 * 1024 * 1024;
export const MAX_DEPTH = 8;
export const MAX_EXTENSIONS = 2000;
const SETTINGS_MAX_BYTES = 5 * 1024 * 1024;
const SCRIPT_EXTENSIONS = new Set(['.sh', '.bash', '.zsh', '.fish', '.py', '.js', '.mjs', '.cjs', '.ts', '.ps1', '.psm1', '.rb', '.pl', '.php', '.bat', '.cmd', '.exe', '.lua']);

/** Plugin manifests of Claude Code, Codex and Cursor, relative to the plugin folder. */
const PLUGIN_MANIFESTS = ['.claude-plugin/plugin.json', '.codex-plugin/plugin.json', '.cursor-plugin/plugin.json'];

export interface ExtensionScan {
  extensions: ExtensionRecord[];
  errors: ConfigError[];
}

export interface ExtensionFinderDeps {
  /** Redacts a command line (secrets replaced), as for server commands and process command lines. */
  redact: (commandLine: string) => string;
}

interface Place {
  client: string;
  scope: ConfigScope;
  user: string | null;
  projectPath: string | null;
}

const sha256 = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function keyOf(kind: ExtensionKind, place: Place, path: string, extra = ''): string {
  return sha256([kind, place.client, place.scope, place.user ?? '', place.projectPath ?? '', path, extra].join('\0')).slice(0, 32);
}

function folderError(path: string, client: string, err: unknown): ConfigError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  return { path, client, code: 'unreadable', reason: `cannot read this extension folder (${code}); not inventoried`.slice(0, 2048), line: null, column: null, entry: null };
}

/** Hash, file count and script presence of one folder (bounded, no symlinks). */
async function hashFolder(root: string): Promise<{ sha: string; files: number; scripts: boolean; texts: Map<string, string> }> {
  const entries: Array<{ rel: string; path: string; size: number; exec: boolean }> = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH || entries.length >= MAX_FILES_PER_EXTENSION) return;
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      if (entries.length >= MAX_FILES_PER_EXTENSION) return;
      if (name === 'node_modules' || name === '.git') continue;
      const path = join(dir, name);
      const st = await lstat(path);
      if (st.isSymbolicLink()) continue;
      if (st.isDirectory()) await walk(path, depth + 1);
      else if (st.isFile()) entries.push({ rel: relative(root, path).split(sep).join('/'), path, size: st.size, exec: (st.mode & 0o111) !== 0 });
    }
  };
  await walk(root, 0);
  const h = createHash('sha256');
  let budget = MAX_BYTES_PER_EXTENSION;
  const texts = new Map<string, string>();
  for (const e of entries) {
    h.update(`${e.rel}\0${e.size}\0`);
    if (e.size <= budget) {
      const bytes = await readFile(e.path);
      budget -= bytes.length;
      h.update(bytes);
      if (e.rel === 'SKILL.md' || PLUGIN_MANIFESTS.includes(e.rel)) texts.set(e.rel, bytes.toString('utf8'));
    }
  }
  const scripts = entries.some((e) => e.exec || SCRIPT_EXTENSIONS.has(e.rel.slice(e.rel.lastIndexOf('.')).toLowerCase()));
  return { sha: h.digest('hex'), files: entries.length, scripts, texts };
}

/** `name:` and `version:` (top level or under `metadata:`) from SKILL.md front matter. */
export function skillFrontMatter(text: string | undefined): { name: string | null; version: string | null } {
  const m = text?.match(/^---\r?\n([\s\S]*?)\r?\n---/);
  if (!m) return { name: null, version: null };
  const field = (key: string): string | null => {
    const f = m[1]!.match(new RegExp(`^\\s*${key}:\\s*["']?([^"'\\r\\n]+?)["']?\\s*$`, 'm'));
    return f ? f[1]!.slice(0, 128) : null;
  };
  return { name: field('name'), version: field('version') };
}

async function skillsIn(dir: string, place: Place, out: ExtensionScan): Promise<void> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ENOTDIR') out.errors.push(folderError(dir, place.client, err));
    return;
  }
  for (const name of names) {
    if (out.extensions.length >= MAX_EXTENSIONS) return;
    const path = join(dir, name);
    try {
      const st = await lstat(path);
      if (!st.isDirectory()) continue;
      const h = await hashFolder(path);
      if (!h.texts.has('SKILL.md') && h.files === 0) continue;
      const fm = skillFrontMatter(h.texts.get('SKILL.md'));
      out.extensions.push({
        extensionKey: keyOf('skill', place, path),
        client: place.client,
        kind: 'skill',
        scope: place.scope,
        user: place.user,
        projectPath: place.projectPath,
        path,
        name: (fm.name ?? name).slice(0, 512),
        version: fm.version,
        contentSha256: h.sha,
        fileCount: h.files,
        runsCommand: h.scripts,
      });
    } catch (err) {
      out.errors.push(folderError(path, place.client, err));
    }
  }
}

async function pluginAt(path: string, place: Place, deps: ExtensionFinderDeps, out: ExtensionScan): Promise<void> {
  try {
    const h = await hashFolder(path);
    if (h.files === 0) return; // an empty or vanished folder is no plugin
    let manifest: Record<string, unknown> = {};
    const manifestRel = PLUGIN_MANIFESTS.find((m) => h.texts.has(m));
    try {
      const parsed: unknown = JSON.parse(manifestRel ? (h.texts.get(manifestRel) ?? '{}') : '{}');
      if (isObj(parsed)) manifest = parsed;
    } catch {
      out.errors.push({ path: join(path, ...(manifestRel ?? PLUGIN_MANIFESTS[0]!).split('/')), client: place.client, code: 'parse', reason: 'invalid JSON in plugin.json; plugin recorded by folder', line: null, column: null, entry: null });
    }
    const hooksBefore = out.extensions.length;
    await pluginHooks(path, manifest, join(path, ...(manifestRel ?? PLUGIN_MANIFESTS[0]!).split('/')), place, deps, out);
    const hasCommandHooks = out.extensions.slice(hooksBefore).some((e) => e.runsCommand);
    out.extensions.push({
      extensionKey: keyOf('plugin', place, path),
      client: place.client,
      kind: 'plugin',
      scope: place.scope,
      user: place.user,
      projectPath: place.projectPath,
      path,
      name: (typeof manifest.name === 'string' ? manifest.name : basename(path)).slice(0, 512),
      version: typeof manifest.version === 'string' ? manifest.version.slice(0, 128) : null,
      contentSha256: h.sha,
      fileCount: h.files,
      runsCommand: h.scripts || hasCommandHooks,
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') out.errors.push(folderError(path, place.client, err));
  }
}

/**
 * A plugin's hooks: hooks/hooks.json, and plugin.json `hooks` (inline, or the path(s) of hook
 * files relative to the plugin). Paths that leave the plugin folder are not followed.
 */
async function pluginHooks(root: string, manifest: Record<string, unknown>, manifestPath: string, place: Place, deps: ExtensionFinderDeps, out: ExtensionScan): Promise<void> {
  const files = new Set([join(root, 'hooks', 'hooks.json')]);
  const declared = manifest.hooks;
  for (const ref of typeof declared === 'string' ? [declared] : Array.isArray(declared) ? declared : []) {
    if (typeof ref !== 'string') continue;
    const target = resolve(root, ref);
    const rel = relative(root, target);
    if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) files.add(target);
  }
  for (const file of files) await hooksIn(file, place, deps, out, root);
  if (isObj(declared)) addHooks(isObj(declared.hooks) ? declared.hooks : declared, manifestPath, place, deps, out, root);
}

/** Hook definitions as Claude Code and Gemini CLI write them: {Event: [{matcher, hooks: [{type, command}]}]}. */
function nestedHooks(hooks: Record<string, unknown>): Array<{ event: string; matcher: string | null; command: string | null }> {
  const out: Array<{ event: string; matcher: string | null; command: string | null }> = [];
  for (const [event, groups] of Object.entries(hooks)) {
    for (const group of Array.isArray(groups) ? groups : []) {
      if (!isObj(group)) continue;
      const matcher = typeof group.matcher === 'string' ? group.matcher : null;
      const inner = Array.isArray(group.hooks) ? group.hooks : [group];
      for (const h of inner) if (isObj(h)) out.push({ event, matcher, command: commandOf(h) });
    }
  }
  return out;
}

/** Flat hook lists as Cursor, Windsurf and Copilot write them: {event: [{command | bash | powershell}]}. */
function commandOf(h: Record<string, unknown>): string | null {
  for (const k of ['command', 'bash', 'powershell', 'prompt']) if (typeof h[k] === 'string') return h[k];
  return null;
}

/** Reads a settings or hooks file's `hooks` (`pluginRoot`: a plugin's file, `${CLAUDE_PLUGIN_ROOT}` expanded). */
async function hooksIn(path: string, place: Place, deps: ExtensionFinderDeps, out: ExtensionScan, pluginRoot?: string): Promise<void> {
  const r = await readConfigFile(path, { format: 'jsonc', maxFileBytes: SETTINGS_MAX_BYTES, client: place.client });
  if (r.status === 'missing') return;
  if (r.status === 'error') {
    out.errors.push(r.error);
    return;
  }
  const hooks = r.document.hooks;
  if (isObj(hooks)) addHooks(hooks, path, place, deps, out, pluginRoot);
}

function addHooks(hooks: Record<string, unknown>, path: string, place: Place, deps: ExtensionFinderDeps, out: ExtensionScan, pluginRoot?: string): void {
  nestedHooks(pluginRoot === undefined ? hooks : expandPluginRoot(hooks, pluginRoot)).forEach((h, index) => {
    if (out.extensions.length >= MAX_EXTENSIONS) return;
    const command = h.command === null ? null : deps.redact(h.command).slice(0, 4096);
    out.extensions.push({
      extensionKey: keyOf('hook', place, path, `${h.event}\0${h.matcher ?? ''}\0${index}`),
      client: place.client,
      kind: 'hook',
      scope: place.scope,
      user: place.user,
      projectPath: place.projectPath,
      path,
      name: `${h.event}${h.matcher ? `:${h.matcher}` : ''}`.slice(0, 512),
      version: null,
      // Over the definition as written (values included) so a changed secret still changes the hash.
      contentSha256: sha256(JSON.stringify([h.event, h.matcher, h.command])),
      fileCount: 1,
      runsCommand: h.command !== null,
      hookEvent: h.event.slice(0, 128),
      hookMatcher: h.matcher?.slice(0, 512) ?? null,
      hookCommand: command,
    });
  });
}

/** One place extensions are read from: a skills folder, a hooks file, a folder of hook files, a plugin registry or plugin repos folder. */
export interface ExtensionPlace {
  kind: 'skills' | 'hooks' | 'hooks-dir' | 'installed-plugins' | 'plugin-repos' | 'plugin-tree';
  path: string;
  place: Place;
  /** plugin-tree: the plugin folders sit this many levels below `path`. */
  depth?: number;
}

/** Claude Code's user folders for a home: ~/.claude, and $CLAUDE_CONFIG_DIR when it applies to that home. */
function claudeUserDirs(ctx: ScanContext, home: ScanContext['homes'][number]): string[] {
  const configDir = homeBases(ctx, home).dir('env:CLAUDE_CONFIG_DIR');
  return [...new Set([join(home.home, '.claude'), ...(configDir ? [configDir] : [])])];
}

/** Every place findExtensions reads for these homes and projects (watch mode watches the same). */
export function extensionPlaces(ctx: ScanContext, projects: readonly string[]): ExtensionPlace[] {
  const out: ExtensionPlace[] = [];
  const add = (kind: ExtensionPlace['kind'], path: string, place: Place, depth?: number): void => {
    out.push({ kind, path, place, ...(depth !== undefined ? { depth } : {}) });
  };
  for (const home of ctx.homes) {
    const at = (client: string, scope: ConfigScope): Place => ({ client, scope, user: home.user, projectPath: null });
    for (const dir of claudeUserDirs(ctx, home)) {
      add('skills', join(dir, 'skills'), at('claude-code', 'user'));
      add('hooks', join(dir, 'settings.json'), at('claude-code', 'user'));
      add('installed-plugins', join(dir, 'plugins', 'installed_plugins.json'), at('claude-code', 'plugin'));
      add('plugin-repos', join(dir, 'plugins', 'repos'), at('claude-code', 'plugin'));
    }
    add('skills', join(home.home, '.agents', 'skills'), at('agents-skills', 'user'));
    // Codex and Cursor plugins, as installed: <marketplace>/<plugin>/<version> below their caches.
    const codexHome = homeBases(ctx, home).dir('env:CODEX_HOME');
    for (const dir of new Set([join(home.home, '.codex'), ...(codexHome ? [codexHome] : [])])) add('plugin-tree', join(dir, 'plugins', 'cache'), at('codex', 'plugin'), 3);
    add('plugin-tree', join(home.home, '.cursor', 'plugins', 'cache'), at('cursor', 'plugin'), 3);
    add('plugin-tree', join(home.home, '.cursor', 'plugins', 'local'), at('cursor', 'plugin'), 1);
    add('hooks', join(home.home, '.gemini', 'settings.json'), at('gemini-cli', 'user'));
    add('hooks', join(home.home, '.cursor', 'hooks.json'), at('cursor', 'user'));
    add('hooks', join(home.home, '.codeium', 'windsurf', 'hooks.json'), at('windsurf', 'user'));
  }
  for (const project of projects) {
    const at = (client: string): Place => ({ client, scope: 'project', user: null, projectPath: project });
    add('skills', join(project, '.claude', 'skills'), at('claude-code'));
    add('skills', join(project, '.agents', 'skills'), at('agents-skills'));
    add('hooks', join(project, '.claude', 'settings.json'), at('claude-code'));
    add('hooks', join(project, '.claude', 'settings.local.json'), at('claude-code'));
    add('hooks', join(project, '.gemini', 'settings.json'), at('gemini-cli'));
    add('hooks', join(project, '.cursor', 'hooks.json'), at('cursor'));
    add('hooks', join(project, '.windsurf', 'hooks.json'), at('windsurf'));
    add('hooks-dir', join(project, '.github', 'hooks'), at('copilot-cli'));
  }
  for (const dir of claudeManagedDirs(ctx)) add('hooks', join(dir, 'managed-settings.json'), { client: 'claude-code', scope: 'managed', user: null, projectPath: null });
  return out;
}

/** Levels below a skills folder that matter: <skill>/SKILL.md, <skill>/scripts/<file>, one more. */
const SKILLS_WATCH_DEPTH = 3;

/**
 * What watch mode watches for extensions: skills folders (to SKILLS_WATCH_DEPTH levels), hook and
 * plugin-registry files, Copilot's hooks folder, the legacy plugin repos (MAX_WATCH_DEPTH). The
 * plugin cache is watched by discovery already (its `.mcp.json` globs).
 */
export function extensionWatchSpecs(ctx: ScanContext, projects: readonly string[]): WatchSpec[] {
  return extensionPlaces(ctx, projects).map(({ kind, path }): WatchSpec => {
    if (kind === 'skills') return { path, kind: 'dir', depth: SKILLS_WATCH_DEPTH };
    if (kind === 'hooks-dir') return { path, kind: 'dir', depth: 0 };
    if (kind === 'plugin-repos' || kind === 'plugin-tree') return { path, kind: 'dir', depth: MAX_WATCH_DEPTH };
    return { path, kind: 'file', depth: 0 };
  });
}

/** Folder names below a folder, sorted; a missing folder is empty, an unreadable one an error. */
async function subfolders(dir: string, client: string, out: ExtensionScan): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') out.errors.push(folderError(dir, client, err));
    return [];
  }
}

/** What a plugin folder holds at its root (plugins reference: manifest, servers, hooks, components). */
const PLUGIN_MARKERS = ['.claude-plugin', '.mcp.json', 'hooks', 'commands', 'agents', 'skills'];

/** Legacy plugin repos: plugins/repos/<name>, or plugins/repos/<owner>/<name> when <owner> holds no plugin itself. */
async function pluginRepos(dir: string, place: Place, deps: ExtensionFinderDeps, out: ExtensionScan): Promise<void> {
  for (const name of await subfolders(dir, place.client, out)) {
    const folder = join(dir, name);
    const names = await readdir(folder).catch(() => [] as string[]);
    const isPlugin = names.some((n) => PLUGIN_MARKERS.includes(n));
    const inner = isPlugin ? [] : await subfolders(folder, place.client, out);
    for (const p of isPlugin || inner.length === 0 ? [folder] : inner.map((n) => join(folder, n))) await pluginAt(p, place, deps, out);
  }
}

async function readPlace(p: ExtensionPlace, deps: ExtensionFinderDeps, out: ExtensionScan): Promise<void> {
  switch (p.kind) {
    case 'skills':
      return skillsIn(p.path, p.place, out);
    case 'hooks':
      return hooksIn(p.path, p.place, deps, out);
    case 'hooks-dir':
      for (const name of (await readdir(p.path).catch(() => [] as string[])).filter((n) => n.endsWith('.json')).sort()) await hooksIn(join(p.path, name), p.place, deps, out);
      return;
    case 'plugin-repos':
      return pluginRepos(p.path, p.place, deps, out);
    case 'plugin-tree': {
      let level = [p.path];
      for (let d = 0; d < (p.depth ?? 1); d++) {
        const next: string[] = [];
        for (const dir of level) for (const name of await subfolders(dir, p.place.client, out)) next.push(join(dir, name));
        level = next.slice(0, MAX_EXTENSIONS);
      }
      for (const dir of level) await pluginAt(dir, p.place, deps, out);
      return;
    }
    case 'installed-plugins': {
      const installed = await readConfigFile(p.path, { format: 'json', maxFileBytes: SETTINGS_MAX_BYTES, client: p.place.client });
      if (installed.status === 'error') out.errors.push(installed.error);
      if (installed.status === 'ok') for (const dir of claudeInstalledPlugins(installed.document)) await pluginAt(dir, p.place, deps, out);
      return;
    }
  }
}

/**
 * Every skill, hook and plugin in the users' homes, the given project folders and the machine's
 * managed settings. Never throws.
 */
export async function findExtensions(ctx: ScanContext, projects: readonly string[], deps: ExtensionFinderDeps): Promise<ExtensionScan> {
  const out: ExtensionScan = { extensions: [], errors: [] };
  try {
    for (const p of extensionPlaces(ctx, projects)) await readPlace(p, deps, out);
  } catch (err) {
    out.errors.push({ path: '(extensions)', client: null, code: 'extensions-failed', reason: `extension scan stopped: ${(err as Error).message}`.slice(0, 2048), line: null, column: null, entry: null });
  }
  // A plugin both recorded in installed_plugins.json and kept under plugins/repos is one plugin.
  const seen = new Set<string>();
  out.extensions = out.extensions.filter((e) => (seen.has(e.extensionKey) ? false : (seen.add(e.extensionKey), true)));
  return out;
}
