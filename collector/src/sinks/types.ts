/**
 * The one outlet interface (DESIGN.md "Sinks", STYLE.md habit 1). Every sink — Kinesis, Security
 * Hub, file — takes outbox rows and answers with a value, never a throw:
 *
 * - `{ ok: true }`: every row was accepted by the service; the drainer completes them all.
 * - `{ ok: false, failedIds }`: the rows NOT listed were accepted (complete them); the listed rows
 *   were not (release them for a later retry). `failedIds` absent means no row was accepted.
 * - `retryable: false` means a resend of the same bytes will fail the same way (bad input); the
 *   drainer still keeps the rows (nothing is dropped silently) but backs off to its maximum.
 *
 * `flush()` finishes buffered work; `shutdown()` runs once (later calls return the same promise),
 * flushes, then releases downstream resources (HTTP agents, file handles).
 */
import type { SendResult as ProtocolSendResult } from '@mcpwatch/shared';
import type { OutboxRow } from '../store/types.js';

/** The shared SendResult, told as an Error, with the rows the service did not accept. */
export type SendResult = ProtocolSendResult<Error, { failedIds?: string[] }>;

export interface Sink {
  /** The sink name outbox rows are enqueued under (`kinesis`, `securityhub`, `file`). */
  readonly name: string;
  send(rows: OutboxRow[]): Promise<SendResult>;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** Counters every sink keeps; the drainer exports them as metrics. Monotonic. */
export interface SinkCounters {
  /** Records/findings accepted by the service. */
  sent: number;
  /** Records over the service's size limit that were split into parts. */
  oversizeSplit: number;
  /** Records over the size limit that were replaced by a summary (the full event stays in the store). */
  oversizeSummarised: number;
  /** Individual records/findings the service rejected in an otherwise accepted call. */
  partialFailures: number;
  /** Calls the service throttled. */
  throttled: number;
  /** Rows with nothing to publish for this sink (e.g. a heartbeat at Security Hub). */
  skipped: number;
}

export function newCounters(): SinkCounters {
  return { sent: 0, oversizeSplit: 0, oversizeSummarised: 0, partialFailures: 0, throttled: 0, skipped: 0 };
}

/** A sink that also exposes its counters (all of ours do). */
export interface CountingSink extends Sink {
  readonly counters: Readonly<SinkCounters>;
}

/** Runs `fn` once; later calls return the first call's promise (idempotent shutdown). */
export function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}

/** Turns an unknown thrown value into an Error. */
export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
