/**
 * Which of this machine's listening TCP sockets speak MCP: picks, per poll, a bounded number of
 * listeners to probe (probe/mcp-probe.ts) and remembers what each one was.
 *
 * Contract:
 * - Order of a poll: listeners owned by known MCP server processes (or named by a config URL)
 *   first, then listeners already known to be MCP, then other processes' listeners — the last
 *   group only when `probeOtherListeners` is on (policy can turn it off).
 * - At most `maxProbesPerPoll` probes per poll (default 4); the rest wait for the next poll (the
 *   poll reports how many: `deferred`; the tool watcher then polls again within seconds). A
 *   re-probe on a kept session (one `tools/list`, see below) is not one of them: up to
 *   MAX_SESSION_REPROBES_PER_POLL of those go in the same poll, so the known listeners due
 *   together are re-probed by one poll (one socket table read) rather than by one poll per four.
 * - A listener known to be MCP is probed again once `reprobeMcpMs` (default 60 s) has passed, so
 *   a changed tool shows within a minute. A listener that is not MCP is left alone for
 *   `notMcpBackoffMs` (default 10 min), doubling on each further miss up to `maxBackoffMs` (6 h).
 *   A new owner of the port (another pid, or the same pid with another start time / socket:
 *   pid reuse, a restarted server) starts afresh and is probed at the next poll; while owner and
 *   port are unchanged a listener is not probed more often than its interval less
 *   `coalesceMs` (but see the grouping below) (default a twelfth of reprobeMcpMs, at most 5 s). Re-probes due within that
 *   window are taken together, so known listeners share polls (one socket read) instead of each
 *   waking the watcher, and a watcher that polls at nextMcpDueAt() re-probes early by up to the
 *   window, never late: the window is the time a changed tool's finding has to reach the
 *   collector within the interval. A poll that re-probes a known MCP listener also takes the
 *   others due within half an interval, so listeners first probed at different times (a few a
 *   poll) fall into one group at their first re-probes and share one poll a minute (each poll
 *   reads the listener table: /proc/net/tcp6 read to its end was a quarter of `run`'s CPU with 10
 *   MCP listeners re-probed in three groups); such a listener may then be re-probed once after
 *   half an interval.
 * - A known MCP listener is re-probed at the URL that answered (no preflight, no other paths),
 *   for its tools only (the point of a re-probe: a changed tool): its prompts and resources are
 *   listed again only once `fullListMs` (default 10 min) has passed since they last were, and
 *   carried over from that listing in between. A first probe lists all three.
 * - Sessions (`keepSessions`, default on): the Streamable HTTP session a full probe opened is kept
 *   (ProbeSession), and the tools-only re-probes in between are one `tools/list` on it. A full
 *   listing starts a fresh session (closing the old one), so the server's identity and
 *   instructions are read again at least every `fullListMs`. A kept session that fails is closed
 *   and the re-probe goes on afresh; a listener whose session failed at its first reuse (a server
 *   that wants initialize per request) is not given one again. Sessions are closed (DELETE) when
 *   their listener goes, changes owner or is evicted, and by close().
 * - All-interface binds (0.0.0.0, ::) are probed through the loopback; other binds at their own
 *   (local) address. Only listening sockets are considered: nothing remote is contacted here.
 * - State is bounded (MAX_LISTENER_STATE) and forgets listeners that are gone.
 * - `poll` never throws; probes run one after the other (no burst of connections).
 */
import type { SocketRow } from '../platform/source-types.js';
import { probeMcp, type McpProbeResult, type ProbeOptions, type ProbeOutcome, type ProbeSession, type ProbeTarget } from './mcp-probe.js';

export const MAX_LISTENER_STATE = 4096;
/** Re-probes on kept sessions one poll makes at most (besides maxProbesPerPoll fresh probes). */
export const MAX_SESSION_REPROBES_PER_POLL = 32;

export const PROBER_DEFAULTS = {
  maxProbesPerPoll: 4,
  reprobeMcpMs: 60_000,
  fullListMs: 10 * 60_000,
  notMcpBackoffMs: 10 * 60_000,
  maxBackoffMs: 6 * 60 * 60_000,
} as const;

