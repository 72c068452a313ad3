/**
 * The agent in run mode: watchers → events → spool → shipper, in one low-priority process.
 *
 * Contract:
 * - Events reach the spool (write before you send) through one EventSink, as the watch engine made
 *   them (no second filter: rule switches and allow-lists are applied once, in the rules engine,
 *   through `rulesOptions()`). The shipper is nudged after each append.
 * - On start: a full `inventory.snapshot` (the watch engine's first scan) and a heartbeat; then a
 *   heartbeat every heartbeatMs and a snapshot every snapshotEveryHours. Every timer is unref()'d.
 * - Self-limits: each heartbeat samples CPU % and RSS; over budget, the process-poll interval is
 *   multiplied (self-limit.ts) and the heartbeat says so.
 * - Each heartbeat carries the sources that failed at the watch engine's latest poll
 *   (`sourceErrors`, bounded); a source that keeps failing is the rules engine's
 *   `source-unavailable` finding, not the runtime's business.
 * - Policy from the collector (enrollment reply, batch acks) is applied without a restart: new
 *   intervals go to the watch engine (its setter when it has one, else a lossless restart that diffs
 *   the old inventory against the new one); rule switches and allow-lists to the rules engine
 *   (`rulesOptions()`, read at every evaluation), then the engine re-evaluates (its configChanged
 *   when it has one, else the same lossless restart) so findings are raised/resolved at once.
 * - A rule that throws is reported through `rulesOptions().reportError`: logged as an error and
 *   carried as the heartbeat's lastError (MCPW_ERR_RULE_FAILED); the other rules still run.
 * - 401 unknown agent or expired certificate: re-enrolls when a secret is configured, then the
 *   shipper resends what it holds. A certificate close to expiry is renewed the same way (checked
 *   at start and every 6 hours).
 * - Client hooks: the journal pump ships what hooks journal, in the agent's state dir and in every
 *   user's own state dir (userHookStateDir of each home: a root/SYSTEM agent's state dir is not
 *   writable by users' hooks), homes found as scan finds them (defaultHomes) at start and every
 *   USER_HOMES_REFRESH_MS. The hook keeper runs in every `hooks` mode (off: it only reports on the
 *   hooks mcpwatch has install records of), every hookCheckMs; it loads the installer only when
 *   there is a hook file to look at.
 * - With an `onCommands` handler, one containment long-poll (ship/command-wait.ts, its own HTTP
 *   client and socket) feeds it the commands the collector issues, as batch acks do; it stops on
 *   shutdown.
 * - Never throws out of timers; errors go to `log` and the last one is reported in the heartbeat.
 *   shutdown() is idempotent and bounded: stops watching, flushes briefly, closes the spool.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeEvent, type AgentSettings, type HeartbeatSourceError, type HostInfo, type InventoryDocument, type McpEvent } from '@mcpwatch/shared';
import type { AgentConfig } from '../config/config-table.js';
import { Spool, type SpoolDropInfo } from '../spool/spool.js';
import { CERT_EXPIRED, Shipper, type ShipperReport } from '../ship/shipper.js';
import { HttpClient } from '../ship/http-client.js';
import { COMMAND_WAIT_MS, CommandWait } from '../ship/command-wait.js';
import { collectorTrust, enroll, loadIdentity, renewalDue, type AgentIdentity } from '../enroll/enroll-client.js';
import { ProcessMeter, SelfLimiter } from './self-limit.js';
import { snapshotEvent } from '../inventory/snapshot-event.js';
import { effectivePolicy, policyChanged, rulesOptionsOf, rulesPolicyChanged, type EffectivePolicy } from '../rules/policy.js';
import type { Rule, RulesOptions } from '../rules/index.js';
import { buildHeartbeat } from './heartbeat.js';
import { readJsonFile, writeFileAtomic, writeFileDurable } from '../spool/durable-file.js';
import { describeError, AgentCodes, PipelineError } from '../errors.js';
import { AGENT_VERSION } from './agent-version.js';
import { cacheToolPolicy, JournalPump } from '../hooks/journal-pump.js';
import type { HookKeeper } from '../hooks/hook-keeper.js';
import { userHookStateDir } from '../hooks/hook-journal.js';
import { hostPlatform } from '../platform/os.js';

/** Where the watch engine pushes events. */
export interface EventSink {
  push(event: McpEvent): void;
}

