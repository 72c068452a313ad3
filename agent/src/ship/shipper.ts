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
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import type { KeyObject } from 'node:crypto';
import { batchHeaders, MAX_COMMANDS_PER_ACK, sha256Hex, WireErrorCodes, type AgentSettings } from '@mcpwatch/shared';
import type { Spool, SpoolPosition } from '../spool/spool.js';
import { ensurePrivateDir, readJsonFile, writeFileDurable } from '../spool/durable-file.js';
import type { HttpClient } from './http-client.js';
import { jsonBody } from './http-client.js';
import { backoffDelayMs, parseRetryAfter, reconnectJitterMs, type SendResult } from './retry.js';
import { isRetryableAnswer, REENROLL_CODES } from './is-retryable.js';
import { describeError, AgentCodes, PipelineError } from '../errors.js';

const gzip = promisify(gzipCb);

/** The identity batches are signed with. */
export interface ShipperIdentity {
  agentId: string;
  privateKey: KeyObject;
  server: string;
  /** The endpoint id of this identity; spooled events naming another (made before a
   * re-enrollment gave this machine a new endpoint id) are re-addressed when batched. */
  endpointId?: string;
}

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

export interface ShipperReport {
  level: 'warn' | 'error' | 'info';
  code: string;
  message: string;
  seq?: number;
}

/** Persisted progress of the shipper (also read by `mcpwatch-agent status`). */
export interface ShipperState {
  agentId: string | null;
  lastSeq: number;
  lastHash: string;
  lastShipAt: string | null;
  lastAttemptAt: string | null;
  lastError: string | null;
  deadLettered: number;
  deadLetterDropped: number;
}

interface Inflight {
  agentId: string;
  seq: number;
  prevHash: string;
  end: SpoolPosition;
  count: number;
  body: string;
}

const INITIAL_STATE: ShipperState = {
  agentId: null,
  lastSeq: 0,
  lastHash: '',
  lastShipAt: null,
  lastAttemptAt: null,
  lastError: null,
  deadLettered: 0,
  deadLetterDropped: 0,
};

/** Reads the persisted shipper state of a state dir (for `status`); initial state when absent. */
export function readShipperState(stateDir: string): ShipperState {
  try {
    return { ...INITIAL_STATE, ...(readJsonFile<ShipperState>(path.join(stateDir, 'shipper-state.json')) ?? {}) };
  } catch {
    return { ...INITIAL_STATE };
  }
}

/** The collector's answer to a batch signed under a certificate past its notAfter. */
export const CERT_EXPIRED = WireErrorCodes.certExpired;
const TIMESTAMP_SKEW = WireErrorCodes.timestampSkew;
const SEQ_CONFLICT_STATUS = 409;

export class Shipper {
  private readonly o: Required<
    Pick<ShipperOptions, 'batchMaxEvents' | 'batchMaxBytes' | 'batchMaxWaitMs' | 'retryBaseMs' | 'retryMaxMs' | 'reconnectJitterMs' | 'deadLetterMaxBytes'>
  >;
  private readonly now: () => number;
  private readonly random: () => number;
  private state: ShipperState;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private busy = false;
  private stopped = true;
  private attempt = 0;
  private pendingSince: number | null = null;
  private inFlight: Promise<void> | null = null;
  /** When the last POST finished (ms since epoch); 0 before the first. */
  private lastPostAtMs = 0;
  /** Timestamp of the first failure of the current outage; null while healthy. */
  private outageSince: number | null = null;

