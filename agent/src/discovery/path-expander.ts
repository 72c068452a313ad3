/**
 * Expands catalog path segments (with '*', '*.ext', 'Prefix_*' and '**' globs) below a base
 * directory into candidate file paths, and gives the directory to watch for each pattern.
 *
 * Bounded: '**' descends at most maxDepth levels, the whole expansion reads at most maxDirs
 * directories and returns at most maxMatches paths. Never descends into symlinked directories or
 * into SKIPPED_DIRS. A directory that exists but cannot be listed is reported (code unreadable);
 * one that does not exist is silently empty.
 */
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigError } from '@mcpwatch/shared';

/** Directory names never walked into (by '**' globs or project walks). */
export const SKIPPED_DIRS: ReadonlySet<string> = new Set(['node_modules', '.git', '.hg', '.svn', '.venv', 'venv', '__pycache__', '.cache', '.Trash']);

export interface ExpandLimits {
  maxDepth: number;
  maxDirs: number;
  maxMatches: number;
}

export const DEFAULT_EXPAND_LIMITS: ExpandLimits = { maxDepth: 6, maxDirs: 2000, maxMatches: 500 };

export interface ExpandResult {
  paths: string[];
  errors: ConfigError[];
  /** True when a limit cut the expansion short. */
  truncated: boolean;
}

const isGlob = (segment: string): boolean => segment.includes('*');

function globRegex(segment: string): RegExp {
  const escaped = segment.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/** Lists a directory; ENOENT/ENOTDIR → [], other failures → reported. */
export async function listDir(dir: string, errors: ConfigError[]): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') {
      errors.push({ path: dir, code: 'unreadable', reason: `cannot list directory: ${code ?? (err as Error).message}`, line: null, column: null });
    }
    return [];
  }
}

/**
 * Candidate paths for `segments` below `baseDir`. Literal paths are returned whether or not they
 * exist (the reader reports them missing); glob segments match existing entries only.
 */
export async function expandPath(baseDir: string, segments: readonly string[], limits: ExpandLimits = DEFAULT_EXPAND_LIMITS): Promise<ExpandResult> {
  const out: ExpandResult = { paths: [], errors: [], truncated: false };
  if (!segments.some(isGlob)) {
    out.paths.push(segments.length ? join(baseDir, ...segments) : baseDir);
    return out;
  }
  let dirsRead = 0;
  const budgetLeft = (): boolean => {
    if (dirsRead >= limits.maxDirs || out.paths.length >= limits.maxMatches) {
      out.truncated = true;
      return false;
    }
    return true;
  };

  const walk = async (dir: string, index: number, depth: number): Promise<void> => {
    if (!budgetLeft()) return;
    const segment = segments[index];
    if (segment === undefined) return;
    const last = index === segments.length - 1;
    if (!isGlob(segment)) {
      if (last) out.paths.push(join(dir, segment));
      else await walk(join(dir, segment), index + 1, depth);
      return;
    }
    dirsRead++;
    const entries = await listDir(dir, out.errors);
    if (segment === '**') {
      await walk(dir, index + 1, depth); // zero levels
      if (depth >= limits.maxDepth) return;
      for (const e of entries) {
        if (e.isDirectory() && !SKIPPED_DIRS.has(e.name)) await walk(join(dir, e.name), index, depth + 1);
      }
      return;
    }
    const re = globRegex(segment);
    for (const e of entries) {
      if (!re.test(e.name)) continue;
      if (last) {
        if ((e.isFile() || e.isSymbolicLink()) && budgetLeft()) out.paths.push(join(dir, e.name));
      } else if (e.isDirectory()) {
        await walk(join(dir, e.name), index + 1, depth);
      }
    }
  };
  await walk(baseDir, 0, 0);
  // '**' can reach one file along several routes only if a pattern repeats; keep paths unique.
  out.paths = [...new Set(out.paths)];
  return out;
}

/**
 * What to watch for a pattern: the full path when it has no glob, else the directory above the
 * first glob segment (a watcher on it sees matching files appear, even before they exist).
 */
export function watchPathFor(baseDir: string, segments: readonly string[]): string {
  const firstGlob = segments.findIndex(isGlob);
  const literal = firstGlob === -1 ? segments : segments.slice(0, firstGlob);
  return literal.length ? join(baseDir, ...literal) : baseDir;
}
