/**
 * The shipper: spool → batch → sign → gzip → POST /v1/batches → ack → release from the spool.
 *
 * Contract:
 * - One batch in flight. A batch is cut when the spool holds batchMaxEvents events or
 *   batchMaxBytes bytes, or the oldest pending event has waited batchMaxWaitMs — right away when
 *   nothing was sent for batchMaxWaitMs (a lone config change is not held back).
 * - Before the first byte goes out, the batch (seq, prevHash, body, spool end position) is written
 *   durably to `inflight.json` in the state dir. After a crash the SAME bytes are sent again under
 *   the same seq, so the collector's idempotency (same batch → same ack) makes kill -9 mid-batch
 *   lose nothing and store nothing twice.
 * - Events leave the spool only on an ack for that seq (spool.ack), then seq/prevHash advance in
 *   `shipper-state.json`. prevHash = sha256 hex of the previous batch's uncompressed JSON body.
 * - Failures: network errors, 408, 429, 5xx and a 401 clock-skew answer are retried forever with
 *   jittered, capped exponential backoff honouring Retry-After. A 401 "unknown agent" or
 *   "certificate expired" calls onUnknownAgent (re-enroll) and, if that succeeded, rebuilds the
 *   batch for the new identity; if it did not (no enroll secret), the batch is retried, not dropped.
 *   Any other 4xx moves the batch to `dead-letter/` (bounded by bytes, oldest dropped and
 *   counted), reports it through onReport, and releases it: never a silent drop.
 * - Signed containment commands in an ack (`commands`) are handed, as received, to onCommands
 *   (the composition root gives them to containment/, which verifies them); the shipper neither
 *   reads nor trusts them.
 * - Never throws out of its timers: errors go to onReport and the last one is kept for health.
 *
 * The parts, split the way OpenTelemetry splits an exporter: batch-builder.ts (cut a batch from
 * the spool), batch-transport.ts (one signed POST, the answer as a value), retrying-transport.ts
 * (backoff, outage reports, re-enrollment), is-retryable.ts, dead-letters.ts, shipper-state.ts.
 * This module is the delegate that owns the loop: timers, inflight.json, spool release, acks.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAX_COMMANDS_PER_ACK, sha256Hex, WireErrorCodes, type AgentSettings } from '@mcpwatch/shared';
import type { Spool } from '../spool/spool.js';
import { ensurePrivateDir, readJsonFile, writeFileDurable } from '../spool/durable-file.js';
import type { HttpClient } from './http-client.js';
import { reconnectJitterMs } from './retry.js';
import { describeError, AgentCodes } from '../errors.js';
import { buildBatch, type PendingBatch } from './batch-builder.js';
import { httpBatchTransport, type ShipperIdentity } from './batch-transport.js';
import { DeadLetters } from './dead-letters.js';
import { RetryingTransport, type RetriedResult, type ShipperReport } from './retrying-transport.js';
import { readShipperState, shipperStateFile, type ShipperState } from './shipper-state.js';

export type { ShipperIdentity } from './batch-transport.js';
export type { ShipperReport } from './retrying-transport.js';
export { readShipperState, type ShipperState } from './shipper-state.js';

export interface ShipperOptions {
  spool: Spool;
  /** Directory for shipper-state.json, inflight.json and dead-letter/. */
  stateDir: string;
  http: Pick<HttpClient, 'request'>;
  identity: () => ShipperIdentity | null;
  batchMaxEvents?: number;
  batchMaxBytes?: number;
  batchMaxWaitMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Random delay before the first attempt after start and after a recovered outage. */
  reconnectJitterMs?: number;
  deadLetterMaxBytes?: number;
  /** Clock for the signature timestamp and sentAt (injected in tests to simulate skew). */
  now?: () => number;
  random?: () => number;
  /**
   * 401 unknown agent (MCPW_ERR_UNKNOWN_AGENT) or expired certificate (MCPW_ERR_CERT_EXPIRED):
   * re-enroll; resolve true when a new identity is in place. `code` says which.
   */
  onUnknownAgent?: (code: string) => Promise<boolean>;
  /** Settings carried by an ack (policy), when the collector sends them. */
  onSettings?: (settings: AgentSettings) => void;
  /** Signed commands carried by an ack, unverified (at most MAX_COMMANDS_PER_ACK are passed on). */
  onCommands?: (commands: readonly unknown[]) => void;
  /** Something worth telling a person (dead letter, clock skew, re-enroll). Never throws. */
  onReport?: (report: ShipperReport) => void;
}

/** The collector's answer to a batch signed under a certificate past its notAfter. */
export const CERT_EXPIRED = WireErrorCodes.certExpired;
const SEQ_CONFLICT_STATUS = 409;

export class Shipper {
  private readonly o: Required<Pick<ShipperOptions, 'batchMaxEvents' | 'batchMaxBytes' | 'batchMaxWaitMs' | 'reconnectJitterMs'>>;
  private readonly transport: RetryingTransport;
  private readonly deadLetters: DeadLetters;
  private readonly now: () => number;
  private readonly random: () => number;
  private state: ShipperState;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private busy = false;
  private stopped = true;
  private pendingSince: number | null = null;
  private inFlight: Promise<void> | null = null;
  /** When the last POST finished (ms since epoch); 0 before the first. */
  private lastPostAtMs = 0;