  constructor(private readonly opts: ShipperOptions) {
    this.o = {
      batchMaxEvents: opts.batchMaxEvents ?? 500,
      batchMaxBytes: opts.batchMaxBytes ?? 1024 * 1024,
      batchMaxWaitMs: opts.batchMaxWaitMs ?? 100,
      retryBaseMs: opts.retryBaseMs ?? 1000,
      retryMaxMs: opts.retryMaxMs ?? 60_000,
      reconnectJitterMs: opts.reconnectJitterMs ?? 2000,
      deadLetterMaxBytes: opts.deadLetterMaxBytes ?? 20 * 1024 * 1024,
    };
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
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
    if (this.busy || this.outageSince !== null) return; // the retry timer is in charge
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
      next = backoffDelayMs(this.attempt++, this.backoff());
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
      return backoffDelayMs(this.attempt++, this.backoff());
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
      inflight = this.buildBatch(identity.agentId, identity.endpointId);
      if (!inflight) {
        this.pendingSince = null;
        return null;
      }
      writeFileDurable(this.inflightFile(), JSON.stringify(inflight));
    }
    this.opts.spool.reserve(inflight.end);
    const result = await this.post(identity, inflight);
    this.lastPostAtMs = Date.now();
    this.state.lastAttemptAt = new Date(this.now()).toISOString();
    if (result.ok) return this.onAcked(inflight);
    return this.onFailure(inflight, result);
  }

  private buildBatch(agentId: string, endpointId: string | undefined): Inflight | null {
    const read = this.opts.spool.read(this.o.batchMaxEvents, this.o.batchMaxBytes);
    if (read.records.length === 0) {
      this.opts.spool.ack(read.end); // skip a corrupted tail, if any
      return null;
    }
    const seq = this.state.lastSeq + 1;
    const prevHash = this.state.lastHash;
    const sentAt = new Date(this.now()).toISOString();
    // Records are JSON events written by this agent (CRC-checked): concatenated, not re-encoded.
    const head = JSON.stringify({ agentId, seq, prevHash, sentAt });
    const marker = endpointId === undefined ? null : `"endpointId":${JSON.stringify(endpointId)}`;
    const events = read.records.map((r) => {
      const text = r.toString('utf8');
      return marker === null || text.includes(marker) ? text : withEndpointId(text, endpointId as string);
    });
    const body = `${head.slice(0, -1)},"events":[${events.join(',')}]}`;
    return { agentId, seq, prevHash, end: read.end, count: read.records.length, body };
  }

  private async post(identity: ShipperIdentity, b: Inflight): Promise<SendResult> {
    const raw = Buffer.from(b.body, 'utf8');
    const gz = await gzip(raw);
    const ts = this.now();
    const headers = {
      ...batchHeaders(identity.privateKey, identity.agentId, b.seq, ts, gz),
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    };
    let res;
    try {
      res = await this.opts.http.request({ method: 'POST', url: new URL('/v1/batches', identity.server).toString(), headers, body: gz });
    } catch (e) {
      const code = e instanceof PipelineError ? e.code : AgentCodes.network;
      return { ok: false, retryable: code !== AgentCodes.insecureUrl, code, error: describeError(e) };
    }
    const json = jsonBody<{ acked?: number; settings?: AgentSettings; commands?: unknown; code?: string; message?: string }>(res);
    if (res.status >= 200 && res.status < 300) {
      if (json && json.acked === b.seq) {
        if (json.settings && this.opts.onSettings) this.safe(() => this.opts.onSettings!(json.settings!));
        const commands = json.commands;
        if (Array.isArray(commands) && commands.length > 0 && this.opts.onCommands) this.safe(() => this.opts.onCommands!(commands.slice(0, MAX_COMMANDS_PER_ACK)));
        return { ok: true };
      }
      return { ok: false, retryable: true, status: res.status, error: `unexpected ack ${JSON.stringify(json)} for seq ${b.seq}` };
    }
    const code = json?.code;
    const message = `${res.status} ${code ?? ''} ${json?.message ?? res.body.toString('utf8').slice(0, 200)}`.trim();
    const retryAfterMs = parseRetryAfter(res.headers['retry-after'], Date.now());
    const retryable = isRetryableAnswer(res.status, code);
    const out: SendResult = { ok: false, retryable, status: res.status, error: message };
    if (code !== undefined) out.code = code;
    if (retryAfterMs !== undefined) out.retryAfterMs = retryAfterMs;
    return out;
  }

  private onAcked(b: Inflight): number | null {
    this.opts.spool.ack(b.end);
    this.state.lastSeq = b.seq;
    this.state.lastHash = sha256Hex(b.body);
    this.state.lastShipAt = new Date(this.now()).toISOString();
    this.state.lastError = null;
    this.saveState();
    this.clearInflight();
    this.attempt = 0;
    if (this.outageSince !== null) {
      this.outageSince = null;
      this.report({ level: 'info', code: 'MCPW_OK_RECONNECTED', message: `collector reachable again; shipping seq ${b.seq}` });
    }
    this.pendingSince = this.opts.spool.stats().depth > 0 ? Date.now() : null;
    return this.opts.spool.stats().depth >= this.o.batchMaxEvents ? 0 : null;
  }

  private async onFailure(b: Inflight, r: Extract<SendResult, { ok: false }>): Promise<number | null> {
    if (r.code !== undefined && REENROLL_CODES.has(r.code) && this.opts.onUnknownAgent) {
      const why = r.code === CERT_EXPIRED ? "this agent's certificate has expired" : 'collector does not know this agent';
      this.report({ level: 'warn', code: r.code, message: `${why}; re-enrolling`, seq: b.seq });
      const ok = await this.opts.onUnknownAgent(r.code).catch(() => false);
      if (ok) {
        this.clearInflight();
        return 0;
      }
    }
    if (r.retryable) {
      const first = this.outageSince === null;
      if (first) this.outageSince = this.now();
      const msg = r.code === TIMESTAMP_SKEW
        ? `${AgentCodes.clockSkew}: the collector rejected the batch timestamp (${new Date(this.now()).toISOString()}); check this machine's clock (${r.error})`
        : `${r.code ?? AgentCodes.httpStatus}: ${r.error}`;
      this.recordError(msg);
      if (first || r.code === TIMESTAMP_SKEW) this.report({ level: 'warn', code: r.code ?? AgentCodes.network, message: msg, seq: b.seq });
      const wait = backoffDelayMs(this.attempt++, this.backoff(), r.retryAfterMs);
      return wait;
    }
    this.deadLetter(b, r);
    return 0;
  }

  private deadLetter(b: Inflight, r: Extract<SendResult, { ok: false }>): void {
    const dir = path.join(this.opts.stateDir, 'dead-letter');
    ensurePrivateDir(dir);
    const file = path.join(dir, `${String(Date.now()).padStart(15, '0')}-seq${b.seq}.json`);
    const record = { agentId: b.agentId, seq: b.seq, status: r.status ?? null, code: r.code ?? null, error: r.error, deadLetteredAt: new Date().toISOString(), events: b.count, body: b.body };
    writeFileDurable(file, JSON.stringify(record));
    this.boundDeadLetters(dir);
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
    this.attempt = 0;
    this.report({ level: 'error', code: AgentCodes.deadLetter, message: msg, seq: b.seq });
  }

  private boundDeadLetters(dir: string): void {
    const files = fs.readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
    let total = 0;
    const sizes = files.map((n) => {
      const s = fs.statSync(path.join(dir, n)).size;
      total += s;
      return s;
    });
    for (let i = 0; i < files.length - 1 && total > this.o.deadLetterMaxBytes; i++) {
      fs.rmSync(path.join(dir, files[i]!), { force: true });
      total -= sizes[i]!;
      this.state.deadLetterDropped++;
    }
  }

  private backoff() {
    return { baseMs: this.o.retryBaseMs, maxMs: this.o.retryMaxMs, random: this.random };
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

  private loadInflight(): Inflight | null {
    try {
      return readJsonFile<Inflight>(this.inflightFile());
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
    writeFileDurable(path.join(this.opts.stateDir, 'shipper-state.json'), JSON.stringify(this.state));
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

/**
 * A spooled event with its envelope's endpointId set to `endpointId` (events spooled before
 * enrollment, or before a re-enrollment gave a new endpoint id), spliced in place: the record is
 * not parsed and re-encoded. The envelope is written by makeEvent with `endpointId` before `data`,
 * and a quote inside any string value is escaped, so the first `"endpointId":"` is the envelope's.
 * A record without one (cannot happen for events this agent wrote) is sent as it is.
 */
function withEndpointId(text: string, endpointId: string): string {
  const key = '"endpointId":"';
  const at = text.indexOf(key);
  if (at < 0) return text;
  let end = at + key.length;
  while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
  return `${text.slice(0, at)}"endpointId":${JSON.stringify(endpointId)}${text.slice(end + 1)}`;
}
