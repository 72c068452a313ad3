/**
 * Shapes of the client catalog (the data lives in clients.ts). A catalog entry says, per OS, where
 * a client keeps MCP server definitions, in which format, where in the document the servers sit,
 * in which dialect they are written, and what the client's processes look like.
 *
 * Paths are written as segments relative to a base directory (see BaseDir) so one table serves
 * real machines and injected test homes alike; discovery resolves them (discovery/base-dirs.ts).
 */
import type { ConfigScope } from '@mcpwatch/shared';
import type { ConfigFormat, EntryDialect, Platform } from '../types.js';

/**
 * Where a location's path segments start.
 * - home: the user's home directory.
 * - appData: where Electron apps keep userData: macOS ~/Library/Application Support, Windows
 *   %APPDATA% (home/AppData/Roaming), Linux $XDG_CONFIG_HOME or ~/.config.
 * - localAppData: Windows %LOCALAPPDATA% (home/AppData/Local); absent elsewhere.
 * - xdgConfig: $XDG_CONFIG_HOME or ~/.config (tools that use it on every OS).
 * - system: machine-wide (managed) locations, prefixed by ScanContext.systemRoot; on Windows
 *   relative to the system drive (C:\).
 * - project: a project / workspace folder.
 * - pluginDir: an installed plugin's folder, as the client's own install registry records it.
 * - env:NAME: the directory (or, with no segments, the file) named by environment variable NAME;
 *   the location is skipped when NAME is unset.
 */
export type BaseDir = 'home' | 'appData' | 'localAppData' | 'xdgConfig' | 'system' | 'project' | 'pluginDir' | `env:${string}`;

/** Where server entries sit inside a parsed document. */
export interface ServerSection {
  /**
   * Keys from the document root to the container. '*' matches any key at that level (e.g.
   * Claude Code's projects.<path>.mcpServers). A key may itself contain dots ('mcp.servers').
   */
  path: string[];
  /**
   * map: {name: entry}; list: [{name, ...}] (name from `name`, else `uses`, else its index);
   * auto: whichever the document holds; single: the container IS one entry, named by the
   * string at `namePath` in the document (Claude Desktop extension manifests).
   */
  shape: 'map' | 'list' | 'auto' | 'single';
  /** For shape single: where the entry's name sits in the document. */
  namePath?: string[];
  /** Index in `path` of a '*' whose matched key is the entries' project folder. */
  projectKeyIndex?: number;
  /** Scope of entries in this section when it differs from the location's. */
  scope?: ConfigScope;
  /** Dialect of map-shaped entries when it differs from the location's (Continue JSON files). */
  mapDialect?: EntryDialect;
  /**
   * When the container holds this key and its value is a plain object that is not itself a server
   * entry, the entries are read from inside it (OpenCode's `mcp.servers` layout).
   */
  unwrapKey?: string;
  /**
   * When `path` is absent from the document, read the document root itself as the map of
   * servers (Claude Code plugin .mcp.json files may be written either way).
   */
  rootFallback?: boolean;
  /** The container may instead be a string naming another file (plugin.json `mcpServers`): not an error. */
  allowPathReference?: boolean;
}

/** One place a client keeps configuration. */
export interface ConfigLocation {
  /** Unique within the client, stable (used in tests and watch bookkeeping). */
  id: string;
  /** Operating systems this location applies to. */
  os: readonly Platform[];
  base: BaseDir;
  /**
   * Path segments below the base. A segment may be a glob: '*' or '*.ext' matches one directory
   * level; '**' matches zero or more directory levels (bounded walk, never into node_modules or
   * .git, never through symlinks).
   */
  path: readonly string[];
  scope: ConfigScope;
  format: ConfigFormat;
  dialect: EntryDialect;
  /** Where servers sit. Empty for files that only point at projects (see ProjectSource). */
  sections: readonly ServerSection[];
  /** Path to the VS Code style `inputs` array ([{id,...}]), recorded in fileContext.inputIds. */
  inputsPath?: readonly string[];
  /**
   * Size limit for this file when the client itself writes files larger than the scan's default
   * (Claude Code keeps per-project history in ~/.claude.json, which grows past 5 MiB). The
   * larger of this and ScanContext.maxFileBytes applies.
   */
  minMaxFileBytes?: number;
  /** Where this location was confirmed: a documentation URL or a source file of the client. */
  source?: string;
  /**
   * Files that hold the DEFINITIONS of the servers this file only names (Docker MCP Toolkit: its
   * registry.yaml enables servers by name, catalogs/*.yaml define them). Each entry is read as the
   * definition of the same name (files read in name order, `first` before the rest; a later file's
   * definition wins, as the gateway merges them), with the entry's own fields under `registryEntry`.
   * Same base as the location. A definitions file that cannot be read is an error of its own.
   */
  definitions?: DefinitionFiles;
  /**
   * Entries may use `${CLAUDE_PLUGIN_ROOT}`: it is replaced by the plugin's folder (the file's
   * folder, or the folder above `.claude-plugin/`) as Claude Code does before starting them.
   */
  pluginRoot?: boolean;
  /**
   * The file is not a text config: read by this reader into a document instead of being parsed
   * (`docker-profiles`: Docker MCP Toolkit's SQLite mcp-toolkit.db, discovery/docker-profiles.ts).
   */
  reader?: 'docker-profiles';
}

/** See ConfigLocation.definitions. */
export interface DefinitionFiles {
  path: readonly string[];
  format: ConfigFormat;
  /** Where the {name: definition} map sits in each file. */
  section: readonly string[];
  /** File name read before the others (the gateway's default catalog). */
  first?: string;
}

/**
 * A file in which a client records folders: project folders (claude-projects: keys of
 * `projects`; vscode-storage: VS Code's globalStorage/storage.json; vscode-workspace: each
 * workspaceStorage/<id>/workspace.json, one per workspace ever opened) or installed plugin folders
 * (claude-installed-plugins: installPath of each entry of plugins/installed_plugins.json).
 */
export interface ProjectSource {
  id: string;
  os: readonly Platform[];
  base: BaseDir;
  path: readonly string[];
  format: ConfigFormat;
  kind: 'claude-projects' | 'vscode-storage' | 'vscode-workspace' | 'claude-installed-plugins';
}

/** How one client's processes look on one OS. Regexes are written as source strings. */
export interface ProcessSignature {
  /** Executable base names, compared case-insensitively (without .exe on Windows also matches). */
  names: readonly string[];
  /** Patterns matched against the executable path. */
  pathPatterns: readonly string[];
  /** Patterns matched against the full command line (e.g. node scripts of npm-installed CLIs). */
  cmdlinePatterns: readonly string[];
}

/** One MCP client. */
export interface ClientDefinition {
  /** Catalog id used in every record (claude-desktop, claude-code, cursor, ...). */
  id: string;
  displayName: string;
  locations: readonly ConfigLocation[];
  projectSources?: readonly ProjectSource[];
  /** Per-OS process signatures; a client hosted inside another (Cline in VS Code) names its hosts. */
  processes: Partial<Record<Platform, ProcessSignature>>;
  /** Clients whose processes run this one (extensions: cline, roo-code, continue). */
  hostedBy?: readonly string[];
  /**
   * Where the client's locations were checked (documentation URLs, source files). A location's own
   * `source` names the page for that one file when it differs.
   */
  sources?: readonly string[];
}
