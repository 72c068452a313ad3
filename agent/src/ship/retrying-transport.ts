/**
 * Retry as a wrapper around the plain transport (OpenTelemetry's retrying transport, STYLE.md
 * habit 2). It does not loop or sleep itself (the shipper's timer does, so shutdown is never held
 * by a wait): it sends once through the inner transport and says when to try again.
 *
 * Contract:
 * - A good ack resets the backoff; after an outage it reports MCPW_OK_RECONNECTED once.
 * - "This identity is no longer accepted" (is-retryable's REENROLL_CODES) calls `reenroll`; when
 *   that put a new identity in place the answer is `reenrolled: true` (resend at once, rebuilt for
 *   the new identity). Otherwise it is retried like any retryable failure.
 * - A retryable failure gets `retryInMs` (jittered exponential backoff, at least Retry-After,
 *   capped) and a `message` for the shipper's health; the first failure of an outage and every
 *   clock-skew refusal are reported (a skew names this machine's clock).
 * - A non-retryable failure is returned as it is (the shipper dead-letters it) and resets the
 *   backoff. Never throws; `onReport` and `reenroll` failures are swallowed.
 */
import { WireErrorCodes } from '@mcpwatch/shared/protocol';
import { AgentCodes } from '../errors.js';
import type { PendingBatch } from './batch-builder.js';
import type { BatchSendResult, BatchTransport, ShipperIdentity } from './batch-transport.js';
import { REENROLL_CODES } from './is-retryable.js';
import { backoffDelayMs } from './retry.js';

/** Something worth telling a person (dead letter, clock skew, re-enroll, reconnect). */
export interface ShipperReport {
  level: 'warn' | 'error' | 'info';
  code: string;
  message: string;
  seq?: number;
}

export interface RetryingTransportOptions {
  retryBaseMs: number;
  retryMaxMs: number;
  random?: () => number;
  /** Clock for outage start and the clock-skew message. */
  now?: () => number;
  /** Enroll again; resolve true when a new identity is in place. `code` says why. */
  reenroll?: (code: string) => Promise<boolean>;
  onReport?: (report: ShipperReport) => void;
}

export type RetriedResult =
  | Extract<BatchSendResult, { ok: true }>
  | (Extract<BatchSendResult, { ok: false }> & { reenrolled?: true; retryInMs?: number; message?: string });

export class RetryingTransport {
  private attempt = 0;
  private outageSince: number | null = null;
  private readonly now: () => number;

  constructor(
    private readonly inner: BatchTransport,
    private readonly o: RetryingTransportOptions,
  ) {
    this.now = o.now ?? Date.now;
  }

  /** Whether the collector has been failing since the last good ack. */
  get inOutage(): boolean {
    return this.outageSince !== null;
  }

  async send(identity: ShipperIdentity, b: PendingBatch): Promise<RetriedResult> {
    const r = await this.inner.send(identity, b);
    if (r.ok) {
      this.attempt = 0;
      if (this.outageSince !== null) {
        this.outageSince = null;
        this.report({ level: 'info', code: 'MCPW_OK_RECONNECTED', message: `collector reachable again; shipping seq ${b.seq}` });
      }
      return r;
    }
    if (r.code !== undefined && REENROLL_CODES.has(r.code) && this.o.reenroll) {
      const why = r.code === WireErrorCodes.certExpired ? "this agent's certificate has expired" : 'collector does not know this agent';
      this.report({ level: 'warn', code: r.code, message: `${why}; re-enrolling`, seq: b.seq });
      const code = r.code;
      const ok = await this.o.reenroll(code).catch(() => false);
      if (ok) return { ...r, reenrolled: true };
    }
    if (!r.retryable) {
      this.attempt = 0;
      return r;
    }
    const first = this.outageSince === null;
    if (first) this.outageSince = this.now();
    const skew = r.code === WireErrorCodes.timestampSkew;
    const message = skew
      ? `${AgentCodes.clockSkew}: the collector rejected the batch timestamp (${new Date(this.now()).toISOString()}); check this machine's clock (${r.error})`
      : `${r.code ?? AgentCodes.httpStatus}: ${r.error}`;
    if (first || skew) this.report({ level: 'warn', code: r.code ?? AgentCodes.network, message, seq: b.seq });
    return { ...r, message, retryInMs: this.nextDelayMs(r.retryAfterMs) };
  }

  /** The wait before the next attempt after a failure outside send() (not enrolled, a crash). */
  nextDelayMs(retryAfterMs?: number): number {
    return backoffDelayMs(this.attempt++, { baseMs: this.o.retryBaseMs, maxMs: this.o.retryMaxMs, random: this.o.random ?? Math.random }, retryAfterMs);
  }

  private report(r: ShipperReport): void {
    try {
      this.o.onReport?.(r);
    } catch {
      // a callback must not break shipping
    }
  }
}