/** A listening socket the prober may look at. */
export interface ListenerCandidate {
  pid: number | null;
  processName: string;
  user?: string | null;
  localAddress: string;
  localPort: number;
  /** The owner is a known MCP server process. */
  mcpProcess: boolean;
  /**
   * What identifies this owner beyond its pid: the process start time, or the socket's inode
   * (Linux). A change means another process or socket took the port. Optional.
   */
  ownerId?: string | null;
  /** A configured server whose URL points at this port. */
  serverKey?: string | null;
  fingerprint?: string | null;
  pathHint?: string | null;
}

/** A socket MCP server: a listener that answered MCP (or asked for credentials). */
export interface SocketMcpServer {
  /** fingerprint of the configured server, else `listener:<bind>:<port>`. */
  serverId: string;
  port: number;
  bind: string;
  allInterfaces: boolean;
  pid: number | null;
  user: string | null;
  processName: string;
  serverKey: string | null;
  configured: boolean;
  url: string;
  transport: 'streamable-http' | 'sse';
  serverName: string | null;
  serverVersion: string | null;
  protocolVersion: string | null;
  authRequired: boolean;
  probedAt: string;
}

export interface ListenerProberOptions {
  maxProbesPerPoll?: number;
  reprobeMcpMs?: number;
  notMcpBackoffMs?: number;
  maxBackoffMs?: number;
  /** Re-probes due within this long are done together (see the module comment). */
  coalesceMs?: number;
  /** A known listener's prompts and resources are listed again after this long (see the module comment). */
  fullListMs?: number;
  /** Keep a known listener's Streamable HTTP session for its tools-only re-probes (default true; see the module comment). */
  keepSessions?: boolean;
  /** A function is read at every poll (policy served by the collector applies without a restart). */
  probeOtherListeners?: boolean | (() => boolean);
  probeOptions?: ProbeOptions;
  /** Replaces the network probe (unit tests of the scheduling only). */
  probe?: (target: ProbeTarget, options: ProbeOptions) => Promise<ProbeOutcome>;
  now?: () => number;
}

interface ListenerState {
  pid: number | null;
  /** identityOf() the candidate when it was probed. */
  identity: string;
  kind: 'mcp' | 'not-mcp';
  nextAt: number;
  misses: number;
  server: SocketMcpServer | null;
  result: McpProbeResult | null;
  /** When `result`'s prompts and resources were listed (a full listing). */
  fullListAt: number;
  /** The session kept from the last full probe (null: none, or closed). */
  session: ProbeSession | null;
  /** false once a kept session failed at its first reuse: this listener gets none again. */
  keepSession: boolean;
}

export interface PollResult {
  /** Every listener currently known to be MCP (probed this poll or earlier). */
  servers: SocketMcpServer[];
  /** Full results of the MCP listeners probed in this poll, by serverId. */
  probed: Map<string, McpProbeResult>;
  probes: number;
  /** Listeners that were due but left for a later poll (the per-poll bound was reached). */
  deferred: number;
  /** Probes of this poll that were not a re-probe on a kept session (what maxProbesPerPoll bounds). */
  fresh: number;
}

const ANY = new Set(['0.0.0.0', '::', '*', '[::]', '::0', '0:0:0:0:0:0:0:0']);

export function isAllInterfaces(address: string): boolean {
  return ANY.has(address.trim());
}

function connectHost(bind: string): string {
  const b = bind.trim();
  if (b === '::' || b === '[::]' || b === '::0' || b === '0:0:0:0:0:0:0:0') return '::1';
  if (ANY.has(b)) return '127.0.0.1';
  return b.replace(/^::ffff:/i, '');
}

/**
 * Who holds the port: a socket inode alone (the same socket, whatever is learnt about its owner
 * later), else the pid with the process start time when known.
 */
function identityOf(c: ListenerCandidate): string {
  return c.ownerId?.startsWith('inode:') ? c.ownerId : `${c.pid ?? '-'}|${c.ownerId ?? ''}`;
}

function pathOf(url: string): string | null {
  try {
    return new URL(url).pathname;
  } catch {
    return null;
  }
}

/** Whether a re-probe's tools differ from the last result's (any field, in order). */
function toolsChanged(before: McpProbeResult['tools'], after: McpProbeResult['tools']): boolean {
  return before.length !== after.length || JSON.stringify(before) !== JSON.stringify(after);
}

