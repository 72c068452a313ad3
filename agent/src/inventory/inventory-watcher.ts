/**
 * Watch mode: keeps the inventory current and reports each change as events.
 *  - start(): one full scan; emits an `inventory.snapshot` event (unless disabled) and a
 *    `config.error` for each error present at start; then watches.
 *  - config files (chokidar, see config-watcher.ts): a change, debounced, re-reads the configs
 *    and re-matches the last process snapshot against them (no new ps);
 *  - processes and sockets: polled every `processIntervalMs` (default 5 s);
 *  - configs re-read every FULL_RESCAN_INTERVAL_MS even without file events (missed events,
 *    folders beyond the watch cap);
 *  - each pass diffs against the last inventory and emits the events in order.
 * A file that exists but can no longer be read or parsed (a syntax error mid-edit, a file nested
 * too deeply, a FIFO put in its place) is that file's config.error only: its servers, and the
 * files it pointed discovery to, keep their last known entries (see keepLastKnown), so no
 * server.removed or finding.resolved is reported for what is merely unreadable for now.
 * Passes never overlap (one queue); a change during a pass schedules one more. All timers are
 * unref()'d. Nothing throws out of here: failures go to onError and the watch goes on.
 * stop() is idempotent and resolves once watchers are closed and the running pass finished.
 */
import { statSync } from 'node:fs';
import { canonicalJson, makeEvent, type InventoryDocument, type McpEvent, type ServerEntry } from '@mcpwatch/shared';
import { diffInventories } from './diff.js';
import { AgentCodes, AgentError } from '../errors.js';
import { snapshotEvent } from './snapshot-event.js';
import {
  assembleInventory,
  classifyRuntime,
  EMPTY_RUNTIME,
  runScan,
  scanConfigs,
  snapshotRuntime,
  type ConfigState,
  type RuntimeSnapshot,
  type RuntimeState,
  type ScanDeps,
  type ScanSources,
} from './scan.js';
import type { ConfigFileResult, ScanContext } from '../types.js';
import { ConfigWatcher } from '../discovery/config-watcher.js';
import type { StatKind, WatchSpec } from '../discovery/watch-plan.js';

export const DEFAULT_PROCESS_INTERVAL_MS = 5000;
export const DEFAULT_DEBOUNCE_MS = 150;
/** How often the watch plan is recomputed even without events (a watched folder may vanish). */
export const REPLAN_INTERVAL_MS = 60_000;
/** How often configs are re-read even without events (a safety net for missed file events). */
export const FULL_RESCAN_INTERVAL_MS = 10 * 60_000;

export interface WatchDeps extends ScanDeps {
  /** What to watch for `ctx` (from the catalog). */
  watchSpecs: (ctx: ScanContext) => WatchSpec[];
  stat?: StatKind;
}

export interface InventoryWatcherOptions {
  ctx: ScanContext;
  sources: ScanSources;
  endpointId: string;
  processIntervalMs?: number;
  debounceMs?: number;
  /** Emit an inventory.snapshot event after the first scan (default true). */
  emitSnapshot?: boolean;
  onEvent: (event: McpEvent) => void;
  onError?: (error: AgentError) => void;
}

