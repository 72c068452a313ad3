/**
 * Finds project folders: those clients recorded (Claude Code's `projects` map, VS Code family
 * globalStorage/storage.json) and those under --project-root folders.
 *
 * The root walk is bounded (maxDepth levels, maxDirs directories, maxProjects results), skips
 * SKIPPED_DIRS and never follows a symlinked directory (so it cannot leave a root). A folder is a
 * project when it holds one of the catalog's project markers (.mcp.json, .vscode, .cursor, ...);
 * marker folders themselves are not walked into.
 */
import { join, posix, win32 } from 'node:path';
import type { ConfigError } from '@mcpwatch/shared';
import { osSpec } from '../platform/os.js';
import type { Platform } from '../types.js';
import { isPlainObject } from './entry-extractor.js';
import { listDir, SKIPPED_DIRS } from './path-expander.js';

export interface ProjectWalkLimits {
  maxDepth: number;
  maxDirs: number;
  maxProjects: number;
}

export const DEFAULT_PROJECT_WALK_LIMITS: ProjectWalkLimits = { maxDepth: 5, maxDirs: 5000, maxProjects: 1000 };

/** Project folder paths from Claude Code's ~/.claude.json document (`projects` keys). */
export function claudeProjects(doc: Record<string, unknown>): string[] {
  return isPlainObject(doc.projects) ? Object.keys(doc.projects).filter((k) => k.trim() !== '') : [];
}

/**
 * Installed plugin folders from Claude Code's plugins/installed_plugins.json: `installPath` of
 * every entry (v2: {plugins: {id: [entry, ...]}}; v1: {plugins: {id: entry}}).
 */
export function claudeInstalledPlugins(doc: Record<string, unknown>): string[] {
  if (!isPlainObject(doc.plugins)) return [];
  const paths: string[] = [];
  for (const value of Object.values(doc.plugins)) {
    for (const entry of Array.isArray(value) ? value : [value]) {
      if (isPlainObject(entry) && typeof entry.installPath === 'string' && entry.installPath.trim() !== '') paths.push(entry.installPath);
    }
  }
  return [...new Set(paths)];
}

/**
 * A local filesystem path from a VS Code folder URI (file:///home/u/p, file:///c%3A/Users/u/p);
 * null for remote (vscode-remote://...) or malformed URIs.
 */
export function pathFromFileUri(uri: string, platform: Platform): string | null {
  if (!uri.startsWith('file://')) return null;
  let rest = uri.slice('file://'.length);
  const host = rest.slice(0, rest.indexOf('/') === -1 ? rest.length : rest.indexOf('/'));
  rest = rest.slice(host.length);
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    return null;
  }
  return osSpec(platform).pathFromFileUri(host, decoded);
}

/** Workspace folders recorded in a VS Code family globalStorage/storage.json document. */
export function vscodeStorageProjects(doc: Record<string, unknown>, platform: Platform): string[] {
  const uris: string[] = [];
  const addUri = (v: unknown): void => {
    if (typeof v === 'string') uris.push(v);
  };
  const backup = doc.backupWorkspaces;
  if (isPlainObject(backup) && Array.isArray(backup.folders)) {
    for (const f of backup.folders) if (isPlainObject(f)) addUri(f.folderUri);
  }
  const assoc = doc.profileAssociations;
  if (isPlainObject(assoc) && isPlainObject(assoc.workspaces)) for (const k of Object.keys(assoc.workspaces)) addUri(k);
  const windows = doc.windowsState;
  if (isPlainObject(windows)) {
    if (isPlainObject(windows.lastActiveWindow)) addUri(windows.lastActiveWindow.folder);
    if (Array.isArray(windows.openedWindows)) for (const w of windows.openedWindows) if (isPlainObject(w)) addUri(w.folder);
  }
  const paths = uris.map((u) => pathFromFileUri(u, platform)).filter((p): p is string => p !== null);
  return [...new Set(paths)];
}

/**
 * The project folder a VS Code workspaceStorage/<id>/workspace.json records: its `folder` URI, or
 * the folder holding its `workspace` (.code-workspace) file; null for remote or malformed URIs.
 */
export function vscodeWorkspaceProject(doc: Record<string, unknown>, platform: Platform): string | null {
  if (typeof doc.folder === 'string') return pathFromFileUri(doc.folder, platform);
  if (typeof doc.workspace !== 'string') return null;
  const file = pathFromFileUri(doc.workspace, platform);
  return file === null ? null : (platform === 'win32' ? win32 : posix).dirname(file);
}

export interface ProjectWalkResult {
  projects: string[];
  errors: ConfigError[];
  truncated: boolean;
}

/**
 * Walks each root (breadth-first) for folders holding a project marker. The root itself counts.
 */
export async function walkProjectRoots(roots: readonly string[], markers: readonly string[], limits: ProjectWalkLimits = DEFAULT_PROJECT_WALK_LIMITS): Promise<ProjectWalkResult> {
  const markerSet = new Set(markers);
  const out: ProjectWalkResult = { projects: [], errors: [], truncated: false };
  const found = new Set<string>();
  let dirsRead = 0;
  for (const root of roots) {
    let level: string[] = [root];
    for (let depth = 0; depth <= limits.maxDepth && level.length > 0; depth++) {
      const next: string[] = [];
      for (const dir of level) {
        if (dirsRead >= limits.maxDirs || found.size >= limits.maxProjects) {
          out.truncated = true;
          break;
        }
        dirsRead++;
        const entries = await listDir(dir, out.errors);
        if (entries.some((e) => markerSet.has(e.name)) && !found.has(dir)) {
          found.add(dir);
          out.projects.push(dir);
        }
        if (depth < limits.maxDepth) {
          // A marker folder (.vscode, .warp ...) belongs to the project holding it: never walked into,
          // so Warp's .warp/.mcp.json does not make `.warp` a project of its own.
          for (const e of entries) if (e.isDirectory() && !e.isSymbolicLink() && !SKIPPED_DIRS.has(e.name) && !markerSet.has(e.name)) next.push(join(dir, e.name));
        }
      }
      level = next;
    }
  }
  return out;
}
