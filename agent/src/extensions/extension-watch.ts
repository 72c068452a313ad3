/**
 * Joins extension inventory (skills, hooks, plugins) to run mode's watch engine, as tools/ does for
 * tool probing, so the composition root only wires:
 * - `withExtensionWatch(engine, opts)` returns an engine that, after the inner engine started,
 *   scans extensions once, then every `intervalMs`; each scan is diffed against the last one and
 *   emits `extension.added|changed|removed`. The last set is persisted in
 *   `<stateDir>/extensions.json` (written atomically), so a change made while the agent was down
 *   is still seen, and a restart does not re-announce everything.
 * - `withExtensionFindings(base, watcher)` adds the extension findings (project extensions that run
 *   a command; content changed without a version change, kept until the extension changes again
 *   or goes) to the base rules evaluation.
 * Failures: a scan that fails is reported through onError and the previous set is kept; a state
 * file that cannot be read starts from an empty set (every extension is then "added" once).
 * Timers are unref'd; stop() is idempotent and waits for a running scan.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExtensionRecord, Finding, McpEvent } from '@mcpwatch/shared';
import { makeEvent } from '@mcpwatch/shared';
import type { ScanDeps } from '../inventory/scan.js';
import type { WatchEngine } from '../runtime/agent-runtime.js';
import { wrapWatchEngine } from '../runtime/wrap-watch-engine.js';
import type { ScanContext } from '../types.js';
import { diffExtensions, extensionFindings, type ExtensionChange } from './extension-changes.js';
import { findExtensions, type ExtensionScan } from './extension-finder.js';

export interface ExtensionWatchOptions {
  ctx: ScanContext;
  stateDir: string;
  endpointId: string;
  intervalMs: number;
  redact: (commandLine: string) => string;
  onEvent: (event: McpEvent) => void;
  onError: (error: Error) => void;
  /** Receives the watcher, for withExtensionFindings. */
  expose?: (watcher: ExtensionWatcher) => void;
  /** Replaces the file scan (tests that count scans); defaults to findExtensions. */
  scan?: (ctx: ScanContext, projects: readonly string[]) => Promise<ExtensionScan>;
}

const STATE_FILE = 'extensions.json';

export class ExtensionWatcher {
  private last: ExtensionRecord[];
  private readonly silentChanges = new Map<string, ExtensionChange>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly o: ExtensionWatchOptions,
    private readonly projects: () => readonly string[],
  ) {
    this.last = this.load();
  }

  private load(): ExtensionRecord[] {
    try {
      const parsed: unknown = JSON.parse(readFileSync(join(this.o.stateDir, STATE_FILE), 'utf8'));
      return Array.isArray(parsed) ? (parsed as ExtensionRecord[]) : [];
    } catch {
      return [];
    }
  }

  private save(): void {
    mkdirSync(this.o.stateDir, { recursive: true, mode: 0o700 });
    const path = join(this.o.stateDir, STATE_FILE);
    writeFileSync(`${path}.tmp`, JSON.stringify(this.last), { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  }

  /** The extensions as last scanned. */
  current(): readonly ExtensionRecord[] {
    return this.last;
  }

  /** Findings over the current extensions and the silent content changes seen so far. */
  findings(): Finding[] {
    return extensionFindings(this.last, [...this.silentChanges.values()]);
  }

  /** Scans now, emits what changed. Resolves when done; never rejects. */
  scanNow(): Promise<void> {
    this.running = this.running.then(async () => {
      if (this.stopped) return;
      try {
        const scan = await (this.o.scan ?? ((ctx, projects) => findExtensions(ctx, projects, { redact: this.o.redact })))(this.o.ctx, this.projects());
        const changes = diffExtensions(this.last, scan.extensions);
        for (const c of changes) {
          if (c.type === 'extension.changed' && c.data.changedWithoutVersionChange) this.silentChanges.set(c.data.extensionKey, c);
          else this.silentChanges.delete(c.data.extensionKey);
        }
        this.last = scan.extensions;
        if (changes.length > 0) this.save();
        for (const c of changes) this.o.onEvent(makeEvent(c.type, this.o.endpointId, c.data));
      } catch (error) {
        this.o.onError(error as Error);
      }
    });
    return this.running;
  }

  start(): void {
    if (this.stopped || this.timer) return;
    void this.scanNow();
    this.timer = setInterval(() => void this.scanNow(), this.o.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}

/** An engine that also watches extensions (started after the inner engine, stopped before it). */
export function withExtensionWatch(engine: WatchEngine, o: ExtensionWatchOptions): WatchEngine {
  const projects = (): string[] => {
    const doc = engine.current();
    const fromServers = (doc?.servers ?? []).flatMap((s) => (s.projectPath ? [s.projectPath] : []));
    return [...new Set(fromServers)].sort();
  };
  const watcher = new ExtensionWatcher(o, projects);
  o.expose?.(watcher);
  return wrapWatchEngine(
    engine,
    async () => {
      await engine.start();
      watcher.start();
    },
    async () => {
      await watcher.stop();
      await engine.stop();
    },
  );
}

/** The base rules evaluation plus the extension findings as the watcher sees them now. */
export function withExtensionFindings(base: ScanDeps['evaluateRules'], watcher: () => ExtensionWatcher | null): ScanDeps['evaluateRules'] {
  return (input) => [...base(input), ...(watcher()?.findings() ?? [])];
}
