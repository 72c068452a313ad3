/**
 * Tool watch: every `pollIntervalMs` (default 30 s, sooner when a known MCP listener's re-probe is
 * due, and a few times in the seconds after `kick()`: a new MCP server process) takes the
 * listening sockets from the socket source, lets the ListenerProber probe the due ones (a poll that
 * left some for later is followed by another after BACKLOG_POLL_MS), turns what MCP listeners list
 * into tool records, pins them (tool-pins.ts) and emits `tool.added|changed|removed` for what moved.
 *
 * Contract:
 * - Events carry hashes always and description text only when `shipDescriptions()` (policy) says
 *   so; the text stays in memory here for the rules (`ruleViews()`).
 * - Pins and the last observed records persist in the state dir: a restart does not re-announce
 *   tools, and a tool changed while the agent was down still shows as changed.
 * - Clients' tool caches on disk (client-tool-cache.ts: VS Code's `mcpToolCache`) are read at every
 *   poll (unchanged files are skipped by size + mtime); their tools carry `source: client-cache`
 *   and the file as `sourcePath`. A cache that cannot be read is reported once (MCPW_ERR_TOOL_CACHE).
 * - MCP listeners (socket MCP servers, configured or not) ship as `mcp-listener.added|changed|
 *   removed` when they appear, change (owner, identity, auth) or go; after a restart they are
 *   announced again.
 * - `onChange` is called after a poll that changed tools or the set of MCP listeners, so the
 *   owner can re-run the rules (the tool rules read `ruleViews()` and `listeners()`).
 * - Polls never overlap; every timer is unref()'d; nothing throws out of here (failures go to
 *   onError, coded). stop() is idempotent, waits for the running poll and closes the MCP sessions
 *   the prober kept (ListenerProber).
 */
import { makeEvent, type McpEvent, type McpListenerRecord, type ServerEntry } from '@mcpwatch/shared';
import { AgentCodes, AgentError } from '../errors.js';
import type { SocketSource } from '../platform/source-types.js';
import { ListenerProber, listenerCandidates, type ListenerProberOptions, type SocketMcpServer } from '../probe/listener-prober.js';
import { probeMcp, type McpProbeResult, type ProbedTool } from '../probe/mcp-probe.js';
import type { Platform } from '../types.js';
import { ClientToolCacheReader } from './client-tool-cache.js';
import type { ToolRuleView } from '../rules/rule-types.js';
import { diffTools, toolKey, toolViewsOf, type ToolServerRef } from './tool-inventory.js';
import { ToolPinStore } from './tool-pins.js';

/**
 * Listeners are looked for every 30 s (known MCP listeners are re-probed when due, every 60 s by
 * default, and a new MCP server process kicks a poll at once: see KICK_POLL_DELAYS_MS). Each poll
 * reads the machine's listener table (on Linux /proc/net/tcp and tcp6: with no established IPv6
 * connection, reading tcp6 to its end walks the kernel's whole connection hash, ~1 ms) and
 * looks up the owners of new listeners; at 15 s that was a quarter of `run`'s CPU with no MCP
 * listener at all (bench:agent, 0 MCP listeners, CPU profile of the steady state).
 */
export const DEFAULT_TOOL_POLL_MS = 30_000;
export const MIN_TOOL_POLL_MS = 1000;
/**
 * After kick() (the inventory saw a new MCP server process), polls run this long after it: a server
 * takes from a fraction of a second (node) to many (npx installing first) to listen, and most
 * MCP servers (stdio) never do, so a few polls in a widening window rather than one at once.
 */
export const KICK_POLL_DELAYS_MS: readonly number[] = [2000, 8000, 20_000];
/**
 * When a poll left due listeners unprobed (the prober's per-poll bound), the next poll comes this
 * soon: at start, or when many listeners appear at once, the bound paces probing without the
 * interval multiplying it (32 listeners at 4 a poll would otherwise take 4 min at 30 s). 15 s, the
 * earlier poll interval, rather than a burst: bench:agent with 10 MCP servers and 22 other
 * listeners, `run` steady-state RSS 75.0 MB with 2 s (its first probes within ~20 s grew the heap
 * for good), 67.6 MB with 15 s, 66.7 MB for the build before the backlog polls...
 */
