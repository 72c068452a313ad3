/**
 * chokidar over the catalog's targets, existing or not (see watch-plan.ts). Emits `onChange`
 * (debounced by the caller) whenever a target file or something inside a target folder is added,
 * changed or removed, and re-plans its roots when a directory on the way to a target appears or
 * goes. Roots added together share a chokidar watcher (chokidar's depth is per watcher). Never throws:
 * watcher errors go to `onError`.
 */
import { statSync } from 'node:fs';
import { FSWatcher } from 'chokidar';
import { AgentCodes, AgentError } from '../errors.js';
import { createRelevance, MAX_WATCH_ROOTS, planWatchRoots, type Relevance, type StatKind, type WatchRoot, type WatchSpec } from './watch-plan.js';

export interface ConfigWatcherOptions {
  /** What to watch, asked at every re-plan: return a new array when they change (the same one means unchanged). */
  specs: () => WatchSpec[];
  onChange: (path: string) => void;
  onError: (error: AgentError) => void;
  stat?: StatKind;
}

// throwIfNoEntry: most targets do not exist, and a stat that throws ENOENT costs ~3x one that
// returns undefined (an Error with its stack per missing path, every re-plan).
const realStat: StatKind = (p) => {
  try {
    const s = statSync(p, { throwIfNoEntry: false });
    return s === undefined ? null : s.isDirectory() ? 'dir' : s.isFile() ? 'file' : null;
  } catch {
    return null;
  }
};

/**
 * Watches config targets; `start()` resolves when chokidar is ready. Folders added by a re-plan
 * get their own chokidar watcher; once it is ready, a change is reported, because a file may have
 * been written into the folder before the watch on it was in place.
 */
export class ConfigWatcher {
  /** Which watcher watches each root. */
  private readonly owners = new Map<string, FSWatcher>();
  /** Roots each watcher still watches (closed when none is left). */
  private readonly watched = new Map<FSWatcher, Set<string>>();
  private roots = new Map<string, number>();
  private relevance: (p: string) => Relevance = () => 'none';
  private relevanceOf: WatchSpec[] | null = null;
  private closed = false;
  private started = false;
  private limitReported = false;
  private replanning: Promise<void> = Promise.resolve();
  private readonly stat: StatKind;

  constructor(private readonly options: ConfigWatcherOptions) {
    this.stat = options.stat ?? realStat;
  }

  /** Directories currently watched. */
  watchedRoots(): WatchRoot[] {
    return [...this.roots].map(([dir, depth]) => ({ dir, depth }));
  }

  async start(): Promise<void> {
    await this.replan();
    this.started = true;
  }

  /** Recomputes the roots from the current specs and adjusts the watchers (one at a time). */
  replan(): Promise<void> {
    this.replanning = this.replanning.then(() => this.replanNow()).catch((error: unknown) => {
      this.options.onError(new AgentError(AgentCodes.watch, 'could not adjust the watched folders', { cause: error }));
    });
    return this.replanning;
  }

  private async replanNow(): Promise<void> {
    if (this.closed) return;
    let specs: WatchSpec[];
    try {
      specs = this.options.specs();
      // The same specs as last time (the caller keeps them while nothing changed): same relevance.
      if (specs !== this.relevanceOf) this.relevance = createRelevance(specs);
      this.relevanceOf = specs;
    } catch (error) {
      this.options.onError(new AgentError(AgentCodes.watchTargets, 'could not compute watch targets', { cause: error }));
      return;
    }
    const next = new Map(planWatchRoots(specs, this.stat).map((r) => [r.dir, r.depth]));
    if (next.size >= MAX_WATCH_ROOTS && !this.limitReported) {
      this.limitReported = true;
      this.options.onError(new AgentError(AgentCodes.watchLimit, `more than ${MAX_WATCH_ROOTS} folders to watch; changes in the others are seen by the periodic full rescan only`));
    }
    const added = new Map<number, string[]>();
    for (const [dir, depth] of next) {
      if (this.roots.get(dir) !== depth) added.set(depth, [...(added.get(depth) ?? []), dir]);
    }
    const gone = [...this.roots].filter(([dir, depth]) => next.get(dir) !== depth).map(([dir]) => dir);
    this.roots = next;
    for (const dir of gone) await this.unwatch(dir);
    await Promise.all([...added].map(([depth, dirs]) => this.watch(depth, dirs)));
    if (this.started && added.size > 0 && !this.closed) {
      const first = added.values().next().value?.[0];
      if (first) this.options.onChange(first);
    }
  }

  private async unwatch(dir: string): Promise<void> {
    const watcher = this.owners.get(dir);
    if (!watcher) return;
    this.owners.delete(dir);
    const dirs = this.watched.get(watcher);
    dirs?.delete(dir);
    if (dirs && dirs.size > 0) {
      watcher.unwatch(dir);
      return;
    }
    this.watched.delete(watcher);
    await watcher.close().catch(() => undefined);
  }

  /** A new chokidar watcher over `dirs` at `depth`; resolves when it is ready. */
  private watch(depth: number, dirs: string[]): Promise<void> {
    const watcher = new FSWatcher({
      depth,
      ignoreInitial: true,
      persistent: true,
      followSymlinks: false,
      // Only targets, folders on the way to them and the roots themselves are looked at.
      ignored: (p: string) => !this.roots.has(p) && this.relevance(p) === 'none',
    });
    this.watched.set(watcher, new Set(dirs));
    for (const dir of dirs) this.owners.set(dir, watcher);
    watcher.on('all', (event, p) => this.onEvent(event, p));
    watcher.on('error', (error) => this.options.onError(new AgentError(AgentCodes.watch, `watcher error: ${String((error as Error)?.message ?? error)}`, { cause: error })));
    const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    watcher.add(dirs);
    return ready;
  }

  private onEvent(event: string, p: string): void {
    if (this.closed) return;
    const rel = this.relevance(p);
    if (rel === 'none') return;
    if (event === 'addDir' || event === 'unlinkDir' || rel === 'ancestor') {
      void this.replan();
    }
    this.options.onChange(p);
  }

  /** Closes every watcher. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.replanning;
    const all = [...this.watched.keys()];
    this.watched.clear();
    this.owners.clear();
    await Promise.all(all.map((w) => w.close().catch(() => undefined)));
  }
}
