/**
 * Discovery: every catalog location for every home, for every project folder found, and the
 * machine-wide (managed) locations; each existing file read, parsed and its raw server entries
 * extracted. Also the list of paths a watcher should watch.
 *
 * Contract: discover() never throws and never silently drops a file that exists: each existing
 * file yields a ConfigFileResult (with entries, or with coded errors). Raw entries carry secret
 * values and never leave the agent. Everything is bounded (glob and project walks, file size,
 * entries per file, number of projects).
 */
import { dirname, isAbsolute, normalize, posix, relative, resolve, sep, win32 } from 'node:path';
import type { ClientRecord, ConfigError } from '@mcpwatch/shared';
import { CLIENTS, locationsFor, projectMarkers, type ClientDefinition, type ConfigLocation, type ProjectSource } from '../catalog/index.js';
import type { ConfigFileResult, DiscoveryResult, ScanContext, UserHome } from '../types.js';
import { homeBases, homeContext, systemRootDir, type BaseResolver } from './base-dirs.js';
import { DEFAULT_MAX_FILE_BYTES, readConfigFile, type ReadResult } from './config-reader.js';
import { readDockerProfiles } from './docker-profiles.js';
import { extractEntries } from './entry-extractor.js';
import { readDefinitions, type Definitions } from './definitions.js';
import { pluginRootOf } from './plugin-root.js';
import { expandPath, watchPathFor } from './path-expander.js';
import { claudeInstalledPlugins, claudeProjects, vscodeStorageProjects, vscodeWorkspaceProject, walkProjectRoots } from './project-finder.js';
import { byText } from '../normalize/text-order.js';

export { DEFAULT_MAX_FILE_BYTES, lineColumnAt, parseConfigText, readConfigFile, type ParseResult, type ReadOptions, type ReadResult } from './config-reader.js';
export { extractEntries, MAX_ENTRIES_PER_FILE } from './entry-extractor.js';
export { defaultHomes, injectedHome, parsePasswd, parseWslList, realHomeDeps, usersRoot, wslHomes, WSL_ROOT, type HomeDeps } from './home-finder.js';
export { envAppliesTo, homeBases } from './base-dirs.js';
export { claudeInstalledPlugins, claudeProjects, pathFromFileUri, vscodeStorageProjects, vscodeWorkspaceProject, walkProjectRoots } from './project-finder.js';

/** Upper bound on project folders read per scan (recorded + walked). */
export const MAX_PROJECTS = 2000;
/** Upper bound on installed plugin folders read per scan. */
export const MAX_PLUGINS = 1000;

interface Owner {
  user: string | null;
}

/**
 * A recorded folder as a lookup key: normalized, without a trailing separator. null for a
 * relative path (a recorded folder can only be located when absolute, on either OS's rules; the
 * scan's cwd means nothing for it).
 */
function folderKey(path: string): string | null {
  if (!posix.isAbsolute(path) && !win32.isAbsolute(path)) return null;
  const n = normalize(path);
  return n.length > 1 && /[\\/]$/.test(n) ? n.slice(0, -1) : n;
}

/** The size limit for one location's files: the scan's, raised where the catalog says so. */
function fileLimit(ctx: ScanContext, location: ConfigLocation): number {
  return Math.max(ctx.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES, location.minMaxFileBytes ?? 0);
}

/** Mutable state of one discovery run. */
class Run {
  readonly files: ConfigFileResult[] = [];
  readonly errors: ConfigError[] = [];
  /** Parsed documents by path, so a file read as config is not re-read as a project source. */
  readonly documents = new Map<string, Record<string, unknown> | null>();
  readonly projects = new Map<string, Owner>();
  /** Installed plugin folders, keyed by client id then folder. */
  readonly plugins = new Map<string, Map<string, Owner>>();
  private readonly seenFiles = new Set<string>();

  constructor(readonly ctx: ScanContext) {}

  /** Definitions files read this run, by base folder and pattern (read once, errors reported once). */
  private readonly definitionSets = new Map<string, Definitions>();

  private async definitionsFor(baseDir: string, client: ClientDefinition, location: ConfigLocation): Promise<Definitions | undefined> {
    if (!location.definitions) return undefined;
    const key = `${client.id}\0${baseDir}\0${location.definitions.path.join('/')}`;
    let defs = this.definitionSets.get(key);
    if (!defs) {
      defs = await readDefinitions(baseDir, location.definitions, client.id, fileLimit(this.ctx, location));
      this.definitionSets.set(key, defs);
      for (const e of defs.errors) this.noteFolderError(e);
    }
    return defs;
  }

