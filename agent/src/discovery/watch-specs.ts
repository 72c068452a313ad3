/**
 * Turns discovery's watch targets (paths: catalog files whether or not they exist, the folder
 * above each glob, project roots) into WatchSpecs: a file, or a folder with how many levels below
 * it matter. A glob folder's depth is the number of pattern segments after it (a '**' asks for
 * MAX_WATCH_DEPTH); a project root is watched two levels down (new projects' marker folders).
 */
import { locationsFor } from '../catalog/index.js';
import { forEachHomeWatchPath, watchTargets } from './index.js';
import type { ScanContext } from '../types.js';
import { MAX_WATCH_DEPTH, type WatchSpec } from './watch-plan.js';
import { watchPathFor } from './path-expander.js';
import { systemRootDir } from './base-dirs.js';

const PROJECT_ROOT_DEPTH = 2;

function globDepth(segments: readonly string[]): number | null {
  const first = segments.findIndex((s) => s.includes('*'));
  if (first === -1) return null;
  const rest = segments.slice(first);
  return rest.includes('**') ? MAX_WATCH_DEPTH : rest.length - 1;
}

/** Watch specs for `ctx` and the project folders a previous discovery read. */
export function watchSpecs(ctx: ScanContext, projects: readonly string[] = []): WatchSpec[] {
  const dirs = new Map<string, number>();
  const note = (base: string, segments: readonly string[]): void => {
    const depth = globDepth(segments);
    if (depth === null) return;
    const p = watchPathFor(base, segments);
    dirs.set(p, Math.max(depth, dirs.get(p) ?? 0));
  };
  const all = locationsFor(ctx.platform);
  forEachHomeWatchPath(ctx, note);
  for (const { location } of all) if (location.base === 'system') note(systemRootDir(ctx), location.path);
  for (const p of [...projects, ...ctx.projectRoots]) {
    for (const { location } of all) if (location.base === 'project') note(p, location.path);
  }
  for (const root of ctx.projectRoots) dirs.set(root, Math.max(PROJECT_ROOT_DEPTH, dirs.get(root) ?? 0));

  // Machine-wide (managed) files are watched too, whichever homes are scanned.
  const paths = new Set(watchTargets(ctx, projects));
  for (const { location } of all) if (location.base === 'system') paths.add(watchPathFor(systemRootDir(ctx), location.path));
  return [...paths].sort().map((p) => {
    const depth = dirs.get(p);
    return depth === undefined ? { path: p, kind: 'file' as const, depth: 0 } : { path: p, kind: 'dir' as const, depth };
  });
}