/** The part of the watch engine (watch/inventory-watcher.ts) the runtime drives. */
export interface WatchEngine {
  start(): Promise<void>;
  stop(): Promise<void>;
  current(): InventoryDocument | null;
  /** Changes the process/socket poll interval in place, when the engine supports it. */
  setProcessIntervalMs?(ms: number): void;
  /** Re-reads configs and re-evaluates the rules (debounced), when the engine supports it. */
  configChanged?(): void;
  /** Sources that failed at the latest poll (the heartbeat's sourceErrors), when the engine tracks them. */
  sourceErrors?(): HeartbeatSourceError[];
}

export interface WatchEngineOptions {
  endpointId: string;
  processIntervalMs: number;
  /** Emit the start scan as an inventory.snapshot (true on the first start, false on restarts). */
  emitSnapshot: boolean;
  onEvent: (event: McpEvent) => void;
  onError: (error: Error) => void;
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type Logger = (level: LogLevel, message: string) => void;

export interface AgentRuntimeOptions {
  config: AgentConfig;
  createWatcher: (opts: WatchEngineOptions) => WatchEngine;
  /** Diff of two inventories as events (diff.ts), used to bridge a watch-engine restart. */
  diff?: (prev: InventoryDocument, next: InventoryDocument, endpointId: string) => McpEvent[];
  /** Host facts for (re-)enrollment. */
  hostInfo: () => Promise<HostInfo>;
  log: Logger;
  /** Clock of signatures and event times (tests inject skew). */
  now?: () => number;
  /** Rules to run instead of the engine's own list (tests: a rule that throws). */
  rules?: readonly Rule[];
  /** Signed commands from a batch ack, passed on unverified (the composition root's containment). */
  onCommands?: (commands: readonly unknown[]) => void;
  /** The users' homes whose hook journals are pumped and hooks kept (default: defaultHomes of this OS, as scan finds them). */
  userHomes?: () => Promise<readonly { user: string; home: string }[]>;
}

/** How often the users' homes are looked up again (new accounts) for their hook journals. */
const USER_HOMES_REFRESH_MS = 10 * 60_000;

/** Health written to `<stateDir>/health.json` at every heartbeat (read by `status`). */
export interface HealthFile {
  pid: number;
  writtenAt: string;
  heartbeat: ReturnType<typeof buildHeartbeat>;
  lastShipAt: string | null;
  lastSeq: number;
}

const RENEW_CHECK_MS = 6 * 3600_000;

export class AgentRuntime implements EventSink {
  private readonly cfg: AgentConfig;
  private readonly now: () => number;
  private readonly startedAtMs: number;
  private identity: AgentIdentity | null = null;
  private spool: Spool | null = null;
  private shipper: Shipper | null = null;
  private http: HttpClient | null = null;
  /** The containment long-poll and its own client (a held wait must not take a batch's socket). */
  private commandWait: CommandWait | null = null;
  private waitHttp: HttpClient | null = null;
  private watcher: WatchEngine | null = null;
  private policy: EffectivePolicy;
  /** Tool probing switches served by the collector (null: none served; local config applies). */
  private servedToolProbing: AgentSettings['toolProbing'] | null = null;
  private readonly meter = new ProcessMeter();
  private readonly limiter: SelfLimiter;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private snapshotTimer: NodeJS.Timeout | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  private lastError: string | null = null;
  private lastErrorFromShipper = false;
  private stopping: Promise<void> | null = null;
  private reenrolling: Promise<boolean> | null = null;
  private watcherSwap: Promise<void> = Promise.resolve();
  private journalPump: JournalPump | null = null;
  private hookKeeper: HookKeeper | null = null;
  /** Each user's state dir (userHookStateDir of the home) and the user it belongs to. */
  private userStateDirs = new Map<string, string>();
  private homesTimer: NodeJS.Timeout | null = null;