export const BACKLOG_POLL_MS = 15_000;
/**
 * ...up to this many fresh probes (not re-probes on kept sessions) in any minute: the rate polls
 * every 15 s allowed at 4 a poll. On a machine where listeners come and go all the time (test
 * suites starting servers), probing stays paced instead of following every new port at once.
 */
export const BACKLOG_FRESH_PROBES_PER_MINUTE = 16;

export interface ToolWatcherOptions {
  endpointId: string;
  stateDir: string;
  socketSource: SocketSource;
  /** What the inventory knows now: MCP server process pids and the configured servers. */
  knowledge: () => { mcpPids: ReadonlySet<number>; servers: readonly ServerEntry[]; userOf?: (pid: number | null) => string | null; startOf?: (pid: number | null) => string | null };
  prober?: ListenerProberOptions;
  shipDescriptions?: () => boolean;
  /** false pauses polling (policy served by the collector); read at every poll. */
  active?: () => boolean;
  /**
   * Policy probeRemote: also probe configured remote (http/sse) servers that carry no credentials
   * (no header names, no secret placeholders in the URL), once per `remoteReprobeMs` each.
   */
  probeRemote?: () => boolean;
  remoteReprobeMs?: number;
  /** Read clients' tool caches on disk (client-tool-cache.ts) for these homes. */
  clientCaches?: { platform: Platform; homes: () => string[] };
  pollIntervalMs?: number;
  /** Delays of the polls after kick() (default KICK_POLL_DELAYS_MS). */
  kickDelaysMs?: readonly number[];
  /** Delay of the next poll when the last one left due listeners (default BACKLOG_POLL_MS). */
  backlogPollMs?: number;
  /** Fresh probes a minute that such polls may reach (default BACKLOG_FRESH_PROBES_PER_MINUTE). */
  backlogFreshPerMinute?: number;
  onEvent: (event: McpEvent) => void;
  onError?: (error: AgentError) => void;
  onChange?: () => void;
  now?: () => Date;
}

function localUrlPorts(servers: readonly ServerEntry[]): Map<number, { serverKey: string; fingerprint: string; path: string | null }> {
  const out = new Map<number, { serverKey: string; fingerprint: string; path: string | null }>();
  for (const s of servers) {
    if (!s.url) continue;
    try {
      const u = new URL(s.url);
      const host = u.hostname.replace(/^\[|\]$/g, '');
      if (!(host === 'localhost' || host === '::1' || host.startsWith('127.'))) continue;
      const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
      if (!out.has(port)) out.set(port, { serverKey: s.serverKey, fingerprint: s.fingerprint, path: u.pathname || null });
    } catch {
      // a URL the normalizer kept but that does not parse: nothing to match
    }
  }
  return out;
}

function listenerRecord(l: SocketMcpServer): McpListenerRecord {
  let p = '/';
  try {
    p = new URL(l.url).pathname.slice(0, 1024);
  } catch {
    // keep '/'
  }
  return {
    serverId: l.serverId, port: l.port, bind: l.bind, allInterfaces: l.allInterfaces, pid: l.pid, user: l.user, processName: l.processName,
    serverKey: l.serverKey, configured: l.configured, transport: l.transport, path: p, serverName: l.serverName, serverVersion: l.serverVersion,
    protocolVersion: l.protocolVersion, authRequired: l.authRequired,
  };
}

/** `mcp-listener.added|changed|removed` between two sets of MCP listeners (keyed by bind + port). */
export function diffListeners(prev: readonly SocketMcpServer[], next: readonly SocketMcpServer[], endpointId: string, at: Date): McpEvent[] {
  const key = (l: SocketMcpServer) => `${l.bind}|${l.port}`;
  const before = new Map(prev.map((l) => [key(l), listenerRecord(l)]));
  const after = new Map(next.map((l) => [key(l), listenerRecord(l)]));
  const out: McpEvent[] = [];
  for (const [k, r] of after) {
    const p = before.get(k);
    if (!p) out.push(makeEvent('mcp-listener.added', endpointId, r, at));
    else if (JSON.stringify(p) !== JSON.stringify(r)) out.push(makeEvent('mcp-listener.changed', endpointId, r, at));
  }
  for (const [k, r] of before) if (!after.has(k)) out.push(makeEvent('mcp-listener.removed', endpointId, r, at));
  return out;
}

