/**
 * Which directories to hand to chokidar for a set of catalog targets, including targets that do
 * not exist yet: a missing target is covered by watching its nearest existing ancestor (depth 0),
 * and the plan is recomputed when a directory on the way appears or goes. File targets are
 * watched through their parent directory (depth 0), so a file that is deleted and re-created, or
 * replaced by an atomic rename, keeps being seen. Pure apart from the injected `stat`.
 */
import path from 'node:path';

/** One thing to watch: a config file, or a folder whose contents (to `depth` levels) matter. */
export interface WatchSpec {
  path: string;
  kind: 'file' | 'dir';
  /** Levels below a dir target that matter (0: its direct entries). Ignored for files. */
  depth: number;
}

/** A directory to watch with chokidar at a depth. */
export interface WatchRoot {
  dir: string;
  depth: number;
}

export type StatKind = (p: string) => 'file' | 'dir' | null;

/** Most levels climbed looking for an existing ancestor. */
const MAX_CLIMB = 64;
/** Deepest recursion a dir target may ask for. */
export const MAX_WATCH_DEPTH = 6;

/** Nearest existing directory at or above `p`, or null. */
export function nearestExistingDir(p: string, stat: StatKind): string | null {
  let cur = p;
  for (let i = 0; i < MAX_CLIMB; i++) {
    if (stat(cur) === 'dir') return cur;
    const parent = path.dirname(cur);
    if (parent === cur) return null;
    cur = parent;
  }
  return null;
}

/** Watch roots for the specs: deduplicated, the deeper depth kept for a repeated dir. */
export function planWatchRoots(specs: readonly WatchSpec[], stat: StatKind): WatchRoot[] {
  const roots = new Map<string, number>();
  const add = (dir: string, depth: number): void => {
    const prev = roots.get(dir);
    if (prev === undefined || depth > prev) roots.set(dir, depth);
  };
  for (const spec of specs) {
    const kind = stat(spec.path);
    if (spec.kind === 'dir' && kind === 'dir') {
      add(spec.path, Math.min(Math.max(spec.depth, 0), MAX_WATCH_DEPTH));
      continue;
    }
    const from = spec.kind === 'file' ? path.dirname(spec.path) : spec.path;
    const dir = nearestExistingDir(from, stat);
    if (dir) add(dir, 0);
  }
  return [...roots].map(([dir, depth]) => ({ dir, depth })).sort((a, b) => a.dir.localeCompare(b.dir));
}

/** How an event path relates to the specs. */
export type Relevance = 'target' | 'ancestor' | 'none';

/**
 * 'target' when `p` is a file target or inside a dir target; 'ancestor' when `p` is a directory on
 * the way to a target (its appearance or removal changes the plan); else 'none'.
 */
export function relevanceOf(p: string, specs: readonly WatchSpec[]): Relevance {
  let ancestor = false;
  for (const spec of specs) {
    if (p === spec.path) return 'target';
    if (spec.kind === 'dir' && isInside(p, spec.path)) return 'target';
    if (isInside(spec.path, p)) ancestor = true;
  }
  return ancestor ? 'ancestor' : 'none';
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}