  /** Reads one candidate file of `client` at `location` (once per path per run). */
  async readFile(path: string, client: ClientDefinition, location: ConfigLocation, user: string | null, projectPath: string | null, baseDir: string, pluginRoot?: string): Promise<void> {
    const key = `${client.id}\0${path}`;
    if (this.seenFiles.has(key)) return;
    this.seenFiles.add(key);
    let extraErrors: ConfigError[] = [];
    let result: ReadResult;
    if (location.reader === 'docker-profiles') {
      const profiles = readDockerProfiles(path, fileLimit(this.ctx, location), client.id);
      result = profiles.read;
      extraErrors = profiles.errors;
    } else {
      result = await readConfigFile(path, { format: location.format, maxFileBytes: fileLimit(this.ctx, location), client: client.id });
    }
    if (result.status === 'missing') return;
    const base = { path, client: client.id, scope: location.scope, user, projectPath, format: location.format };
    if (result.status === 'error' && result.stat === null && result.error.code !== 'read-timeout') {
      // stat itself failed (EACCES / EPERM on a parent folder, ELOOP ...): whether the file exists
      // is unknown, so this is the folder's error, reported once per folder, not a file record.
      this.noteFolderError({ ...result.error, path: dirname(path), reason: `cannot look into this folder (${result.error.reason}); config files below it were not checked` });
      return;
    }
    if (result.status === 'error') {
      this.documents.set(path, null);
      this.files.push({ ...base, entries: [], errors: [result.error], stat: result.stat });
      return;
    }
    this.documents.set(path, result.document);
    const definitions = await this.definitionsFor(baseDir, client, location);
    const { entries, errors, references } = extractEntries(result.document, location, { client: client.id, configPath: path, user, projectPath, ...(pluginRoot ? { pluginRoot } : {}) }, definitions);
    this.files.push({ ...base, entries, errors: [...extraErrors, ...errors], stat: result.stat, document: result.document });
    for (const ref of references ?? []) await this.readReference(ref, path, client, location, user, projectPath);
  }

  /**
   * A file a plugin manifest names for its servers (`"mcpServers": "./mcp-config.json"`), relative
   * to the plugin folder. Only files inside that folder are read (a manifest cannot point the scan
   * at another file of the machine); one outside is an error of the manifest.
   */
  private async readReference(ref: string, from: string, client: ClientDefinition, location: ConfigLocation, user: string | null, projectPath: string | null): Promise<void> {
    const root = pluginRootOf(from);
    const target = resolve(root, ref);
    const rel = relative(root, target);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
      this.files.find((f) => f.path === from && f.client === client.id)?.errors.push({
        path: from,
        client: client.id,
        code: 'invalid-reference',
        reason: `mcpServers names a file outside the plugin folder (${ref.slice(0, 256)}); not read`,
        line: null,
        column: null,
      });
      return;
    }
    const referenced: ConfigLocation = { ...location, id: `${location.id}-reference`, path: [rel], sections: [{ path: ['mcpServers'], shape: 'map', rootFallback: true }] };
    await this.readFile(target, client, referenced, user, projectPath, root, root);
  }

  /** Records a folder that could not be searched, unless it or a folder above it already was. */
  noteFolderError(error: ConfigError): void {
    const inside = (folder: string, ancestor: string): boolean => folder === ancestor || folder.startsWith(ancestor.endsWith(sep) ? ancestor : ancestor + sep);
    if (this.errors.some((e) => e.code === 'unreadable' && inside(error.path, e.path))) return;
    this.errors.push(error);
  }

  /** Expands `location` below `baseDir` (bounded) and reads every candidate file. */
  async readBelow(baseDir: string, client: ClientDefinition, location: ConfigLocation, user: string | null, projectPath: string | null): Promise<void> {
    const expanded = await expandPath(baseDir, location.path);
    for (const e of expanded.errors) this.noteFolderError({ ...e, client: client.id });
    if (expanded.truncated) {
      this.errors.push({
        path: watchPathFor(baseDir, location.path),
        client: client.id,
        code: 'walk-truncated',
        reason: `search for ${location.path.join('/')} stopped at its directory/match limit; some files were not read`,
        line: null,
        column: null,
      });
    }
    for (const path of expanded.paths) await this.readFile(path, client, location, user, projectPath, baseDir);
  }

  addProject(path: string, owner: Owner): void {
    const key = folderKey(path);
    if (key === null || this.projects.has(key)) return;
    if (this.projects.size >= MAX_PROJECTS) {
      if (!this.errors.some((e) => e.code === 'too-many-projects')) {
        this.errors.push({ path, code: 'too-many-projects', reason: `more than ${MAX_PROJECTS} project folders; the rest were not read`, line: null, column: null });
      }
      return;
    }
    this.projects.set(key, owner);
  }

  addPlugin(client: string, path: string, owner: Owner): void {
    const forClient = this.plugins.get(client) ?? new Map<string, Owner>();
    this.plugins.set(client, forClient);
    const total = [...this.plugins.values()].reduce((n, m) => n + m.size, 0);
    const key = folderKey(path);
    if (key === null || forClient.has(key) || total >= MAX_PLUGINS) return;
    forClient.set(key, owner);
  }
}

