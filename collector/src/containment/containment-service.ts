/**
 * Containment on the collector side (issue 16): issues quarantine / restore commands for a server
 * on an endpoint, keeps the audit trail (who, when, why, result), queues the signed commands for
 * the endpoint's next batch ack, and records the agent's answers (server.quarantined,
 * server.restored, command.failed).
 *
 * Promises:
 * - A command is signed with the CA key (the key the agent pinned at enrollment) over the shared
 *   `mcpwatch-command-v1` string, carries id, endpoint, expiry (issuedAt + ttlMs) and a 128-bit nonce.
 * - Delivery is at least once: a command rides in every ack for its endpoint until its result is
 *   recorded or it expires (the agent acts once per command id and ignores repeats).
 * - The ack path asks the database only for endpoints known to have pending commands: a set kept in
 *   memory, refreshed every `pendingRefreshMs` (so a command issued through another collector sharing
 *   PostgreSQL is delivered within that interval) and at once for commands issued here.
 * - Long-poll (`waitForCommands`, served as POST /v1/commands/wait): a waiter for an endpoint is
 *   woken in process the moment a command for it is issued here; with `queuePollMs` (several
 *   collectors sharing PostgreSQL) ONE query every `queuePollMs` asks which of the held endpoints
 *   have a queued command, however many waits are held (chunks of WAIT_POLL_CHUNK endpoints). A
 *   wait hands out only `queued` commands (never handed out), so a delivered command that is still
 *   unanswered rides in acks as before and does not make the long-poll spin.
 * - Listeners (the webhook notifier, containment-notifier.ts) hear every issued command and every
 *   result, awaited in order; a listener that throws or rejects is reported and skipped.
 * - Automated containment (auto-containment.ts), when configured: the findings of each batch whose
 *   results are recorded may issue a quarantine (or a dry-run record) the same way.
 * Failure: store errors reject (routes turn them into 503); `commandsFor` never rejects (an ack
 * must not fail because containment is unavailable: it returns [] and reports the error).
 */
import { randomBytes } from 'node:crypto';
import { newEventId, MAX_COMMANDS_PER_ACK, type CommandAction, type SignedCommand, type UnsignedCommand } from '@mcpwatch/shared';
import { ContainmentStore, type ContainmentRecord } from './containment-store.js';
import { autoContainmentCandidates, type AutoContainmentRule } from './auto-containment.js';

export interface ContainmentRequest {
  endpointId: string;
  serverKey: string;
  action: CommandAction;
  reason: string;
  actor: { tokenId: string; name: string };
  /** Record only (status dry-run): not delivered, not notified as issued. */
  dryRun?: boolean;
}

export type ContainmentNotice =
  | { kind: 'issued'; record: ContainmentRecord }
  | { kind: 'result'; record: ContainmentRecord };

/** What the dashboard and the API show for a contained server (see ServerContainmentState.status). */
export type ContainmentStatus = 'quarantined' | 'pending' | 'restored' | 'failed';

/** The state of one server on one endpoint, as the dashboard, the API and the MCP server show it. */
export interface ServerContainmentState {
  endpointId: string;
  serverKey: string;
  /** From the latest command the agent confirmed: quarantined or restored; none when never contained. */
  state: 'quarantined' | 'restored' | 'none';
  /** A command still waiting for the agent's answer, if any. */
  pending: { commandId: string; action: CommandAction; status: string; requestedAt: string } | null;
  lastCommand: ContainmentRecord | null;
  /**
   * One word for the server: `pending` while a command waits for the agent's answer; else
   * `failed` when the latest command failed or expired unanswered (`state` still says what the
   * agent last confirmed); else the confirmed `quarantined` / `restored`.
   */
  status: ContainmentStatus;
  /** The command `status` is about (the pending one, else the latest): id, who issued it, when, why, result. */
  command: ContainmentRecord;
}

export interface ContainmentOptions {
  /** Signs a command (the CA's signCommand). */
  sign: (c: UnsignedCommand) => SignedCommand;
  now: () => number;
  /** How long a command stays valid; default 24 h. */
  ttlMs?: number;
  /** How often the set of endpoints with pending commands is re-read; default 2000 ms. */
  pendingRefreshMs?: number;
  reportError?: (e: unknown) => void;
  /** How often held waits look for commands queued by another collector (shared PostgreSQL); 0: never (default). */
  queuePollMs?: number;
  /** Opt-in automated containment: quarantine on a finding of a rule at or above a severity. */
  autoContainment?: { rules: AutoContainmentRule[]; dryRun: boolean };
}

