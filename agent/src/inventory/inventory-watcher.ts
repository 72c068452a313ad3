/**
 * Watch mode: keeps the inventory current and reports each change as events.
 *  - start(): one full scan; emits an `inventory.snapshot` event (unless disabled) and a
 *    `config.error` for each error present at start; then watches.
 *  - config files (chokidar, see config-watcher.ts): a change, debounced, re-reads the configs
 *    and re-matches the last process snapshot against them (no new ps);
 *  - processes and sockets: polled every `processIntervalMs` (default 5 s);
 *  - configs re-read every FULL_RESCAN_INTERVAL_MS even without file events (missed events,
 *    folders beyond the watch cap);
 *  - each pass diffs against the last inventory and emits the events in order;
 *  - each poll records which process/socket/host-facts sources failed (source-health.ts):
 *    `sourceErrors()` is what failed at the latest poll (the heartbeat's), and a source failing for
 *    `sourceFailurePolls` polls and `sourceFailureMs` is given to the rules (`source-unavailable`),
 *    so the finding is raised, and resolved when the source answers, through the rules engine.
 * A file that exists but can no longer be read or parsed (a syntax error mid-edit, a file nested
 * too deeply, a FIFO put in its place) is that file's config.error only: its servers, and the
 * files it pointed discovery to, keep their last known entries (see keepLastKnown), so no
 * server.removed or finding.resolved is reported for what is merely unreadable for now.
 * Passes never overlap (one queue); a change during a pass schedules one more. All timers are
 * unref()'d. Nothing throws out of here: failures go to onError and the watch goes on.
 * stop() is idempotent and resolves once watchers are closed and the running pass finished.
 */
import { statSync } from 'node:fs';
import { canonicalJson, makeEvent, type ConfigError, type HeartbeatSourceError, type InventoryDocument, type McpEvent, type ServerEntry } from '@mcpwatch/shared';
import { diffInventories } from './diff.js';
import { diffExtensions } from '../extensions/extension-changes.js';
import { extensionWatchSpecs } from '../extensions/extension-finder.js';
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
import { redactConfigError } from '../secrets/index.js';
import { SourceHealth } from './source-health.js';
import { byText } from '../normalize/text-order.js';

export const DEFAULT_PROCESS_INTERVAL_MS = 5000;
const NO_PROJECTS: readonly string[] = [];
/**
 * Quiet time after a config file event before the configs are read again: long enough to take an
 * editor's truncate-then-write (or write-then-rename) as one change, short enough that the pass
 * (tens of ms) and shipping fit DESIGN.md's 300 ms from write to stored.
 */