async function readLocation(run: Run, bases: BaseResolver, client: ClientDefinition, location: ConfigLocation, user: string | null): Promise<void> {
  const baseDir = bases.dir(location.base);
  if (baseDir !== null) await run.readBelow(baseDir, client, location, user, null);
}

async function readProjectSource(run: Run, bases: BaseResolver, client: ClientDefinition, source: ProjectSource, home: UserHome): Promise<void> {
  const baseDir = bases.dir(source.base);
  if (baseDir === null) return;
  const expanded = await expandPath(baseDir, source.path);
  if (expanded.truncated) {
    // workspaceStorage holds one folder per workspace ever opened: it can pass the match limit.
    run.errors.push({
      path: watchPathFor(baseDir, source.path),
      client: client.id,
      code: 'walk-truncated',
      reason: `search for ${source.path.join('/')} stopped at its directory/match limit; some recorded projects were not read`,
      line: null,
      column: null,
    });
  }
  for (const path of expanded.paths) {
    let doc = run.documents.get(path);
    if (doc === undefined) {
      const r = await readConfigFile(path, { format: source.format, maxFileBytes: run.ctx.maxFileBytes });
      // A storage file that cannot be read only costs us project hints; it holds no servers.
      doc = r.status === 'ok' ? r.document : null;
      run.documents.set(path, doc);
    }
    if (!doc) continue;
    if (source.kind === 'claude-installed-plugins') {
      for (const p of claudeInstalledPlugins(doc)) run.addPlugin(client.id, p, { user: home.user });
      continue;
    }
    const found =
      source.kind === 'claude-projects'
        ? claudeProjects(doc)
        : source.kind === 'vscode-workspace'
          ? [vscodeWorkspaceProject(doc, run.ctx.platform)].filter((p): p is string => p !== null)
          : vscodeStorageProjects(doc, run.ctx.platform);
    for (const p of found) run.addProject(p, { user: home.user });
  }
}

function clientRecords(files: readonly ConfigFileResult[]): ClientRecord[] {
  const byKey = new Map<string, ClientRecord>();
  for (const f of files) {
    const key = `${f.client}\0${f.user ?? ''}`;
    let rec = byKey.get(key);
    if (!rec) {
      const def = CLIENTS.find((c) => c.id === f.client);
      rec = { client: f.client, displayName: def?.displayName ?? f.client, user: f.user, configPaths: [], serverCount: 0 };
      byKey.set(key, rec);
    }
    if (!rec.configPaths.includes(f.path)) rec.configPaths.push(f.path);
    rec.serverCount += f.entries.length;
  }
  const order = new Map(CLIENTS.map((c, i) => [c.id, i]));
  return [...byKey.values()].sort((a, b) => (order.get(a.client) ?? 99) - (order.get(b.client) ?? 99) || byText(a.user ?? '', b.user ?? ''));
}

/** Is this location machine-wide (read once, owned by no user)? */
function isMachineWide(location: ConfigLocation): boolean {
  return location.scope === 'managed';
}

/**
 * Finds and reads every MCP client config for the context's homes, projects and system.
 * @returns files (each existing file, parsed or with errors), client records, and errors that
 *   belong to no single file (unlistable directories, limits hit). Never throws.
 */
