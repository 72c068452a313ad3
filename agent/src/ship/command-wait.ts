/**
 * The containment long-poll (issue 16: command issued → config changed, p95 ≤ 2 s): one loop that
 * keeps one signed POST /v1/commands/wait open at the collector (collector/src/containment/
 * command-wait-route.ts) and hands the signed commands it answers with, as received and
 * unverified, to the same `onCommands` the batch acks feed (the composition root's containment
 * executor verifies them and acts once per command id, so a command that also rides in an ack is
 * not acted on twice). Results still travel as events through the spool and the shipper.
 *
 * Wire: headers as a batch's (shared batchHeaders: agent id, seq = this loop's counter, timestamp,
 * RSA-PSS signature over the body bytes), body {"kind":"commands.wait","maxWaitMs":N}, uncompressed.
 * Each wait is signed later than the one before (timestamp never set back, seq rising): the
 * collector refuses a wait that is not (409 MCPW_ERR_REPLAYED, its replay guard).
 *
 * Promises: never throws; at most one wait in flight; failures (network, 4xx, 5xx, a collector
 * without the route) back off with jitter (Retry-After honoured, a 404 waits retryMaxMs), and an
 * answer that comes back empty sooner than MIN_CYCLE_MS is followed by a pause, so a collector that
 * does not hold costs at most one request a second. The first failure of a streak is logged once.
 * Timers are unref()'d; shutdown() aborts the wait in flight, ends the loop and is idempotent.
 */
import { performance } from 'node:perf_hooks';
import { batchHeaders, MAX_COMMANDS_PER_ACK } from '@mcpwatch/shared';
import { AgentCodes, PipelineError, describeError } from '../errors.js';
import type { ShipperIdentity } from './batch-transport.js';
import { jsonBody, type HttpClient } from './http-client.js';
import { backoffDelayMs, parseRetryAfter } from './retry.js';

/** How long the agent asks the collector to hold a wait (the collector may hold less). */
export const COMMAND_WAIT_MS = 25_000;
/** An empty answer sooner than this is followed by a pause up to it. */
const MIN_CYCLE_MS = 1000;

export interface CommandWaitOptions {
  /** Its own client (a wait holds a socket for up to maxWaitMs): timeout above maxWaitMs. */
  http: Pick<HttpClient, 'request'>;
  identity: () => ShipperIdentity | null;
  onCommands: (commands: readonly unknown[]) => void;
  maxWaitMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** The signature clock (injected in tests). */
  now?: () => number;
  random?: () => number;
  log?: (level: 'warn' | 'info', message: string) => void;
}

type WaitOutcome = { ok: true; commands: readonly unknown[] } | { ok: false; status?: number; retryAfterMs?: number; error: string };

export class CommandWait {
  readonly #o: Required<Omit<CommandWaitOptions, 'log'>> & Pick<CommandWaitOptions, 'log'>;
  #seq = 0;
  /** Signed timestamp of the last wait the collector accepted. */
  #acceptedSignedAtMs = 0;
  #loop: Promise<void> | null = null;
  #stopped = false;
  readonly #abort = new AbortController();
  /** Waits answered (with or without commands); for status and tests. */
  answered = 0;

  constructor(o: CommandWaitOptions) {
    this.#o = { maxWaitMs: COMMAND_WAIT_MS, retryBaseMs: 1000, retryMaxMs: 60_000, now: Date.now, random: Math.random, ...o };
  }

  /** Starts the loop (once). */
  start(): void {
    if (this.#stopped) return;
    this.#loop ??= this.#run().catch((e) => this.#o.log?.('warn', `command wait loop ended: ${describeError(e)}`));
  }

  /** Aborts the wait in flight and ends the loop. Idempotent; never rejects. */
  async shutdown(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      const startedMs = performance.now();
      const r = await this.#once();
      if (this.#stopped) return;
      if (r.ok) {
        if (failures > 0) this.#o.log?.('info', 'command wait: the collector answers again');
        failures = 0;
        this.answered++;
        if (r.commands.length > 0) {
          try {
            this.#o.onCommands(r.commands.slice(0, MAX_COMMANDS_PER_ACK));
          } catch (e) {
            this.#o.log?.('warn', `command wait: handler failed: ${describeError(e)}`);
          }
          continue;
        }
        const elapsedMs = performance.now() - startedMs;
        if (elapsedMs < MIN_CYCLE_MS) await this.#sleep(MIN_CYCLE_MS - elapsedMs);
        continue;
      }
      if (failures === 0) this.#o.log?.('warn', `command wait: ${r.error} (retrying with backoff; commands still arrive in batch acks)`);
      const delayMs = r.status === 404 ? this.#o.retryMaxMs : backoffDelayMs(failures, { baseMs: this.#o.retryBaseMs, maxMs: this.#o.retryMaxMs, random: this.#o.random }, r.retryAfterMs);
      failures++;
      await this.#sleep(delayMs);
    }
  }

  async #once(): Promise<WaitOutcome> {
    const id = this.#o.identity();
    if (!id) return { ok: false, error: `${AgentCodes.notEnrolled}: no identity yet` };
    const body = Buffer.from(JSON.stringify({ kind: 'commands.wait', maxWaitMs: this.#o.maxWaitMs }), 'utf8');
    // The collector refuses a wait not signed later than the last one it accepted (replay guard:
    // a later timestamp, or the same one with a higher seq): seq always rises, and the timestamp
    // never goes below that of the last accepted wait even if the clock is set back. (Only an
    // accepted wait moves that floor: a clock briefly far ahead, refused for skew, does not.)
    const signedAtMs = Math.max(this.#acceptedSignedAtMs, this.#o.now());
    const headers = { ...batchHeaders(id.privateKey, id.agentId, ++this.#seq, signedAtMs, body), 'content-type': 'application/json' };
    let res;
    try {
      res = await this.#o.http.request({ method: 'POST', url: new URL('/v1/commands/wait', id.server).toString(), headers, body, signal: this.#abort.signal });
    } catch (e) {
      return { ok: false, error: describeError(e instanceof PipelineError ? e : new PipelineError(AgentCodes.network, describeError(e), { cause: e })) };
    }
    const json = jsonBody<{ commands?: unknown; code?: string; message?: string }>(res);
    if (res.status === 200 && json && Array.isArray(json.commands)) {
      this.#acceptedSignedAtMs = signedAtMs;
      return { ok: true, commands: json.commands };
    }
    const out: WaitOutcome = { ok: false, status: res.status, error: `${AgentCodes.httpStatus}: ${res.status} ${json?.code ?? ''} ${json?.message ?? ''}`.trim() };
    const retryAfterMs = parseRetryAfter(res.headers['retry-after'], Date.now());
    if (retryAfterMs !== undefined) out.retryAfterMs = retryAfterMs;
    return out;
  }

  /** An unref'd pause that shutdown() cuts short. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.#stopped) return resolve();
      const done = (): void => {
        clearTimeout(t);
        this.#abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      t.unref();
      this.#abort.signal.addEventListener('abort', done, { once: true });
    });
  }
}