/** The command statuses a server's containment state is made of (dry-run records are not commands). */
const SHOWN = ['queued', 'delivered', 'succeeded', 'failed', 'expired'] as const;

/** Most endpoints one queue poll asks about in one query. */
const WAIT_POLL_CHUNK = 1000;

/** Event types that answer a command, and the status each records. */
const RESULT_STATUS: Record<string, 'succeeded' | 'failed'> = {
  'server.quarantined': 'succeeded',
  'server.restored': 'succeeded',
  'command.failed': 'failed',
};

export class Containment {
  readonly #store: ContainmentStore;
  readonly #opts: Required<Omit<ContainmentOptions, 'reportError' | 'autoContainment'>> & { reportError: (e: unknown) => void; autoContainment?: ContainmentOptions['autoContainment'] };
  #pending = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  readonly #listeners: Array<(n: ContainmentNotice) => void | Promise<void>> = [];
  /** Held waits by endpoint: each entry wakes one waiter. */
  readonly #waiters = new Map<string, Set<() => void>>();
  #pollTimer: NodeJS.Timeout | undefined;
  #polling = false;
  #closed = false;

  constructor(store: ContainmentStore, opts: ContainmentOptions) {
    this.#store = store;
    this.#opts = { ttlMs: 24 * 3600_000, pendingRefreshMs: 2000, queuePollMs: 0, reportError: () => undefined, ...opts };
  }

  /** Loads the pending set and starts its refresh timer (unref'd). */
  async start(): Promise<void> {
    await this.refreshPending();
    this.#timer = setInterval(() => void this.refreshPending().catch(this.#opts.reportError), this.#opts.pendingRefreshMs);
    this.#timer.unref();
  }

