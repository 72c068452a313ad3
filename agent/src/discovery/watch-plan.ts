/**
 * Which directories to hand to chokidar for a set of catalog targets, including targets that do
 * not exist yet: a missing target is covered by watching its nearest existing ancestor (depth 0),
 * and the plan is recomputed when a directory on the way appears or goes. File targets are
 * watched through their parent directory (depth 0), so a file that is deleted and re-created, or
 * replaced by an atomic rename, keeps being seen. Pure apart from the injected `stat`.
 */
import path from 'node:path';
import { byText } from '../normalize/text-order.js';

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

/** Upper bound on watched folders (a machine with thousands of homes stays bounded). */
export const MAX_WATCH_ROOTS = 5000;

/** Watch roots for the specs: deduplicated, the deeper depth kept for a repeated dir; at most MAX_WATCH_ROOTS. */
export function planWatchRoots(specs: readonly WatchSpec[], statRaw: StatKind): WatchRoot[] {
  // Specs share most of their ancestors: each path is stat'ed once per plan.
  const seen = new Map<string, ReturnType<StatKind>>();
  const stat: StatKind = (p) => {
    if (!seen.has(p)) seen.set(p, statRaw(p));
    return seen.get(p) ?? null;
  };
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
  return [...roots].map(([dir, depth]) => ({ dir, depth })).sort((a, b) => byText(a.dir, b.dir)).slice(0, MAX_WATCH_ROOTS);
}

/** How an event path relates to the specs. */
export type Relevance = 'target' | 'ancestor' | 'none';

/**
 * A relevance test for a set of specs, indexed once (sets of targets, of folder targets and of
 * every folder on the way to a target) so each call costs O(path depth), not O(specs): chokidar
 * asks for every entry of every watched folder, and a privileged agent watches every user's home.
 * 'target' when `p` is a file target or inside a dir target; 'ancestor' when `p` is a directory
 * on the way to a target (its appearance or removal changes the plan); else 'none'.
 */
export function createRelevance(specs: readonly WatchSpec[]): (p: string) => Relevance {
  const targets = new Set<string>();
  const dirTargets = new Set<string>();
  const ancestors = new Set<string>();
  for (const spec of specs) {
    targets.add(spec.path);
    if (spec.kind === 'dir') dirTargets.add(spec.path);
    let cur = path.dirname(spec.path);
    for (let i = 0; i < MAX_CLIMB && !ancestors.has(cur); i++) {
      ancestors.add(cur);
      const up = path.dirname(cur);
      if (up === cur) break;
      cur = up;
    }
  }
  return (p) => {
    if (targets.has(p)) return 'target';
    let cur = path.dirname(p);
    for (let i = 0; i < MAX_CLIMB; i++) {
      if (dirTargets.has(cur)) return 'target';
      const up = path.dirname(cur);
      if (up === cur) break;
      cur = up;
    }
    return ancestors.has(p) ? 'ancestor' : 'none';
  };
}