/** Listening TCP sockets of a socket-source snapshot as candidates. */
export function listenerCandidates(
  rows: readonly SocketRow[],
  know: {
    mcpPids: ReadonlySet<number>;
    byPort?: ReadonlyMap<number, { serverKey: string; fingerprint: string; path: string | null }>;
    userOf?: (pid: number | null) => string | null;
    /** A process's start time when known (the owner identity when the row has no socket inode). */
    startOf?: (pid: number | null) => string | null;
  },
): ListenerCandidate[] {
  const seen = new Set<string>();
  const out: ListenerCandidate[] = [];
  for (const r of rows) {
    if (r.state !== 'LISTEN' || !/^tcp/i.test(r.protocol) || r.localPort <= 0) continue;
    const key = `${r.localAddress}|${r.localPort}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const conf = know.byPort?.get(r.localPort);
    const inode = (r as SocketRow & { inode?: unknown }).inode;
    out.push({
      pid: r.pid,
      ownerId: typeof inode === 'number' ? `inode:${inode}` : know.startOf?.(r.pid) ?? null,
      processName: r.processName,
      user: know.userOf?.(r.pid) ?? null,
      localAddress: r.localAddress,
      localPort: r.localPort,
      mcpProcess: r.pid !== null && know.mcpPids.has(r.pid),
      serverKey: conf?.serverKey ?? null,
      fingerprint: conf?.fingerprint ?? null,
      pathHint: conf?.path ?? null,
    });
  }
  return out;
}

export class ListenerProber {
  private readonly state = new Map<string, ListenerState>();
  private readonly o: Required<Omit<ListenerProberOptions, 'probeOptions' | 'probe' | 'now' | 'probeOtherListeners'>> & Pick<ListenerProberOptions, 'probeOptions'> & { probeOtherListeners: () => boolean };
  /** Sessions being closed (so close() can wait for them). */
  private readonly closing = new Set<Promise<void>>();
  private readonly probe: (target: ProbeTarget, options: ProbeOptions) => Promise<ProbeOutcome>;
  private readonly now: () => number;

  constructor(options: ListenerProberOptions = {}) {
    const reprobeMcpMs = Math.max(1000, options.reprobeMcpMs ?? PROBER_DEFAULTS.reprobeMcpMs);
    this.o = {
      maxProbesPerPoll: Math.max(1, options.maxProbesPerPoll ?? PROBER_DEFAULTS.maxProbesPerPoll),
      reprobeMcpMs,
      coalesceMs: Math.max(0, Math.min(reprobeMcpMs / 2, options.coalesceMs ?? Math.min(5000, Math.floor(reprobeMcpMs / 12)))),
      fullListMs: Math.max(0, options.fullListMs ?? PROBER_DEFAULTS.fullListMs),
      keepSessions: options.keepSessions ?? true,
      notMcpBackoffMs: Math.max(1000, options.notMcpBackoffMs ?? PROBER_DEFAULTS.notMcpBackoffMs),
      maxBackoffMs: Math.max(1000, options.maxBackoffMs ?? PROBER_DEFAULTS.maxBackoffMs),
      probeOtherListeners: typeof options.probeOtherListeners === 'function' ? options.probeOtherListeners : ((v: boolean) => () => v)(options.probeOtherListeners ?? true),
      probeOptions: options.probeOptions,
    };
    this.probe = options.probe ?? probeMcp;
    this.now = options.now ?? Date.now;
  }

  /** One poll over the current listeners. Never throws. */
  async poll(candidates: readonly ListenerCandidate[]): Promise<PollResult> {
    const now = this.now();
    const probeOthers = this.o.probeOtherListeners();
    const live = new Set<string>();
    const due: { c: ListenerCandidate; key: string; rank: number }[] = [];
    /** Known MCP listeners not due yet but within half an interval: they join a poll that re-probes one anyway. */
    const early: { c: ListenerCandidate; key: string; rank: number }[] = [];
    let mcpDue = false;
    for (const c of candidates) {
      const key = `${c.localAddress}|${c.localPort}`;
      live.add(key);
      let st = this.state.get(key);
      if (st && st.identity !== identityOf(c)) {
        this.forget(key); // a new owner: what the old one was says nothing
        st = undefined;
      }
      if (st?.server && (st.server.pid !== c.pid || st.server.processName !== c.processName)) {
        st.server = { ...st.server, pid: c.pid, processName: c.processName, user: c.user ?? null }; // owner learnt after the probe
      }
      const wanted = c.mcpProcess || Boolean(c.serverKey) || st?.kind === 'mcp' || probeOthers;
      if (!wanted) continue;
      const rank = c.mcpProcess || c.serverKey ? 0 : st?.kind === 'mcp' ? 1 : 2;
      if (st?.kind === 'mcp' && st.nextAt > now + this.o.coalesceMs) {
        if (st.nextAt <= now + this.o.reprobeMcpMs / 2) early.push({ c, key, rank });
        continue;
      }
      if (st && st.kind !== 'mcp' && st.nextAt > now) continue;
      if (st?.kind === 'mcp') mcpDue = true;
      due.push({ c, key, rank });
    }
    if (mcpDue) due.push(...early);
    for (const key of [...this.state.keys()]) if (!live.has(key)) this.forget(key);
    due.sort((a, b) => a.rank - b.rank || (this.state.get(a.key)?.nextAt ?? 0) - (this.state.get(b.key)?.nextAt ?? 0) || a.c.localPort - b.c.localPort);
    const probed = new Map<string, McpProbeResult>();
    let probes = 0;
    let fresh = 0;
    let onSessions = 0;
    let deferred = 0;
    for (const { c, key } of due) {
      const st = this.state.get(key);
      const onSession = this.toolsOnly(st, now) && Boolean(st?.session && !st.session.closed);
      if (onSession ? onSessions >= MAX_SESSION_REPROBES_PER_POLL : fresh >= this.o.maxProbesPerPoll) {
        deferred++;
        continue;
      }
      if (onSession) onSessions++;
      else fresh++;
      probes++;
      let outcome: ProbeOutcome;
      // Re-probes are timed from the start of the probe, so they start every reprobeMcpMs (a probe's
      // own duration does not push the next one later).
      const started = this.now();
      const before = this.state.get(key);
      const toolsOnly = this.toolsOnly(before, started);
      // The session kept for this listener (used by a tools-only probe, closed by a full one), and the one this probe may open.
      const session = before?.session ?? null;
      let opened: ProbeSession | null = null;
      const keepSession = this.o.keepSessions && (before?.keepSession ?? true);
      try {
        const known = before?.server ?? null;
        const target = (via: ProbeSession | null): ProbeTarget => ({
          host: connectHost(c.localAddress), port: c.localPort, pathHint: (known ? pathOf(known.url) : null) ?? c.pathHint ?? null, local: true, known: known !== null,
          ...(toolsOnly ? { lists: 'tools' as const } : {}),
          ...(via ? { session: via } : {}),
          ...(keepSession ? { keep: (s: ProbeSession) => void (opened = s) } : {}),
        });
        outcome = await this.probe(target(session), this.o.probeOptions ?? {});
        if (session && !session.closed && outcome.kind === 'mcp' && before?.result && toolsChanged(before.result.tools, outcome.tools)) {
          // A change seen on a kept session is confirmed on a fresh one: `initialize` again, so the
          // server's version and instructions in the result are current (a tool changed WITH a new
          // version is an upgrade, not a rug pull).
          await session.close(this.o.probeOptions?.requestTimeoutMs);
          outcome = await this.probe(target(null), this.o.probeOptions ?? {});
        }
        if (outcome.kind === 'mcp' && outcome.listed === 'tools' && before?.result) {
          outcome = { ...outcome, prompts: before.result.prompts, resources: before.result.resources, truncated: outcome.truncated || before.result.truncated };
        }
      } catch {
        outcome = { kind: 'not-mcp', reason: 'probe-failed' };
      }
      const at = this.now();
      // The session this listener holds now: the kept one while it still answers, else the one this probe opened.
      // (A session closed after a good use, e.g. to confirm a change, did not fail.)
      const sessionFailedAtFirstUse = session !== null && session.closed && session.uses === 0 && toolsOnly;
      const held: ProbeSession | null = opened ?? (session && !session.closed ? session : null);
      if (session && session !== held) this.release(session);
      const keepNext = keepSession && !sessionFailedAtFirstUse;
      if (held && !keepNext) this.release(held);
      const heldNow = keepNext ? held : null;
      if (outcome.kind === 'mcp' || outcome.kind === 'auth-required') {
        const server: SocketMcpServer = {
          serverId: c.fingerprint ?? `listener:${c.localAddress}:${c.localPort}`,
          port: c.localPort,
          bind: c.localAddress,
          allInterfaces: isAllInterfaces(c.localAddress),
          pid: c.pid,
          user: c.user ?? null,
          processName: c.processName,
          serverKey: c.serverKey ?? null,
          configured: Boolean(c.serverKey),
          url: outcome.url,
          transport: outcome.transport,
          serverName: outcome.kind === 'mcp' ? outcome.serverName : null,
          serverVersion: outcome.kind === 'mcp' ? outcome.serverVersion : null,
          protocolVersion: outcome.kind === 'mcp' ? outcome.protocolVersion : null,
          authRequired: outcome.kind === 'auth-required',
          probedAt: new Date(at).toISOString(),
        };
        const fullListAt = outcome.kind === 'mcp' && outcome.listed === 'tools' ? (before?.fullListAt ?? started) : started;
        this.state.set(key, { pid: c.pid, identity: identityOf(c), kind: 'mcp', nextAt: started + this.o.reprobeMcpMs, misses: 0, server, result: outcome.kind === 'mcp' ? outcome : null, fullListAt, session: heldNow, keepSession: keepNext });
        if (outcome.kind === 'mcp') probed.set(server.serverId, outcome);
      } else {
        const misses = before?.kind === 'not-mcp' ? before.misses + 1 : 0;
        const wait = Math.min(this.o.maxBackoffMs, this.o.notMcpBackoffMs * 2 ** Math.min(misses, 20));
        // A known MCP listener that failed once is retried at its normal pace before it is given up.
        const keepMcp = before?.kind === 'mcp' && before.misses === 0 && before.server !== null;
        if (heldNow) this.release(heldNow); // a listener that stopped answering MCP keeps no session
        this.state.set(key, keepMcp
          ? { ...before, nextAt: started + this.o.reprobeMcpMs, misses: 1, session: null, keepSession: keepNext }
          : { pid: c.pid, identity: identityOf(c), kind: 'not-mcp', nextAt: at + wait, misses, server: null, result: null, fullListAt: 0, session: null, keepSession: keepNext });
      }
      if (this.state.size > MAX_LISTENER_STATE) this.forget(this.state.keys().next().value as string);
    }
    const servers = [...this.state.values()].filter((s) => s.kind === 'mcp' && s.server).map((s) => s.server as SocketMcpServer);
    return { servers, probed, probes, deferred, fresh };
  }

  /**
   * When a poll first finds a known MCP listener due (its re-probe time less the coalescing
   * window; null when none is known). A watcher polling then re-probes each known listener every
   * reprobeMcpMs - coalesceMs or so: the window is also the headroom in which a changed tool's
   * finding reaches the collector within the interval.
   */
  nextMcpDueAt(): number | null {
    let min: number | null = null;
    for (const st of this.state.values()) if (st.kind === 'mcp' && (min === null || st.nextAt < min)) min = st.nextAt;
    return min === null ? null : min - this.o.coalesceMs;
  }

  /** A re-probe at `at` lists tools only: a full listing of this listener is recent enough to carry over. */
  private toolsOnly(st: ListenerState | undefined, at: number): boolean {
    return Boolean(st?.result) && at - (st?.fullListAt ?? 0) < this.o.fullListMs;
  }

  /** Drop what is known of one listener, closing its session. */
  private forget(key: string): void {
    const st = this.state.get(key);
    if (st?.session) this.release(st.session);
    this.state.delete(key);
  }

  /** Close a session in the background (its DELETE is bounded by the request timeout); close() waits for it. */
  private release(session: ProbeSession): void {
    const p = session.close(this.o.probeOptions?.requestTimeoutMs).finally(() => this.closing.delete(p));
    this.closing.add(p);
  }

  /** Close every kept session (DELETE at each server, bounded) and wait for them. The prober may poll again afterwards. */
  async close(): Promise<void> {
    for (const st of this.state.values()) {
      if (st.session) this.release(st.session);
      st.session = null;
    }
    await Promise.all([...this.closing]);
  }

  /** Listeners holding a kept session now (tests, status). */
  sessionCount(): number {
    let n = 0;
    for (const st of this.state.values()) if (st.session && !st.session.closed) n++;
    return n;
  }

  /** What the prober knows about one listener (tests, status). */
  stateOf(address: string, port: number): { kind: 'mcp' | 'not-mcp'; nextAt: number; misses: number } | null {
    const st = this.state.get(`${address}|${port}`);
    return st ? { kind: st.kind, nextAt: st.nextAt, misses: st.misses } : null;
  }
}