/** A running watch. */
export class InventoryWatcher {
  private config: ConfigState | null = null;
  private snapshot: RuntimeSnapshot = { rows: [], sockets: null, errors: [] };
  private runtime: RuntimeState = EMPTY_RUNTIME;
  private last: InventoryDocument | null = null;
  private queue: Promise<void> = Promise.resolve();
  private configPassQueued = false;
  private debounceTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private replanTimer: NodeJS.Timeout | null = null;
  private rescanTimer: NodeJS.Timeout | null = null;
  private watcher: ConfigWatcher | null = null;
  private stopped = false;
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly options: InventoryWatcherOptions,
    private readonly deps: WatchDeps,
  ) {}

  /** The current inventory (null before the first scan finished). */
  current(): InventoryDocument | null {
    return this.last;
  }

  /** First scan, then watching. Resolves when watchers are ready. */
  async start(): Promise<void> {
    const { ctx, sources } = this.options;
    const outcome = await runScan({ ctx, sources }, this.deps);
    this.config = outcome.config;
    this.snapshot = outcome.snapshot;
    this.runtime = outcome.runtime;
    this.last = outcome.document;
    if (this.options.emitSnapshot !== false) {
      this.emit([snapshotEvent(outcome.document, this.options.endpointId)]);
    }
    this.emit(outcome.document.errors.map((e) => makeEvent('config.error', this.options.endpointId, e)));
    if (this.stopped) return;
    if (sources.configs) {
      this.watcher = new ConfigWatcher({
        specs: () => this.deps.watchSpecs(ctx),
        onChange: () => this.configChanged(),
        onError: (e) => this.reportError(e),
        ...(this.deps.stat ? { stat: this.deps.stat } : {}),
      });
      await this.watcher.start();
      this.replanTimer = setInterval(() => void this.watcher?.replan(), REPLAN_INTERVAL_MS);
      this.replanTimer.unref();
      this.rescanTimer = setInterval(() => this.enqueue(() => this.configPass()), FULL_RESCAN_INTERVAL_MS);
      this.rescanTimer.unref();
    }
    if (sources.processes || sources.sockets) {
      const every = this.options.processIntervalMs ?? DEFAULT_PROCESS_INTERVAL_MS;
      this.pollTimer = setInterval(() => this.enqueue(() => this.runtimePass()), every);
      this.pollTimer.unref();
    }
  }

  /** A config target changed: rescan after the debounce. */
  configChanged(): void {
    if (this.stopped) return;
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = null;
      if (this.configPassQueued) return;
      this.configPassQueued = true;
      this.enqueue(() => this.configPass());
    }, this.options.debounceMs ?? DEFAULT_DEBOUNCE_MS);
    this.debounceTimer.unref();
  }

  /**
   * Changes the process/socket poll interval of a running watch in place (agent policy and
   * self-limits); takes effect from the next tick. No-op when polling is off or stopped.
   */
  setProcessIntervalMs(ms: number): void {
    this.options.processIntervalMs = Math.max(200, Math.round(ms));
    if (!this.pollTimer || this.stopped) return;
    clearInterval(this.pollTimer);
    this.pollTimer = setInterval(() => this.enqueue(() => this.runtimePass()), this.options.processIntervalMs);
    this.pollTimer.unref();
  }

  /** Runs a process/socket pass now (tests and callers that know something changed). */
  pollNow(): Promise<void> {
    return this.enqueue(() => this.runtimePass());
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(async () => {
      if (this.stopped) return;
      try {
        await task();
      } catch (error) {
        this.reportError(new AgentError(AgentCodes.watchPass, 'watch pass failed', { cause: error }));
      }
    });
    return this.queue;
  }

  private async configPass(): Promise<void> {
    this.configPassQueued = false;
    const { ctx, sources } = this.options;
    this.config = keepLastKnown(this.config, await scanConfigs(ctx, this.deps));
    this.runtime = await classifyRuntime(ctx, sources, this.snapshot, this.config.servers, this.deps);
    await this.publish();
  }

  private async runtimePass(): Promise<void> {
    const { ctx, sources } = this.options;
    this.snapshot = await snapshotRuntime(sources, this.deps);
    const next = await classifyRuntime(ctx, sources, this.snapshot, this.config?.servers ?? [], this.deps);
    // Steady state: nothing MCP-related moved, so rules, assembly and diff are skipped.
    const unchanged = canonicalJson(next) === canonicalJson(this.runtime);
    this.runtime = next;
    if (!unchanged) await this.publish();
  }

  private async publish(): Promise<void> {
    if (!this.config) return;
    const next = await assembleInventory(this.options.ctx, this.config, this.runtime, this.deps);
    const prev = this.last;
    this.last = next;
    if (prev) this.emit(diffInventories(prev, next, this.options.endpointId));
  }

  private emit(events: McpEvent[]): void {
    for (const e of events) {
      if (this.stopped) return;
      try {
        this.options.onEvent(e);
      } catch (error) {
        this.reportError(new AgentError(AgentCodes.watchSink, 'event consumer failed', { cause: error }));
      }
    }
  }

  private reportError(error: AgentError): void {
    try {
      this.options.onError?.(error);
    } catch {
      // a failing error reporter must not stop the watch
    }
  }

  /** Stops watching. Idempotent; resolves when closed. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      for (const t of [this.debounceTimer, this.pollTimer]) if (t) clearTimeout(t);
      if (this.replanTimer) clearInterval(this.replanTimer);
      if (this.rescanTimer) clearInterval(this.rescanTimer);
      if (this.pollTimer) clearInterval(this.pollTimer);
      await this.watcher?.close();
      await this.queue.catch(() => undefined);
    })();
    return this.stopping;
  }
}

/** A file that exists but could not be used as a whole: its entries are unknown, not none. */
function unusable(f: ConfigFileResult): boolean {
  return f.document === undefined && f.entries.length === 0 && f.errors.length > 0;
}

const fileKey = (client: string, path: string): string => `${client}\0${path}`;

function stillAFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The config state to publish after a pass: `next`, except that a file which could be used before
 * and now cannot (read/parse error) keeps its previous entries, document and servers, with the new
 * error attached. While any file is unusable, files read last time that still exist but were not
 * reached this time (their project was recorded in the file that failed) are kept as well. A file
 * that is gone, or that parses to fewer servers, still gives its removals.
 */
export function keepLastKnown(prev: ConfigState | null, next: ConfigState): ConfigState {
  if (!prev || !next.files.some(unusable)) return next;
  const before = new Map(prev.files.map((f) => [fileKey(f.client, f.path), f]));
  const kept = new Set<string>();
  const files = next.files.map((f) => {
    const old = before.get(fileKey(f.client, f.path));
    if (!unusable(f) || !old || unusable(old)) return f;
    kept.add(fileKey(f.client, f.path));
    return { ...old, errors: f.errors, stat: f.stat ?? old.stat };
  });
  const read = new Set(next.files.map((f) => fileKey(f.client, f.path)));
  for (const [key, old] of before) {
    if (read.has(key) || unusable(old) || !stillAFile(old.path)) continue;
    kept.add(key);
    files.push(old);
  }
  if (kept.size === 0) return next;
  const byKey = new Map(next.servers.map((s) => [s.serverKey, s]));
  for (const s of prev.servers) if (kept.has(fileKey(s.client, s.configPath)) && !byKey.has(s.serverKey)) byKey.set(s.serverKey, s);
  const servers = [...byKey.values()].sort(compareServers);
  const clients = next.clients.map((c) => ({
    ...c,
    serverCount: servers.filter((s) => s.client === c.client && (c.user == null || s.user == null || s.user === c.user)).length,
  }));
  for (const c of prev.clients) {
    if (!clients.some((n) => n.client === c.client && n.user === c.user) && servers.some((s) => s.client === c.client && c.configPaths.includes(s.configPath))) clients.push(c);
  }
  clients.sort((a, b) => a.client.localeCompare(b.client) || (a.user ?? '').localeCompare(b.user ?? ''));
  const projects = [...new Set([...next.projects, ...prev.projects])];
  return { ...next, files, servers, clients, projects };
}

function compareServers(a: ServerEntry, b: ServerEntry): number {
  return a.client.localeCompare(b.client) || a.configPath.localeCompare(b.configPath) || a.name.localeCompare(b.name);
}