  constructor(private readonly o: AgentRuntimeOptions) {
    this.cfg = o.config;
    this.now = o.now ?? Date.now;
    this.startedAtMs = Date.now();
    this.limiter = new SelfLimiter({ cpuBudgetPercent: this.cfg.cpuBudgetPercent, rssBudgetMb: this.cfg.rssBudgetMb });
    this.policy = effectivePolicy(this.cfg, null);
  }

  /** The endpoint id events carry. */
  get endpointId(): string {
    return this.identity?.record.endpointId ?? '';
  }

  /** Starts everything. Rejects with MCPW_ERR_NOT_ENROLLED when there is no identity. */
  async start(): Promise<void> {
    const stateDir = this.cfg.stateDir;
    this.identity = loadIdentity(stateDir);
    if (!this.identity) {
      throw new PipelineError(AgentCodes.notEnrolled, `not enrolled (no identity in ${stateDir}); run: mcpwatch-agent enroll --server URL --secret S`);
    }
    await this.renewIfDue();
    // Pinned to the collector's CA (fingerprint + the CA stored at enrollment), never to its leaf.
    const trust = collectorTrust(this.identity, stateDir);
    this.http = new HttpClient({ pinSha256: trust.pinSha256 ?? this.cfg.caFingerprint, pinnedCaPem: trust.pinnedCaPem, timeoutMs: this.cfg.requestTimeoutMs });
    this.spool = Spool.open({
      dir: path.join(stateDir, 'spool'),
      maxBytes: this.cfg.spoolMaxBytes,
      fsync: this.cfg.spoolFsync,
      fsyncIntervalMs: this.cfg.spoolFsyncIntervalMs,
      carryMarker: '"type":"agent.dropped"',
      onDrop: (d) => this.onSpoolDrop(d),
    });
    const st = this.spool.stats();
    if (st.tornTails > 0 || st.corruptedRecords > 0) {
      this.o.log('warn', `spool recovered: ${st.tornTails} torn tail(s) cut, ${st.corruptedRecords} corrupted record(s) skipped; ${st.depth} events pending`);
    }
    this.shipper = new Shipper({
      spool: this.spool,
      stateDir,
      http: this.http,
      identity: () =>
        this.identity
          ? { agentId: this.identity.record.agentId, privateKey: this.identity.privateKey, server: this.identity.record.server, endpointId: this.identity.record.endpointId }
          : null,
      batchMaxEvents: this.cfg.batchMaxEvents,
      batchMaxBytes: this.cfg.batchMaxBytes,
      batchMaxWaitMs: this.cfg.batchMaxWaitMs,
      retryBaseMs: this.cfg.retryBaseMs,
      retryMaxMs: this.cfg.retryMaxMs,
      reconnectJitterMs: this.cfg.reconnectJitterMs,
      now: this.now,
      onUnknownAgent: (code) =>
        this.reenroll(code === CERT_EXPIRED ? "the collector says this agent's certificate has expired" : 'the collector does not know this agent'),
      onSettings: (s) => this.applySettings(s),
      ...(this.o.onCommands ? { onCommands: this.o.onCommands } : {}),
      onReport: (r) => this.onShipperReport(r),
    });
    this.policy = effectivePolicy(this.cfg, this.servedSettings());
    this.servedToolProbing = this.servedSettings().toolProbing ?? null;
    this.shipper.start();
    if (this.o.onCommands) {
      this.waitHttp = new HttpClient({ pinSha256: trust.pinSha256 ?? this.cfg.caFingerprint, pinnedCaPem: trust.pinnedCaPem, timeoutMs: COMMAND_WAIT_MS + this.cfg.requestTimeoutMs });
      this.commandWait = new CommandWait({
        http: this.waitHttp,
        identity: () => (this.identity ? { agentId: this.identity.record.agentId, privateKey: this.identity.privateKey, server: this.identity.record.server } : null),
        onCommands: this.o.onCommands,
        retryBaseMs: this.cfg.retryBaseMs,
        retryMaxMs: this.cfg.retryMaxMs,
        now: this.now,
        log: (level, message) => this.o.log(level, message),
      });
      this.commandWait.start();
    }
    // Client hooks: the cached tool policy they read, and their journal shipped as tool.called events.
    cacheToolPolicy(stateDir, this.servedSettings().toolPolicy, (e) => this.reportError(e), this.cfg.hooks === 'audit' ? 'audit' : 'enforce');
    void this.refreshUserHomes(); // the users' journals join the pump once their homes are known
    this.homesTimer = setInterval(() => void this.refreshUserHomes(), USER_HOMES_REFRESH_MS);
    this.homesTimer.unref();
    this.journalPump = new JournalPump({
      stateDir, endpointId: () => this.endpointId, push: (e) => this.push(e), onError: (e) => this.reportError(e), now: () => new Date(this.now()),
      userStateDirs: () => [...this.userStateDirs.keys()],
      userOf: (dir) => this.userStateDirs.get(dir) ?? null,
    });
    this.journalPump.start();
    const { HookKeeper } = await import('../hooks/hook-keeper.js');
    // One after the other (the keeper has loaded it): issued together, Jest's ESM (vm modules) loader failed them ("request for 'node:path' is not in cache").
    const { defaultHookCommand } = await import('../hooks/hook-targets.js');
    this.hookKeeper = new HookKeeper({
      setting: this.cfg.hooks, stateDir, platform: hostPlatform(), intervalMs: this.cfg.hookCheckMs,
      homes: async () => (await this.homes()).map((h) => h.home),
      command: (client) => defaultHookCommand(client, stateDir),
      endpointId: () => this.endpointId, push: (e) => this.push(e), onError: (e) => this.reportError(e), now: () => new Date(this.now()),
    });
    void this.hookKeeper.start();
    this.watcher = this.o.createWatcher(this.watcherOptions(true));
    await this.watcher.start();
    this.heartbeat(false);
    this.scheduleHeartbeat();
    this.scheduleSnapshot();
    this.renewTimer = setInterval(() => void this.renewIfDue(), RENEW_CHECK_MS);
    this.renewTimer.unref();
  }