export async function discover(ctx: ScanContext): Promise<DiscoveryResult> {
  const run = new Run(ctx);
  const all = locationsFor(ctx.platform);
  try {
    // 1. Per-user locations (not project-relative), then the projects those users' clients recorded.
    for (const home of ctx.homes) {
      // A WSL home seen from Windows is read with the Linux layout (its own platform).
      const homeCtx = homeContext(ctx, home);
      const bases = homeBases(homeCtx, home);
      for (const { client, location } of homeCtx === ctx ? all : locationsFor(homeCtx.platform)) {
        if (location.base === 'project' || location.base === 'pluginDir' || isMachineWide(location)) continue;
        await readLocation(run, bases, client, location, home.user);
      }
      for (const client of CLIENTS) {
        for (const source of client.projectSources ?? []) if (source.os.includes(homeCtx.platform)) await readProjectSource(run, bases, client, source, home);
      }
    }
    // 1b. Installed plugin folders the clients' registries record.
    for (const { client, location } of all) {
      if (location.base !== 'pluginDir') continue;
      for (const [dir, owner] of run.plugins.get(client.id) ?? []) await run.readBelow(dir, client, location, owner.user, null);
    }
    // 2. Machine-wide (managed) locations: once, owned by no user. env:-based ones resolve per home.
    const machineBases = ctx.homes.length ? ctx.homes.map((h) => homeBases(ctx, h)) : [homeBases(ctx, { user: '', home: systemRootDir(ctx) })];
    for (const bases of machineBases) {
      for (const { client, location } of all) if (isMachineWide(location)) await readLocation(run, bases, client, location, null);
    }
    // 3. Project folders under --project-root.
    const walked = await walkProjectRoots(ctx.projectRoots, projectMarkers());
    for (const e of walked.errors) run.noteFolderError(e);
    if (walked.truncated) {
      run.errors.push({ path: ctx.projectRoots.join(', '), code: 'walk-truncated', reason: 'project walk stopped at its directory/depth limit; deeper folders were not read', line: null, column: null });
    }
    const rootOwner = ctx.homes.length === 1 ? (ctx.homes[0]?.user ?? null) : null;
    for (const p of walked.projects) run.addProject(p, { user: rootOwner });
    // 4. Project-relative locations in every project folder.
    const projectLocations = all.filter(({ location }) => location.base === 'project');
    for (const [projectPath, owner] of run.projects) {
      for (const { client, location } of projectLocations) await run.readBelow(projectPath, client, location, owner.user, projectPath);
    }
  } catch (err) {
    // Defensive: discovery reports rather than throws (a bug here must not stop the agent).
    run.errors.push({ path: '', code: 'discovery-failed', reason: `discovery stopped early: ${(err as Error).message}`, line: null, column: null });
  }
  return { files: run.files, clients: clientRecords(run.files), errors: run.errors, projects: [...run.projects.keys()] };
}

/**
 * Calls `visit` with each home-based path a watcher should cover for `ctx`: every home's
 * non-project catalog location (and its definitions file) under its base folder, and every
 * client's project-record source for the home's platform. Bases that do not apply are skipped.
 */
export function forEachHomeWatchPath(ctx: ScanContext, visit: (baseDir: string, segments: readonly string[]) => void): void {
  const all = locationsFor(ctx.platform);
  const note = (baseDir: string | null, segments: readonly string[]): void => {
    if (baseDir !== null) visit(baseDir, segments);
  };
  for (const home of ctx.homes) {
    const homeCtx = homeContext(ctx, home);
    const bases = homeBases(homeCtx, home);
    for (const { location } of homeCtx === ctx ? all : locationsFor(homeCtx.platform)) {
      if (location.base === 'project') continue;
      note(bases.dir(location.base), location.path);
      if (location.definitions) note(bases.dir(location.base), location.definitions.path);
    }
    for (const client of CLIENTS) {
      for (const source of client.projectSources ?? []) if (source.os.includes(homeCtx.platform)) note(bases.dir(source.base), source.path);
    }
  }
}

/**
 * Every file and folder a watcher should watch for this context: each catalog file path (whether
 * or not it exists yet), the folder above each glob (plugin trees, profile folders, block
 * folders), the files that record projects, the project roots, and each known project's
 * project-relative config paths. Pass `projects` from a previous discover() to include them.
 */
export function watchTargets(ctx: ScanContext, projects: readonly string[] = []): string[] {
  const out = new Set<string>();
  const all = locationsFor(ctx.platform);
  forEachHomeWatchPath(ctx, (baseDir, segments) => out.add(watchPathFor(baseDir, segments)));
  if (ctx.homes.length === 0) {
    for (const { location } of all) if (location.base === 'system') out.add(watchPathFor(systemRootDir(ctx), location.path));
  }
  for (const root of ctx.projectRoots) out.add(root);
  for (const p of [...projects, ...ctx.projectRoots]) {
    for (const { location } of all) if (location.base === 'project') out.add(watchPathFor(p, location.path));
  }
  return [...out].sort();
}
