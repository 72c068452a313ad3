/**
 * Small builders the catalog data files (clients.ts, more-clients.ts) write their entries with:
 * OS sets, section shorthands, `loc` (one config location, with defaults) and `sig` (one process
 * signature). Pure: no I/O.
 */
import type { ConfigScope } from '@mcpwatch/shared';
import type { ConfigFormat, EntryDialect, Platform } from '../types.js';
import type { BaseDir, ConfigLocation, DefinitionFiles, ProcessSignature, ServerSection } from './catalog-types.js';

export const ALL: readonly Platform[] = ['darwin', 'win32', 'linux'];
export const MAC: readonly Platform[] = ['darwin'];
export const WIN: readonly Platform[] = ['win32'];
export const LINUX: readonly Platform[] = ['linux'];
export const UNIX: readonly Platform[] = ['darwin', 'linux'];

/** A section holding a {name: entry} map at `path`. */
export const map = (...path: string[]): ServerSection => ({ path, shape: 'map' });
/** A section holding a [{name, ...}] list at `path` (TOML arrays of tables, YAML lists). */
export const list = (...path: string[]): ServerSection => ({ path, shape: 'list' });
export const MCP_SERVERS = [map('mcpServers')] as const;
/** `.mcp.json`-style files are written with either key (Visual Studio and VS Code use `servers`). */
export const SERVERS_OR_MCP_SERVERS: readonly ServerSection[] = [map('mcpServers'), map('servers')];

export interface LocOpts {
  os?: readonly Platform[];
  minMaxFileBytes?: number;
  format?: ConfigFormat;
  dialect?: EntryDialect;
  sections?: readonly ServerSection[];
  inputsPath?: readonly string[];
  /** Where this location was confirmed (documentation URL or source file). */
  source?: string;
  definitions?: DefinitionFiles;
  pluginRoot?: boolean;
  reader?: 'docker-profiles';
}

/** Builds one location; defaults: every OS, JSON, standard dialect, `mcpServers` map. */
export function loc(id: string, scope: ConfigScope, base: BaseDir, path: readonly string[], o: LocOpts = {}): ConfigLocation {
  return {
    id,
    scope,
    base,
    path,
    os: o.os ?? ALL,
    format: o.format ?? 'json',
    dialect: o.dialect ?? 'standard',
    sections: o.sections ?? MCP_SERVERS,
    ...(o.inputsPath ? { inputsPath: o.inputsPath } : {}),
    ...(o.minMaxFileBytes ? { minMaxFileBytes: o.minMaxFileBytes } : {}),
    ...(o.source ? { source: o.source } : {}),
    ...(o.definitions ? { definitions: o.definitions } : {}),
    ...(o.pluginRoot ? { pluginRoot: true } : {}),
    ...(o.reader ? { reader: o.reader } : {}),
  };
}

export function sig(names: string[], pathPatterns: string[] = [], cmdlinePatterns: string[] = []): ProcessSignature {
  return { names, pathPatterns, cmdlinePatterns };
}

/** VS Code family user-data folder names (under appData) that host Cline / Roo Code / Kilo Code. */
const EXTENSION_HOST_DIRS = ['Code', 'Code - Insiders', 'Cursor', 'Windsurf', 'VSCodium', 'Kiro'] as const;
/** VS Code Server data dirs on remote Linux hosts (home-relative). */
const VSCODE_SERVER_DIRS = ['.vscode-server', '.vscode-server-insiders', '.cursor-server', '.windsurf-server'] as const;

/** A VS Code extension's globalStorage file, in every VS Code family editor and VS Code Server. */
export function extensionGlobalStorage(idPrefix: string, extensionId: string, file: readonly string[], source?: string): ConfigLocation[] {
  const fromDesktop = EXTENSION_HOST_DIRS.map((dir) =>
    loc(`${idPrefix}-${dir.toLowerCase().replace(/[^a-z]+/g, '-')}`, 'user', 'appData', [dir, 'User', 'globalStorage', extensionId, ...file], { ...(source ? { source } : {}) }),
  );
  const fromServer = VSCODE_SERVER_DIRS.map((dir) =>
    loc(`${idPrefix}${dir.replace(/[^a-z]+/g, '-')}`, 'user', 'home', [dir, 'data', 'User', 'globalStorage', extensionId, ...file], {
      os: LINUX,
      ...(source ? { source } : {}),
    }),
  );
  return [...fromDesktop, ...fromServer];
}