  /** The users' homes: injected, else found as scan finds them. */
  private async homes(): Promise<readonly { user: string; home: string }[]> {
    if (this.o.userHomes) return this.o.userHomes();
    const { defaultHomes } = await import('../discovery/home-finder.js');
    return defaultHomes(hostPlatform());
  }

  /** Looks the homes up again for the journal pump; keeps the previous list when that fails. */
  private async refreshUserHomes(): Promise<void> {
    try {
      const next = new Map<string, string>();
      for (const h of await this.homes()) next.set(path.resolve(userHookStateDir(h.home)), h.user);
      this.userStateDirs = next;
    } catch (e) {
      this.reportError(e);
    }
  }

  private watcherOptions(emitSnapshot: boolean): WatchEngineOptions {
    return {
      endpointId: this.endpointId,
      processIntervalMs: this.processIntervalMs(),
      emitSnapshot,
      onEvent: (e) => this.push(e),
      onError: (e) => this.reportError(e),
    };
  }

  private processIntervalMs(): number {
    return Math.round(this.policy.processPollMs * this.limiter.current().factor);
  }

  /** EventSink: the spool, then a nudge to the shipper. Never throws. */
  push(e: McpEvent): void {
    if (!this.spool || this.stopping) return;
    try {
      this.spool.append(Buffer.from(JSON.stringify(e), 'utf8'));
      this.o.log('debug', `spooled ${e.type} ${e.id}`);
      this.shipper?.notify();
    } catch (err) {
      this.reportError(err);
    }
  }