export class ToolWatcher {
  private readonly prober: ListenerProber;
  private readonly pins: ToolPinStore;
  private views = new Map<string, ToolRuleView>();
  private known: SocketMcpServer[] = [];
  private timer: NodeJS.Timeout | null = null;
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;
  /** A scheduled tick's poll is running (the next one is scheduled when it ends). */
  private polling = false;
  private started = false;
  /** Times (ms) at which kick() asked for a poll, ascending. */
  private kickDue: number[] = [];
  /** The last poll left due listeners for later (see BACKLOG_POLL_MS). */
  private backlog = false;
  /** When fresh probes ran in the last minute, ascending (one entry per probe). */
  private freshAt: number[] = [];

  constructor(private readonly o: ToolWatcherOptions) {
    this.prober = new ListenerProber(o.prober);
    this.pins = new ToolPinStore(o.stateDir, (e) => this.reportError(e));
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.tick();
  }

  /**
   * One poll, then the next one after `pollIntervalMs`, or sooner when a known MCP listener's
   * re-probe falls due before that (so a changed tool shows within the re-probe interval, not
   * that plus a poll interval). Never more often than every MIN_TOOL_POLL_MS.
   */
  private tick(): void {
    if (this.stopped) return;
    this.polling = true;
    void this.pollNow().then(() => {
      this.polling = false;
      this.schedule();
    });
  }

  private clock(): number {
    return (this.o.prober?.now ?? Date.now)();
  }