  constructor(private readonly opts: ShipperOptions) {
    this.o = {
      batchMaxEvents: opts.batchMaxEvents ?? 500,
      batchMaxBytes: opts.batchMaxBytes ?? 1024 * 1024,
      batchMaxWaitMs: opts.batchMaxWaitMs ?? 100,
      reconnectJitterMs: opts.reconnectJitterMs ?? 2000,
    };
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    const retry = { retryBaseMs: opts.retryBaseMs ?? 1000, retryMaxMs: opts.retryMaxMs ?? 60_000, random: this.random, now: this.now };
    this.transport = new RetryingTransport(httpBatchTransport(opts.http, this.now), {
      ...retry,
      ...(opts.onUnknownAgent ? { reenroll: opts.onUnknownAgent } : {}),
      onReport: (r) => this.report(r),
    });
    this.deadLetters = new DeadLetters(opts.stateDir, opts.deadLetterMaxBytes ?? 20 * 1024 * 1024);
    ensurePrivateDir(opts.stateDir);
    this.state = readShipperState(opts.stateDir);
  }

  /** Starts shipping (after a random reconnect jitter). Idempotent. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(reconnectJitterMs(this.o.reconnectJitterMs, this.random));
  }

  /** Tells the shipper new events are in the spool. Cheap; call after every append. */
  notify(): void {
    if (this.stopped) return;
    if (this.pendingSince === null) this.pendingSince = Date.now();
    if (this.busy || this.transport.inOutage) return; // the retry timer is in charge
    const st = this.opts.spool.stats();
    const now = Date.now();
    if (st.depth >= this.o.batchMaxEvents || st.pendingBytes >= this.o.batchMaxBytes) this.schedule(0);
    // Idle for a whole max-wait: ship on the next turn of the event loop (the events of one watch
    // pass are appended in one turn, so they still travel together). Otherwise batch up to
    // batchMaxWaitMs, so a busy agent sends at most about one batch per max-wait.
    else if (now - this.lastPostAtMs >= this.o.batchMaxWaitMs) this.schedule(0);
    else this.schedule(Math.max(0, this.pendingSince + this.o.batchMaxWaitMs - now));
  }

