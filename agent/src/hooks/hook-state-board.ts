/**
 * Where the hook keeper (hook-keeper.ts) and the rules evaluation of run mode meet: the keeper
 * posts the state of mcpwatch's hook in each client hook file it keeps; the rules evaluation reads
 * them (hook-findings.ts) so `hook-tampered` is raised and resolved by the rules engine like every
 * other finding, and in every snapshot. One board per state dir in the process (hookStateBoard()),
 * so the keeper, made by the runtime, and the evaluation, made by the composition root, meet
 * without wiring through either.
 *
 * A tampered hook is re-installed only after the rules saw it tampered (nextRead()): the finding
 * is then raised and resolved, so the fleet learns that someone removed the hook even when the
 * agent puts it back a moment later. Listeners are told of every change (the composition root asks
 * the watch engine to evaluate again). Never throws: a listener's failure is swallowed.
 */
import * as path from 'node:path';
import type { HookStateView } from '../rules/rule-types.js';

export class HookStateBoard {
  private readonly states = new Map<string, HookStateView>();
  private readonly listeners = new Set<() => void>();
  private waiters: Array<() => void> = [];

  /** Posts one hook file's state; returns true when it changed (listeners are then told). */
  post(view: HookStateView): boolean {
    const key = `${view.client}\u0000${view.scope}\u0000${view.path}`;
    const was = this.states.get(key);
    if (was && was.state === view.state && was.detail === view.detail) return false;
    this.states.set(key, { ...view, since: was && was.state === view.state ? was.since : view.since });
    for (const l of this.listeners) {
      try {
        l();
      } catch {
        // a listener's failure is its own
      }
    }
    return true;
  }

  /** The current states (what the rules read); resolves the waiters of nextRead(). */
  read(): HookStateView[] {
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w();
    return [...this.states.values()];
  }

  /** Resolves at the next read(), or after maxWaitMs when nothing reads the board (no rules wired). */
  nextRead(maxWaitMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, maxWaitMs);
      timer.unref();
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.waiters.push(done);
    });
  }

  /** Calls `fn` after every change; returns the unsubscribe. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

const boards = new Map<string, HookStateBoard>();

/** The board of `stateDir` in this process. */
export function hookStateBoard(stateDir: string): HookStateBoard {
  const key = path.resolve(stateDir);
  let b = boards.get(key);
  if (!b) boards.set(key, (b = new HookStateBoard()));
  return b;
}