  /** Sets the timer of the next tick: the poll interval, or sooner for a due re-probe or a kick. */
  private schedule(): void {
    if (this.stopped) return;
    const now = this.clock();
    this.kickDue = this.kickDue.filter((t) => t > now);
    const every = this.o.pollIntervalMs ?? DEFAULT_TOOL_POLL_MS;
    const due = [this.prober.nextMcpDueAt(), this.kickDue[0] ?? null, this.backlog ? this.backlogDueAt(now) : null].filter((t): t is number => t !== null);
    const least = Math.min(MIN_TOOL_POLL_MS, ...(this.o.kickDelaysMs ?? []), this.o.backlogPollMs ?? MIN_TOOL_POLL_MS);
    const wait = Math.min(every, ...due.map((t) => Math.max(least, t - now)));
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), wait);
    this.timer.unref();
  }

  /** When the next poll may take on the listeners the last one left (BACKLOG_*). */
  private backlogDueAt(now: number): number {
    this.freshAt = this.freshAt.filter((t) => t > now - 60_000);
    const soon = now + (this.o.backlogPollMs ?? BACKLOG_POLL_MS);
    const limit = this.o.backlogFreshPerMinute ?? BACKLOG_FRESH_PROBES_PER_MINUTE;
    // Over the minute's allowance: when enough of the last minute's probes are older than a minute.
    return this.freshAt.length < limit ? soon : Math.max(soon, (this.freshAt[this.freshAt.length - limit] as number) + 60_000);
  }

  /**
   * A new MCP server process started: polls follow at KICK_POLL_DELAYS_MS, so its listener (if it
   * opens one) is found in seconds rather than at the next interval. Kicks while earlier ones are
   * pending only add the times not already covered. Nothing happens before start() or after stop().
   */
  kick(): void {
    if (this.stopped || !this.started) return;
    const now = this.clock();
    const delays = this.o.kickDelaysMs ?? KICK_POLL_DELAYS_MS;
    // Times closer than the first delay to the last pending one add nothing (a burst of kicks: one schedule).
    const last = (this.kickDue[this.kickDue.length - 1] ?? -Infinity) + (delays[0] ?? 0);
    for (const d of delays) if (now + d >= last) this.kickDue.push(now + d);
    if (!this.polling) this.schedule();
  }

  /** The tools as the rules see them (local text included; never shipped from here). */
  ruleViews(): ToolRuleView[] {
    return [...this.views.values()];
  }

  /** MCP listeners known now. */
  listeners(): SocketMcpServer[] {
    return [...this.known];
  }

  /** One poll now (queued behind a running one). */
  pollNow(): Promise<void> {
    this.queue = this.queue.then(async () => {
      if (this.stopped) return;
      try {
        await this.poll();
      } catch (cause) {
        this.reportError(new AgentError(AgentCodes.watchPass, 'tool probe pass failed', { cause }));
      }
    });
    return this.queue;
  }

  private async poll(): Promise<void> {
    this.backlog = false;
    if (this.o.active && !this.o.active()) return;
    const socks = await this.o.socketSource();
    if (!socks.ok) {
      this.reportError(new AgentError(AgentCodes.watchPass, 'socket source failed; no listeners probed this time', { cause: socks.error }));
      return;
    }
    const know = this.o.knowledge();
    const candidates = listenerCandidates(socks.rows, { mcpPids: know.mcpPids, byPort: localUrlPorts(know.servers), ...(know.userOf ? { userOf: know.userOf } : {}), ...(know.startOf ? { startOf: know.startOf } : {}) });
    const result = await this.prober.poll(candidates);
    this.backlog = result.deferred > 0;
    const probedAt = this.clock();
    for (let i = 0; i < result.fresh; i++) this.freshAt.push(probedAt);
    if (this.o.probeRemote?.()) for (const [id, r] of await this.probeRemotes(know.servers)) result.probed.set(id, r);
    const cached = this.readCaches(know.servers);
    const listenerEvents = diffListeners(this.known, result.servers, this.o.endpointId, this.o.now?.() ?? new Date());
    const listenersChanged = listenerEvents.length > 0;
    this.known = result.servers;
    const nowIso = (this.o.now?.() ?? new Date()).toISOString();
    const probedIds = new Set([...result.probed.keys(), ...cached.map((c) => c.serverId)]);
    const records = [];
    for (const c of cached) {
      const views = toolViewsOf(c.ref, c.tools, { shipDescriptions: this.o.shipDescriptions?.() ?? false });
      const pinsBefore = this.pins.observe(views.map((v) => v.record), nowIso);
      for (const key of [...this.views.keys()]) if (this.views.get(key)?.record.serverId === c.serverId) this.views.delete(key);
      for (const v of views) {
        this.views.set(toolKey(v.record), { ...v, pin: pinsBefore.get(toolKey(v.record)) ?? null });
        records.push(v.record);
      }
    }
    for (const [serverId, r] of result.probed) {
      const listener = result.servers.find((s) => s.serverId === serverId) ?? (this.remoteResults.has(serverId) ? { serverKey: this.remoteResults.get(serverId)!.serverKey } : undefined);
      const views = toolViewsOf(
        {
          serverId,
          serverKey: listener?.serverKey ?? null,
          serverName: r.serverName,
          serverVersion: r.serverVersion,
          protocolVersion: r.protocolVersion,
          instructions: r.instructions,
          source: 'probe',
          sourcePath: null,
        },
        r.tools,
        { shipDescriptions: this.o.shipDescriptions?.() ?? false },
      );
      const pinsBefore = this.pins.observe(views.map((v) => v.record), nowIso);
      for (const key of [...this.views.keys()]) if (this.views.get(key)?.record.serverId === serverId) this.views.delete(key);
      for (const v of views) {
        this.views.set(toolKey(v.record), { ...v, pin: pinsBefore.get(toolKey(v.record)) ?? null });
        records.push(v.record);
      }
    }
    // Tools of listeners that are gone stop counting for the rules.
    const live = new Set([...result.servers.map((s) => s.serverId), ...this.remoteResults.keys()]);
    for (const [key, v] of this.views) if (v.record.source === 'probe' && !live.has(v.record.serverId)) this.views.delete(key);
    const cachedIds = new Set(cached.map((c) => c.serverId));
    for (const [key, v] of this.views) if (v.record.source === 'client-cache' && !cachedIds.has(v.record.serverId)) this.views.delete(key);
    const diff = diffTools(this.pins.lastRecords(), records, probedIds);
    this.pins.setLast(probedIds, records);
    if (probedIds.size > 0) this.pins.save();
    const at = this.o.now?.() ?? new Date();
    const events: McpEvent[] = [
      ...listenerEvents,
      ...diff.added.map((d) => makeEvent('tool.added', this.o.endpointId, d, at)),
      ...diff.changed.map((d) => makeEvent('tool.changed', this.o.endpointId, d, at)),
      ...diff.removed.map((d) => makeEvent('tool.removed', this.o.endpointId, d, at)),
    ];
    for (const e of events) {
      if (this.stopped) return;
      try {
        this.o.onEvent(e);
      } catch (cause) {
        this.reportError(new AgentError(AgentCodes.watchSink, 'tool event consumer failed', { cause }));
      }
    }
    if ((events.length > 0 || listenersChanged) && this.o.onChange) {
      try {
        this.o.onChange();
      } catch (cause) {
        this.reportError(new AgentError(AgentCodes.watchSink, 'tool change consumer failed', { cause }));
      }
    }
  }

  private readonly remoteNextAt = new Map<string, number>();
  private readonly remoteResults = new Map<string, { serverKey: string }>();

  /** Configured remote servers that need no credentials, when due; never more than the prober's per-poll bound. */
  private async probeRemotes(servers: readonly ServerEntry[]): Promise<Map<string, McpProbeResult>> {
    const out = new Map<string, McpProbeResult>();
    const now = (this.o.now?.() ?? new Date()).getTime();
    const every = this.o.remoteReprobeMs ?? 60_000;
    let budget = this.o.prober?.maxProbesPerPoll ?? 4;
    for (const s of servers) {
      if (budget <= 0) break;
      if (!s.url || (s.transport !== 'http' && s.transport !== 'sse') || s.headerKeys.length > 0 || /REDACTED|\*\*\*/i.test(s.url)) continue;
      let u: URL;
      try {
        u = new URL(s.url);
      } catch {
        continue;
      }
      if (u.username || u.password || (u.protocol !== 'http:' && u.protocol !== 'https:')) continue;
      if ((this.remoteNextAt.get(s.fingerprint) ?? 0) > now) continue;
      this.remoteNextAt.set(s.fingerprint, now + every);
      budget--;
      const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
      const r = await probeMcp({ host: u.hostname, port, pathHint: u.pathname || null, scheme: u.protocol === 'https:' ? 'https' : 'http' }, { allowRemote: true });
      if (r.kind === 'mcp') {
        out.set(s.fingerprint, r);
        this.remoteResults.set(s.fingerprint, { serverKey: s.serverKey });
      }
    }
    while (this.remoteNextAt.size > 4096) this.remoteNextAt.delete(this.remoteNextAt.keys().next().value as string);
    return out;
  }

  private readonly cacheReader = new ClientToolCacheReader();
  private readonly cacheErrorsSeen = new Set<string>();

  /** Tools from clients' caches, each with the server it belongs to (a configured one when the name matches). */
  private readCaches(servers: readonly ServerEntry[]): { serverId: string; ref: ToolServerRef; tools: ProbedTool[] }[] {
    if (!this.o.clientCaches) return [];
    const { servers: found, errors } = this.cacheReader.read(this.o.clientCaches.platform, this.o.clientCaches.homes());
    for (const e of errors) {
      const k = `${e.path}\u0000${e.code}`;
      if (this.cacheErrorsSeen.has(k)) continue;
      this.cacheErrorsSeen.add(k);
      this.reportError(new AgentError(AgentCodes.toolCache, `${e.code}: ${e.path}: ${e.reason}`));
    }
    const out = new Map<string, { serverId: string; ref: ToolServerRef; tools: ProbedTool[] }>();
    for (const c of found) {
      const conf = servers.find((s) => s.client === c.client && (c.definitionId === s.name || c.definitionId.endsWith(`.${s.name}`)));
      const serverId = conf?.fingerprint ?? `client-cache:${c.client}:${c.definitionId}`;
      if (out.has(serverId)) continue;
      out.set(serverId, {
        serverId,
        tools: c.tools,
        ref: { serverId, serverKey: conf?.serverKey ?? null, serverName: c.serverName ?? conf?.name ?? c.definitionId, serverVersion: null, instructions: c.instructions, source: 'client-cache', sourcePath: c.sourcePath },
      });
    }
    return [...out.values()];
  }

  private reportError(e: AgentError): void {
    try {
      this.o.onError?.(e);
    } catch {
      // a failing reporter must not stop the watch
    }
  }

  /** Stops polling; resolves when the running poll finished. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.queue.catch(() => undefined);
    await this.prober.close(); // the kept MCP sessions end at their servers (DELETE)
  }
}