  /** Stops the timers and answers every held wait (empty). Idempotent. */
  shutdown(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const endpointId of [...this.#waiters.keys()]) this.#wake(endpointId);
    this.#stopPoll();
  }

  /**
   * Resolves with this endpoint's queued commands (at most MAX_COMMANDS_PER_ACK, marked delivered)
   * as soon as there are any, or with [] after `holdMs` or when `signal` aborts (client gone,
   * collector closing). Never rejects: a store error is reported and the wait goes on empty.
   * `clientGone` (the route: the wait's connection has closed) is asked after commands were taken:
   * when it says so they go back to `queued` for the next wait instead of into a dead socket (a
   * wait whose client hung up before its close listener was attached would otherwise swallow them).
   */
  async waitForCommands(endpointId: string, holdMs: number, signal: AbortSignal, clientGone: () => boolean = () => false): Promise<SignedCommand[]> {
    const deadline = Date.now() + holdMs;
    for (;;) {
      // Armed before the look, so a command issued between the two still wakes this wait.
      let wake!: () => void;
      const woken = new Promise<'woken'>((resolve) => (wake = () => resolve('woken')));
      this.#addWaiter(endpointId, wake);
      try {
        const { commands, deliveredAt } = await this.#takeQueued(endpointId);
        if (commands.length > 0) {
          if (!clientGone()) return commands;
          await this.#store.unmarkDelivered(commands.map((c) => c.id), deliveredAt).catch((e: unknown) => this.#opts.reportError(e));
          return [];
        }
        const remainingMs = deadline - Date.now();
        if (remainingMs <= 0 || signal.aborted || this.#closed) return [];
        let timer: NodeJS.Timeout | undefined;
        let onAbort: (() => void) | undefined;
        const outcome = await Promise.race([
          woken,
          new Promise<'timeout'>((resolve) => {
            timer = setTimeout(() => resolve('timeout'), remainingMs);
            timer.unref();
          }),
          new Promise<'aborted'>((resolve) => {
            onAbort = () => resolve('aborted');
            signal.addEventListener('abort', onAbort, { once: true });
          }),
        ]);
        clearTimeout(timer);
        if (onAbort) signal.removeEventListener('abort', onAbort);
        if (outcome !== 'woken' || this.#closed) return [];
      } finally {
        this.#removeWaiter(endpointId, wake);
      }
    }
  }

  /**
   * Replay guard of the long-poll: true when this agent's wait signed at (`signedAtMs`, `seq`) is
   * later than every wait of the agent accepted before (ContainmentStore.claimWaitMark). Store
   * errors reject (the route answers 503: the agent retries).
   */
  claimWaitMark(agentId: string, signedAtMs: number, seq: number): Promise<boolean> {
    return this.#store.claimWaitMark(agentId, signedAtMs, seq);
  }

  /** Number of waits held now (metrics, tests). */
  get heldWaits(): number {
    let n = 0;
    for (const set of this.#waiters.values()) n += set.size;
    return n;
  }

  /** This endpoint's queued commands, marked delivered at `deliveredAt`. */
  async #takeQueued(endpointId: string): Promise<{ commands: SignedCommand[]; deliveredAt: string }> {
    const now = this.#nowIso();
    try {
      const rows = await this.#store.pendingFor(endpointId, now, MAX_COMMANDS_PER_ACK, ['queued']);
      if (rows.length > 0) await this.#store.markDelivered(rows.map((r) => r.commandId), now);
      return { commands: rows.map((r) => r.signed), deliveredAt: now };
    } catch (e) {
      this.#opts.reportError(e);
      return { commands: [], deliveredAt: now };
    }
  }

  #addWaiter(endpointId: string, wake: () => void): void {
    let set = this.#waiters.get(endpointId);
    if (!set) this.#waiters.set(endpointId, (set = new Set()));
    set.add(wake);
    if (this.#opts.queuePollMs > 0 && !this.#pollTimer && !this.#closed) {
      this.#pollTimer = setInterval(() => void this.#pollQueue(), this.#opts.queuePollMs);
      this.#pollTimer.unref();
    }
  }

  #removeWaiter(endpointId: string, wake: () => void): void {
    const set = this.#waiters.get(endpointId);
    if (!set) return;
    set.delete(wake);
    if (set.size === 0) this.#waiters.delete(endpointId);
    if (this.#waiters.size === 0) this.#stopPoll();
  }

  #stopPoll(): void {
    if (this.#pollTimer) clearInterval(this.#pollTimer);
    this.#pollTimer = undefined;
  }

  #wake(endpointId: string): void {
    for (const wake of this.#waiters.get(endpointId) ?? []) wake();
  }

  /** One bounded look (per WAIT_POLL_CHUNK held endpoints) for commands another collector queued. */
  async #pollQueue(): Promise<void> {
    if (this.#polling) return; // a slow database never stacks polls
    this.#polling = true;
    try {
      const held = [...this.#waiters.keys()];
      const now = this.#nowIso();
      for (let i = 0; i < held.length; i += WAIT_POLL_CHUNK) {
        for (const endpointId of await this.#store.endpointsWithQueued(held.slice(i, i + WAIT_POLL_CHUNK), now)) this.#wake(endpointId);
      }
    } catch (e) {
      this.#opts.reportError(e);
    } finally {
      this.#polling = false;
    }
  }

  /** Adds a listener; an async one is awaited (issue() returns once the notification is enqueued). */
  onNotice(listener: (n: ContainmentNotice) => void | Promise<void>): void {
    this.#listeners.push(listener);
  }

  /** Tells every listener, in order; one that throws or rejects is reported and skipped. Never rejects. */
  async #notify(n: ContainmentNotice): Promise<void> {
    for (const l of this.#listeners) {
      try {
        await l(n);
      } catch (e) {
        this.#opts.reportError(e);
      }
    }
  }

  #nowIso(): string {
    return new Date(this.#opts.now()).toISOString();
  }

  /** Re-reads which endpoints have pending commands (and expires the ones past their time). */
  async refreshPending(): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        const now = this.#nowIso();
        await this.#store.expire(now);
        this.#pending = new Set(await this.#store.endpointsWithPending(now));
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  /** Creates, signs, records and queues a command; returns its audit record. */
  async issue(req: ContainmentRequest): Promise<ContainmentRecord> {
    const nowMs = this.#opts.now();
    const unsigned: UnsignedCommand = {
      id: `cmd_${newEventId(nowMs)}`,
      endpointId: req.endpointId,
      action: req.action,
      serverKey: req.serverKey,
      issuedAt: new Date(nowMs).toISOString(),
      expiresAt: new Date(nowMs + this.#opts.ttlMs).toISOString(),
      nonce: randomBytes(16).toString('base64url'),
    };
    const signed = this.#opts.sign(unsigned);
    const record: ContainmentRecord = {
      commandId: unsigned.id,
      endpointId: req.endpointId,
      serverKey: req.serverKey,
      action: req.action,
      reason: req.reason,
      actor: req.actor,
      requestedAt: unsigned.issuedAt,
      expiresAt: unsigned.expiresAt,
      status: req.dryRun ? 'dry-run' : 'queued',
      deliveredAt: null,
      resultAt: null,
      resultDetail: null,
    };
    await this.#store.insert(record, signed);
    if (req.dryRun) return record;
    this.#pending.add(req.endpointId);
    this.#wake(req.endpointId);
    await this.#notify({ kind: 'issued', record });
    return record;
  }

  /**
   * The signed commands to put in this endpoint's ack (at most MAX_COMMANDS_PER_ACK). Marks queued
   * ones delivered. Never rejects.
   */
  async commandsFor(endpointId: string): Promise<SignedCommand[]> {
    if (!this.#pending.has(endpointId)) return [];
    try {
      const now = this.#nowIso();
      const rows = await this.#store.pendingFor(endpointId, now, MAX_COMMANDS_PER_ACK);
      if (rows.length === 0) {
        this.#pending.delete(endpointId);
        return [];
      }
      await this.#store.markDelivered(rows.filter((r) => r.status === 'queued').map((r) => r.commandId), now);
      return rows.map((r) => r.signed);
    } catch (e) {
      this.#opts.reportError(e);
      return [];
    }
  }

  /**
   * Whether `recordResults` has anything to do for `events`: a command result naming a command, or
   * (auto-containment on) a finding a rule would act on. Synchronous and store-free, so ingest
   * skips the call (and its promise) for the common batch, which has neither: the one guard, at the
   * call site (recordResults itself does no store work for such a batch either, only costs more).
   */
  wantsResults(events: ReadonlyArray<{ type: string; data: unknown }>): boolean {
    for (const e of events) {
      if (RESULT_STATUS[e.type] !== undefined && (e.data as { commandId?: string } | null)?.commandId) return true;
    }
    const auto = this.#opts.autoContainment;
    return auto !== undefined && auto.rules.length > 0 && autoContainmentCandidates(auto.rules, events).length > 0;
  }

  /**
   * Records the results among `events` (server.quarantined / server.restored / command.failed) of
   * `endpointId`. Events of other types are skipped; a result for an unknown command is ignored.
   * Ingest calls it only when wantsResults says there is something to do.
   */
  async recordResults(endpointId: string, events: ReadonlyArray<{ type: string; data: unknown }>): Promise<number> {
    let recorded = 0;
    for (const e of events) {
      const status = RESULT_STATUS[e.type];
      if (!status) continue;
      const data = e.data as { commandId?: string; reason?: string; message?: string; configPath?: string; mode?: string };
      if (!data.commandId) continue;
      const detail = status === 'failed' ? `${data.reason ?? 'error'}: ${data.message ?? ''}`.trim() : `${e.type}${data.configPath ? ` in ${data.configPath}` : ''}${data.mode ? ` (${data.mode})` : ''}`;
      if (await this.#store.recordResult(data.commandId, endpointId, status, detail, this.#nowIso())) {
        recorded++;
        const record = await this.#store.get(data.commandId);
        if (record) await this.#notify({ kind: 'result', record });
      }
    }
    await this.#autoContain(endpointId, events);
    return recorded;
  }

  /** Auto-containment of the findings `events` raise (auto-containment.ts). Never rejects. */
  async #autoContain(endpointId: string, events: ReadonlyArray<{ type: string; data: unknown }>): Promise<void> {
    const auto = this.#opts.autoContainment;
    if (!auto || auto.rules.length === 0) return;
    try {
      const candidates = autoContainmentCandidates(auto.rules, events);
      if (candidates.length === 0) return;
      // Any command pending or confirmed for the server (a quarantine, or a restore an analyst
      // chose) wins over the policy: it never fights a person's decision.
      const held = new Set((await this.#store.states([endpointId])).map((r) => r.serverKey));
      const dryRuns = new Set(auto.dryRun ? (await this.#store.list({ endpointId, limit: 1000 })).filter((r) => r.status === 'dry-run').map((r) => r.serverKey) : []);
      for (const c of candidates) {
        if (held.has(c.serverKey) || dryRuns.has(c.serverKey)) continue;
        await this.issue({
          endpointId,
          serverKey: c.serverKey,
          action: 'quarantine',
          reason: `auto-containment: finding ${c.ruleId} (${c.severity})${c.title ? `: ${c.title}` : ''}`.slice(0, 1024),
          actor: { tokenId: 'policy', name: 'auto-containment' },
          dryRun: auto.dryRun,
        });
      }
    } catch (e) {
      this.#opts.reportError(e);
    }
  }

  /** The audit trail, newest first. */
  list(filter: { endpointId?: string; serverKey?: string; limit: number; before?: string }): Promise<ContainmentRecord[]> {
    return this.#store.list(filter);
  }

  /**
   * Effective containment state of the servers of `endpointIds` that ever had a command (dry-run
   * records of auto-containment are not commands: they are left out).
   */
  async states(endpointIds: string[]): Promise<ServerContainmentState[]> {
    return this.#fold(await this.#store.states(endpointIds, SHOWN));
  }

  /**
   * Per server fingerprint among `fingerprints`: how many of its entries across the fleet are
   * quarantined, pending, restored or failed (servers page; entries never contained are not counted).
   */
  async countsByFingerprint(fingerprints: string[]): Promise<Map<string, Record<ContainmentStatus, number>>> {
    const rows = await this.#store.statesByFingerprint(fingerprints, SHOWN);
    const fingerprintOf = new Map(rows.map((r) => [`${r.endpointId}\u0000${r.serverKey}`, r.fingerprint]));
    const out = new Map<string, Record<ContainmentStatus, number>>();
    for (const s of this.#fold(rows)) {
      const fp = fingerprintOf.get(`${s.endpointId}\u0000${s.serverKey}`)!;
      const counts = out.get(fp) ?? { quarantined: 0, pending: 0, restored: 0, failed: 0 };
      counts[s.status]++;
      out.set(fp, counts);
    }
    return out;
  }

  /** Name, client and config path of server entries of an endpoint, present in its inventory or not. */
  serverNames(endpointId: string, serverKeys: string[]): Promise<Map<string, { name: string; client: string; configPath: string }>> {
    return this.#store.serverNames(endpointId, serverKeys);
  }

  /** Folds commands (oldest first) into one state per endpoint + server. */
  #fold(rows: readonly ContainmentRecord[]): ServerContainmentState[] {
    const nowMs = this.#opts.now();
    const by = new Map<string, Omit<ServerContainmentState, 'status' | 'command'> & { pendingRecord: ContainmentRecord | null }>();
    for (const r of rows) {
      const key = `${r.endpointId}\u0000${r.serverKey}`;
      const s = by.get(key) ?? { endpointId: r.endpointId, serverKey: r.serverKey, state: 'none' as const, pending: null, lastCommand: null, pendingRecord: null };
      if (r.status === 'succeeded') {
        s.state = r.action === 'quarantine' ? 'quarantined' : 'restored';
        if (s.pending && s.pending.requestedAt <= r.requestedAt) {
          s.pending = null;
          s.pendingRecord = null;
        }
      } else if ((r.status === 'queued' || r.status === 'delivered') && Date.parse(r.expiresAt) > nowMs) {
        s.pending = { commandId: r.commandId, action: r.action, status: r.status, requestedAt: r.requestedAt };
        s.pendingRecord = r;
      }
      s.lastCommand = r;
      by.set(key, s);
    }
    return [...by.values()].map(({ pendingRecord, ...s }) => {
      const last = s.lastCommand!;
      const failed = last.status === 'failed' || last.status === 'expired' || ((last.status === 'queued' || last.status === 'delivered') && !pendingRecord);
      const status: ContainmentStatus = pendingRecord ? 'pending' : failed || s.state === 'none' ? 'failed' : s.state;
      return { ...s, status, command: pendingRecord ?? last };
    });
  }
}