  /**
   * Turns a spool drop into one agent.dropped event. Drop reports that were themselves dropped are
   * carried into this one (their counts added, the report records themselves not counted), so the
   * collector's sum of agent.dropped counts is every event lost, whatever was lost with it.
   */
  private onSpoolDrop(d: SpoolDropInfo): void {
    let count = d.records;
    let bytes = d.bytes;
    for (const payload of d.carried) {
      try {
        const e = JSON.parse(payload.toString('utf8')) as McpEvent;
        if (e.type !== 'agent.dropped') continue;
        count += e.data.count - 1;
        bytes += e.data.bytes - payload.length;
      } catch {
        // not a report after all: counted as a record
      }
    }
    this.o.log('warn', `spool full: dropped the oldest ${count} events (${bytes} bytes)`);
    const reason = `spool over its ${this.cfg.spoolMaxBytes}-byte bound: oldest events dropped`;
    this.push(makeEvent('agent.dropped', this.endpointId, { count: Math.max(0, count), bytes: Math.max(0, bytes), reason }, new Date(this.now())));
  }

  private reportError(e: unknown): void {
    this.lastError = describeError(e);
    this.lastErrorFromShipper = false;
    this.o.log('error', this.lastError);
  }

  /** Shipper news: an error becomes lastError; recovery clears a shipping error (not others). */
  private onShipperReport(r: ShipperReport): void {
    if (r.level !== 'info') {
      this.lastError = `${r.code}: ${r.message}`.slice(0, 2048);
      this.lastErrorFromShipper = true;
    } else if (this.lastErrorFromShipper) {
      this.lastError = null;
      this.lastErrorFromShipper = false;
    }
    this.o.log(r.level, r.message);
  }

  // ---- health ---------------------------------------------------------------------------------

  /** Pushes one heartbeat now, outside the schedule (tests, callers that want health at once); no self-limiting. */
  heartbeatNow(): void {
    this.heartbeat(false);
  }

  private scheduleHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => this.heartbeat(true), this.policy.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  /**
   * Samples, self-limits and pushes one heartbeat. The start heartbeat (`limit` false) does not
   * self-limit: it measures the start scan, which is expected to cost more than steady state.
   */
  private heartbeat(limit: boolean): void {
    if (!this.spool || this.stopping) return;
    try {
      const sample = this.meter.sample();
      const decision = limit ? this.limiter.evaluate(sample) : { ...this.limiter.current(), changed: false };
      if (decision.changed) {
        this.o.log('warn', decision.reason ?? `back within budget: intervals x${decision.factor}`);
        this.applyIntervals(false);
      }
      const shipperState = this.shipper?.snapshot();
      const data = buildHeartbeat({
        version: AGENT_VERSION,
        startedAtMs: this.startedAtMs,
        nowMs: Date.now(),
        sample,
        spool: this.spool.stats(),
        lastError: this.lastError ?? shipperState?.lastError ?? null,
        intervalsMs: { processPollMs: this.processIntervalMs(), heartbeatMs: this.policy.heartbeatMs, snapshotMs: Math.round(this.policy.snapshotEveryHours * 3600_000) },
        throttled: decision.throttled,
        throttleReason: decision.reason,
        sourceErrors: this.watcher?.sourceErrors?.() ?? [],
      });
      this.push(makeEvent('agent.heartbeat', this.endpointId, data, new Date(this.now())));
      const health: HealthFile = { pid: process.pid, writtenAt: new Date().toISOString(), heartbeat: data, lastShipAt: shipperState?.lastShipAt ?? null, lastSeq: shipperState?.lastSeq ?? 0 };
      // A report of the moment (read by `status`): atomic, not fsynced (durable-file.ts).
      writeFileAtomic(path.join(this.cfg.stateDir, 'health.json'), JSON.stringify(health));
    } catch (e) {
      this.reportError(e);
    }
  }