  /** Read-only copy of the persisted progress. */
  snapshot(): ShipperState {
    return { ...this.state };
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    const at = Date.now() + delayMs;
    if (this.timer && this.timerAt <= at) return; // an earlier run is already planned
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.inFlight = this.tick().finally(() => (this.inFlight = null));
    }, delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.busy || this.stopped) return;
    this.busy = true;
    let next: number | null = null;
    try {
      next = await this.shipOnce();
    } catch (e) {
      this.recordError(describeError(e));
      next = this.transport.nextDelayMs();
    } finally {
      this.busy = false;
    }
    if (next !== null) this.schedule(next);
    else if (this.opts.spool.stats().depth > 0) this.notify();
  }

  /**
   * Sends one batch if there is one. Returns the delay before the next attempt, or null when the
   * spool is drained (the next notify() schedules).
   */
  async shipOnce(): Promise<number | null> {
    const identity = this.opts.identity();
    if (!identity) {
      this.recordError(`${AgentCodes.notEnrolled}: agent is not enrolled; run mcpwatch-agent enroll`);
      return this.transport.nextDelayMs();
    }
    let inflight = this.loadInflight();
    if (inflight && inflight.agentId !== identity.agentId) {
      inflight = null; // re-enrolled: the same events go out again under the new identity
      this.clearInflight();
    }
    if (inflight && inflight.seq <= this.state.lastSeq && this.state.agentId === inflight.agentId) {
      // acked before a crash, the release was not finished: finish it
      this.opts.spool.ack(inflight.end);
      this.clearInflight();
      inflight = null;
    }
    if (!inflight) {
      if (this.state.agentId !== identity.agentId) {
        this.state = { ...this.state, agentId: identity.agentId, lastSeq: 0, lastHash: '' };
        this.saveState();
      }
      const header = { agentId: identity.agentId, endpointId: identity.endpointId, seq: this.state.lastSeq + 1, prevHash: this.state.lastHash, sentAt: new Date(this.now()).toISOString() };
      inflight = buildBatch(this.opts.spool, header, this.o.batchMaxEvents, this.o.batchMaxBytes);
      if (!inflight) {
        this.pendingSince = null;
        return null;
      }
      writeFileDurable(this.inflightFile(), JSON.stringify(inflight));
    }
    this.opts.spool.reserve(inflight.end);
    const result = await this.transport.send(identity, inflight);
    this.lastPostAtMs = Date.now();
    this.state.lastAttemptAt = new Date(this.now()).toISOString();
    if (result.ok) return this.onAcked(inflight, result);
    return this.onFailure(inflight, result);
  }

  private onAcked(b: PendingBatch, ack: Extract<RetriedResult, { ok: true }>): number | null {
    if (ack.settings && this.opts.onSettings) this.safe(() => this.opts.onSettings!(ack.settings!));
    if (ack.commands && this.opts.onCommands) this.safe(() => this.opts.onCommands!((ack.commands as readonly unknown[]).slice(0, MAX_COMMANDS_PER_ACK)));
    this.opts.spool.ack(b.end);
    this.state.lastSeq = b.seq;
    this.state.lastHash = sha256Hex(b.body);
    this.state.lastShipAt = new Date(this.now()).toISOString();
    this.state.lastError = null;
    this.saveState();
    this.clearInflight();
    this.pendingSince = this.opts.spool.stats().depth > 0 ? Date.now() : null;
    return this.opts.spool.stats().depth >= this.o.batchMaxEvents ? 0 : null;
  }

  private onFailure(b: PendingBatch, r: Extract<RetriedResult, { ok: false }>): number | null {
    if (r.reenrolled) {
      this.clearInflight(); // rebuilt for the new identity
      return 0;
    }
    if (r.retryInMs !== undefined) {
      this.recordError(r.message ?? r.error);
      return r.retryInMs;
    }
    this.deadLetter(b, r);
    return 0;
  }

  private deadLetter(b: PendingBatch, r: Extract<RetriedResult, { ok: false }>): void {
    const { file, dropped } = this.deadLetters.put(b, r);
    this.state.deadLetterDropped += dropped;
    this.opts.spool.ack(b.end);
    if (r.status === SEQ_CONFLICT_STATUS) {
      // The collector holds another batch under this seq: our state is behind. Move past it; the
      // collector records the broken chain for this endpoint.
      this.state.lastSeq = b.seq;
      this.state.lastHash = '';
    }
    this.state.deadLettered++;
    const msg = `${AgentCodes.deadLetter}: batch seq ${b.seq} (${b.count} events) rejected by the collector (${r.error}); kept in ${file}`;
    this.state.lastError = msg;
    this.saveState();
    this.clearInflight();
    this.report({ level: 'error', code: AgentCodes.deadLetter, message: msg, seq: b.seq });
  }

  private recordError(msg: string): void {
    this.state.lastError = msg;
    try {
      this.saveState();
    } catch {
      // state dir unwritable: the error is still reported in memory
    }
  }

  private report(r: ShipperReport): void {
    if (this.opts.onReport) this.safe(() => this.opts.onReport!(r));
  }

  private safe(fn: () => void): void {
    try {
      fn();
    } catch {
      // a callback must not break shipping
    }
  }

  private inflightFile(): string {
    return path.join(this.opts.stateDir, 'inflight.json');
  }

  private loadInflight(): PendingBatch | null {
    try {
      return readJsonFile<PendingBatch>(this.inflightFile());
    } catch {
      this.report({ level: 'warn', code: AgentCodes.stateCorrupt, message: 'inflight.json unreadable; the batch is rebuilt from the spool' });
      this.clearInflight();
      return null;
    }
  }

  private clearInflight(): void {
    fs.rmSync(this.inflightFile(), { force: true });
    this.opts.spool.reserve(null);
  }

  private saveState(): void {
    writeFileDurable(shipperStateFile(this.opts.stateDir), JSON.stringify(this.state));
  }

  /**
   * Ships everything in the spool now (ignoring batchMaxWaitMs), until drained or `timeoutMs`.
   * Bounded: a request still in flight at the deadline is left to finish (or time out) on its
   * own. Resolves true when the spool is empty.
   */
  async flush(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const within = <T>(p: Promise<T>): Promise<T | 'timeout'> => {
      let t: NodeJS.Timeout | undefined;
      const timer = new Promise<'timeout'>((r) => {
        t = setTimeout(() => r('timeout'), Math.max(0, deadline - Date.now()));
        t.unref();
      });
      return Promise.race([p, timer]).finally(() => clearTimeout(t));
    };
    if (this.inFlight && (await within(this.inFlight)) === 'timeout') return false;
    while (Date.now() < deadline) {
      if (this.opts.spool.stats().depth === 0 && !fs.existsSync(this.inflightFile())) return true;
      if (this.busy) return false; // a timer-driven attempt is running; it owns the spool
      this.busy = true;
      const attempt = this.shipOnce()
        .catch((e: unknown) => {
          this.recordError(describeError(e));
          return 100;
        })
        .finally(() => {
          this.busy = false;
        });
      this.inFlight = attempt.then(() => undefined);
      const wait = await within(attempt);
      if (wait === 'timeout') return false;
      this.inFlight = null;
      if (wait !== null && wait > 0) {
        if (Date.now() + wait >= deadline) return false;
        await new Promise((r) => setTimeout(r, wait).unref());
      }
    }
    return this.opts.spool.stats().depth === 0;
  }

  /** Stops the timers; waits (bounded) for a request in flight. Idempotent. */
  async shutdown(timeoutMs = 3000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.inFlight) {
      await Promise.race([this.inFlight, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    }
  }
}