export const DEFAULT_DEBOUNCE_MS = 50;
/** How often the watch plan is recomputed even without events (a watched folder may vanish). */
export const REPLAN_INTERVAL_MS = 60_000;
/** How often configs are re-read even without events (a safety net for missed file events). */
export const FULL_RESCAN_INTERVAL_MS = 10 * 60_000;
/** Consecutive failed polls before a failing source is a finding (with DEFAULT_SOURCE_FAILURE_MS). */
export const DEFAULT_SOURCE_FAILURE_POLLS = 3;
/** How long a source fails before it is a finding (with DEFAULT_SOURCE_FAILURE_POLLS). */
export const DEFAULT_SOURCE_FAILURE_MS = 10 * 60_000;

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
  /** Consecutive failed polls before a failing source is a finding (default DEFAULT_SOURCE_FAILURE_POLLS). */
  sourceFailurePolls?: number;
  /** And how long it has failed (default DEFAULT_SOURCE_FAILURE_MS). */
  sourceFailureMs?: number;
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
  /** The last specs handed to the config watcher and what they were made of (watchSpecs()). */
  private specsMemo: { base: WatchSpec[]; projects: readonly string[] | null; specs: WatchSpec[] } | null = null;
  private stopped = false;
  private stopping: Promise<void> | null = null;
  private readonly health: SourceHealth;

  constructor(
    private readonly options: InventoryWatcherOptions,
    private readonly deps: WatchDeps,
  ) {
    this.health = new SourceHealth({
      minPolls: options.sourceFailurePolls ?? DEFAULT_SOURCE_FAILURE_POLLS,
      minDurationMs: options.sourceFailureMs ?? DEFAULT_SOURCE_FAILURE_MS,
    });
  }

  /** Sources that failed at the latest poll (bounded; empty when all answered). */
  sourceErrors(): HeartbeatSourceError[] {
    return this.health.current();
  }

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
    this.runtime = this.observeSources(outcome.runtime, outcome.document.errors);
    this.last = this.runtime.sourceFailures ? await assembleInventory(ctx, this.config, this.runtime, this.deps) : outcome.document;
    if (this.options.emitSnapshot !== false) {
      this.emit([snapshotEvent(outcome.document, this.options.endpointId)]);
    }
    this.emit(outcome.document.errors.map((e) => makeEvent('config.error', this.options.endpointId, e)));
    // The snapshot event carries no extensions: the ones present at start are announced as added.
    this.emit(diffExtensions([], outcome.document.extensions ?? []).map((c) => makeEvent(c.type, this.options.endpointId, c.data)));
    if (this.stopped) return;
    if (sources.configs) {
      this.watcher = new ConfigWatcher({
        // Config targets, and the places skills, hooks and plugins are read from when this watch looks for them.
        specs: () => this.watchSpecs(ctx),
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

  /**
   * Config targets, and the places skills, hooks and plugins are read from when this watch looks
   * for them. The same array while neither part changed (the config watcher then keeps its
   * relevance test: a re-plan every minute re-checks only which folders exist).
   */
  private watchSpecs(ctx: ScanContext): WatchSpec[] {
    const base = this.deps.watchSpecs(ctx);
    const projects = this.deps.findExtensions ? this.config?.projects ?? NO_PROJECTS : null;
    const memo = this.specsMemo;
    if (memo && memo.base === base && memo.projects === projects) return memo.specs;
    const specs = [...base, ...(projects ? extensionWatchSpecs(ctx, projects) : [])];
    this.specsMemo = { base, projects, specs };
    return specs;
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
    const failures = this.runtime.sourceFailures;
    this.runtime = { ...(await classifyRuntime(ctx, sources, this.snapshot, this.config.servers, this.deps)), ...(failures ? { sourceFailures: failures } : {}) };
    await this.publish();
  }

  private async runtimePass(): Promise<void> {
    const { ctx, sources } = this.options;
    this.snapshot = await snapshotRuntime(sources, this.deps);
    const classified = await classifyRuntime(ctx, sources, this.snapshot, this.config?.servers ?? [], this.deps);
    // Host facts are read once per agent: their errors stay those of the last document.
    const next = this.observeSources(classified, [...classified.errors, ...(this.last?.errors ?? []).filter((e) => e.path === '(host)')]);
    // Steady state: nothing MCP-related moved and no source started or stopped being persistently
    // failing, so rules, assembly and diff are skipped.
    const unchanged = canonicalJson(next) === canonicalJson(this.runtime);
    this.runtime = next;
    if (!unchanged) await this.publish();
  }

  /**
   * Records one poll's source failures and returns `state` with the persistent ones (absent when
   * none, so a healthy agent's runtime state is what it always was). The processes source is asked
   * at every poll, sockets only when this snapshot read them, host facts at every poll.
   */
  private observeSources(state: RuntimeState, errors: readonly ConfigError[]): RuntimeState {
    const { sources } = this.options;
    const polled = ['host'];
    if (sources.processes || sources.sockets) polled.push('processes');
    if (this.snapshot.sockets !== null) polled.push('sockets');
    const nowMs = Date.now();
    this.health.observe(polled, errors.map((e) => redactConfigError(e)), nowMs);
    const persistent = this.health.persistent(nowMs);
    const rest: RuntimeState = { ...state };
    delete rest.sourceFailures;
    return persistent.length > 0 ? { ...rest, sourceFailures: persistent } : rest;
  }

  private async publish(): Promise<void> {
    if (!this.config) return;
    const next = await assembleInventory(this.options.ctx, this.config, this.runtime, this.deps);
    const prev = this.last;
    this.last = next;
    if (!prev) return;
    this.emit(diffInventories(prev, next, this.options.endpointId));
    // Skills, hooks and plugins (when this watch looks for them): extension.added|changed|removed.
    if (prev.extensions && next.extensions) this.emit(diffExtensions(prev.extensions, next.extensions).map((c) => makeEvent(c.type, this.options.endpointId, c.data)));
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
    return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
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
  clients.sort((a, b) => byText(a.client, b.client) || byText(a.user ?? '', b.user ?? ''));
  const projects = [...new Set([...next.projects, ...prev.projects])];
  return { ...next, files, servers, clients, projects };
}

function compareServers(a: ServerEntry, b: ServerEntry): number {
  return byText(a.client, b.client) || byText(a.configPath, b.configPath) || byText(a.name, b.name);
}