  private scheduleSnapshot(): void {
    if (this.snapshotTimer) clearInterval(this.snapshotTimer);
    this.snapshotTimer = setInterval(() => this.snapshot(), Math.max(1000, Math.round(this.policy.snapshotEveryHours * 3600_000)));
    this.snapshotTimer.unref();
  }

  /** Pushes a full inventory.snapshot of the current inventory. */
  snapshot(): void {
    const d = this.watcher?.current();
    if (!d) return;
    this.push(snapshotEvent(d, this.endpointId, new Date(this.now())));
  }

  // ---- policy ---------------------------------------------------------------------------------

  private servedSettings(): AgentSettings {
    let fromAck: AgentSettings | null = null;
    try {
      fromAck = readJsonFile<AgentSettings>(path.join(this.cfg.stateDir, 'settings.json'));
    } catch {
      fromAck = null;
    }
    return { ...(this.identity?.record.settings ?? {}), ...(fromAck ?? {}) };
  }

  /** The tool probing switches the collector serves now (read by tools/ at every poll). */
  toolProbing(): AgentSettings['toolProbing'] | null {
    return this.servedToolProbing;
  }

  /** Applies settings served by the collector, without a restart. */
  applySettings(settings: AgentSettings): void {
    this.servedToolProbing = settings.toolProbing ?? null;
    cacheToolPolicy(this.cfg.stateDir, settings.toolPolicy, (e) => this.reportError(e), this.cfg.hooks === 'audit' ? 'audit' : 'enforce');
    const next = effectivePolicy(this.cfg, settings);
    if (!policyChanged(this.policy, next)) return;
    const prev = this.policy;
    this.policy = next;
    try {
      writeFileDurable(path.join(this.cfg.stateDir, 'settings.json'), JSON.stringify(settings));
    } catch (e) {
      this.reportError(e);
    }
    this.o.log('info', `policy from the collector applied: process poll ${next.processPollMs} ms, heartbeat ${next.heartbeatMs} ms, ${next.disabledRules.size} rule(s) off, ${next.allowServers.size} allow-listed`);
    if (prev.heartbeatMs !== next.heartbeatMs) this.scheduleHeartbeat();
    if (prev.snapshotEveryHours !== next.snapshotEveryHours) this.scheduleSnapshot();
    // A restarted engine evaluates the rules under the new policy anyway; otherwise ask it to.
    const restarted = prev.processPollMs !== next.processPollMs && this.applyIntervals(true);
    if (!restarted && rulesPolicyChanged(prev, next)) this.reevaluateRules();
  }

  /** Findings again under the current rules policy: the engine's rescan, else a lossless restart. */
  private reevaluateRules(): void {
    const w = this.watcher;
    if (!w || this.stopping) return;
    if (typeof w.configChanged === 'function') {
      w.configChanged();
      return;
    }
    this.restartWatcher(w);
  }

  /**
   * What the rules engine runs with now: the served rule switches and allow-list, and this
   * runtime's error reporting for a rule that fails. The composition root passes this to the
   * engine (commands/run.ts); it is read at every evaluation, so a new policy applies at once.
   */
  rulesOptions(): RulesOptions {
    return { ...rulesOptionsOf(this.policy), reportError: (e) => this.reportError(e), ...(this.o.rules ? { rules: this.o.rules } : {}) };
  }

  /** Current effective policy (status, tests). */
  currentPolicy(): EffectivePolicy {
    return this.policy;
  }

  /**
   * Gives the watch engine the current interval. An engine without a setter is restarted only for
   * a policy change (`restartIfNeeded`); for self-limiting a restart (a full rescan) would cost
   * more than it saves. true when a restart was scheduled.
   */
  private applyIntervals(restartIfNeeded: boolean): boolean {
    const w = this.watcher;
    if (!w || this.stopping) return false;
    const ms = this.processIntervalMs();
    if (typeof w.setProcessIntervalMs === 'function') {
      w.setProcessIntervalMs(ms);
      return false;
    }
    if (!restartIfNeeded) return false;
    this.restartWatcher(w);
    return true;
  }

  /** Lossless restart: the new engine's first scan is diffed against the old engine's inventory. */
  private restartWatcher(w: WatchEngine): void {
    this.watcherSwap = this.watcherSwap.then(async () => {
      if (this.stopping || this.watcher !== w) return;
      const prev = w.current();
      await w.stop();
      const next = this.o.createWatcher(this.watcherOptions(false));
      this.watcher = next;
      await next.start();
      const cur = next.current();
      if (prev && cur && this.o.diff) for (const e of this.o.diff(prev, cur, this.endpointId)) this.push(e);
    }).catch((e) => this.reportError(e));
  }

  // ---- identity -------------------------------------------------------------------------------

  private async renewIfDue(): Promise<void> {
    const id = this.identity;
    if (!id || !renewalDue(id.record, this.now(), this.cfg.certRenewBeforeDays)) return;
    await this.reenroll(`certificate expires ${id.record.certNotAfter}`);
  }

  /** Re-enrolls with the configured secret; false when there is none or it failed. */
  reenroll(why: string): Promise<boolean> {
    this.reenrolling ??= (async () => {
      const secret = this.cfg.enrollSecret;
      const server = this.identity?.record.server ?? this.cfg.server;
      if (!secret || !server) {
        this.lastError = `${AgentCodes.enroll}: ${why}, and no enroll secret is configured to enroll again (set MCPWATCH_ENROLL_SECRET)`;
        this.o.log('error', this.lastError);
        return false;
      }
      try {
        const trust = collectorTrust(this.identity, this.cfg.stateDir);
        this.identity = await enroll({
          server,
          secret,
          caFingerprint: trust.pinSha256 ?? this.cfg.caFingerprint,
          caPem: trust.pinnedCaPem,
          stateDir: this.cfg.stateDir,
          host: await this.o.hostInfo(),
          agentVersion: AGENT_VERSION,
          timeoutMs: this.cfg.requestTimeoutMs,
          now: this.now,
        });
        this.o.log('warn', `re-enrolled (${why}): agent ${this.identity.record.agentId}, endpoint ${this.identity.record.endpointId}`);
        return true;
      } catch (e) {
        this.reportError(e);
        return false;
      }
    })().finally(() => (this.reenrolling = null));
    return this.reenrolling;
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /** Flushes the spool to the collector now (bounded). */
  flush(timeoutMs = 5000): Promise<boolean> {
    return this.shipper ? this.shipper.flush(timeoutMs) : Promise.resolve(true);
  }

  /** Stops watching and shipping; bounded by timeoutMs. Idempotent. */
  shutdown(timeoutMs = 3000): Promise<void> {
    this.stopping ??= (async () => {
      for (const t of [this.heartbeatTimer, this.snapshotTimer, this.renewTimer, this.homesTimer]) if (t) clearInterval(t);
      await this.watcherSwap.catch(() => undefined);
      await Promise.race([this.watcher?.stop(), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
      this.hookKeeper?.shutdown();
      this.journalPump?.shutdown();
      await this.commandWait?.shutdown();
      this.waitHttp?.close();
      await this.shipper?.shutdown(timeoutMs);
      this.spool?.close();
      this.http?.close();
    })();
    return this.stopping;
  }
}

/** true when `stateDir` holds a `run.lock` of a live process other than this one. */
export function acquireRunLock(stateDir: string): { ok: true; release: () => void } | { ok: false; pid: number } {
  const file = path.join(stateDir, 'run.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      return { ok: true, release: () => fs.rmSync(file, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(fs.readFileSync(file, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) return { ok: false, pid };
      fs.rmSync(file, { force: true }); // stale: the previous run died (kill -9, power loss)
    }
  }
  return { ok: false, pid: -1 };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
