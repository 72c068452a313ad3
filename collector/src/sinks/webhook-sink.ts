/**
 * Webhook sink: posts findings at or above a severity and containment results to an HTTP webhook,
 * as a Slack-compatible incoming-webhook message (`format: 'slack'`: {text, blocks}) or a generic
 * JSON document (`format: 'json'`: {source, sentAt, notifications: [...]}) for Teams workflows,
 * Google Chat, PagerDuty-style relays and anything else that takes JSON.
 *
 * What it sends: `finding.raised` with severity >= minSeverity (the agent's and those derived from
 * snapshots), `command.issued` (the collector's, when a containment command is issued: who, what,
 * why) and the agent's answers `server.quarantined`, `server.restored`, `command.failed`. Other
 * rows are skipped (counted); the store enqueues only these for this sink (store/sink-routing.ts).
 * One POST per drained batch of rows (at most maxPerMessage notifications in one message; more
 * rows are split over several posts).
 *
 * Rate limit: a token bucket (default 1 post/s, burst 3: Slack's documented incoming-webhook rate).
 * Results as values (sinks/types.ts): 2xx ok; 429 and 5xx retryable (Retry-After honoured); other
 * 4xx not retryable (the drainer keeps the rows at its longest backoff); a network error or no
 * answer within sendDeadlineMs retryable. Delivery is at least once (the drainer's contract): a
 * receiver may see a notification twice after a lost reply; each carries the event id.
 * The webhook URL is a secret (Slack's carries the token): it is never logged or put in errors.
 * Signing: with a `secret`, every POST carries x-mcpwatch-webhook-signature `t=<unix s>,v1=<hex
 * HMAC-SHA256(secret, "<t>.<body>")>` (verifyWebhookSignature is the receiver's check, timestamp
 * tolerance included, so a captured delivery cannot be replayed later).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { atOrAbove, type Severity } from '@mcpwatch/shared';
import { WEBHOOK_SINK } from '../store/sink-routing.js';
import type { OutboxRow } from '../store/types.js';
import { TokenBucket } from './rate-limiter.js';
import type { HostLookup } from './securityhub-sink.js';
import { asError, newCounters, once, type CountingSink, type SendResult, type SinkCounters } from './types.js';

export { WEBHOOK_SINK };
/**
 * Event types this sink publishes (besides findings, filtered by severity): the collector's
 * `command.issued` (containment/containment-notifier.ts) and the agent's answers.
 */
export const WEBHOOK_CONTAINMENT_TYPES: ReadonlySet<string> = new Set(['command.issued', 'server.quarantined', 'server.restored', 'command.failed']);

/** The signature header of a webhook delivery: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const WEBHOOK_SIGNATURE_HEADER = 'x-mcpwatch-webhook-signature';

/** The signature header value for `body` sent at `unixS` with `secret`. */
export function signWebhook(secret: string, unixS: number, body: string): string {
  return `t=${unixS},v1=${createHmac('sha256', secret).update(`${unixS}.${body}`).digest('hex')}`;
}

/**
 * What a receiver does (and the tests): true when `header` signs `body` with `secret` and its
 * timestamp is within `toleranceS` of `nowS` (a captured delivery replayed later is refused).
 */
export function verifyWebhookSignature(secret: string, header: string | undefined, body: string, nowS: number, toleranceS = 300): boolean {
  const m = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return false;
  const t = Number(m[1]);
  if (Math.abs(nowS - t) > toleranceS) return false;
  const want = Buffer.from(signWebhook(secret, t, body).slice(-64), 'hex');
  return timingSafeEqual(want, Buffer.from(m[2]!, 'hex'));
}

export type WebhookFormat = 'slack' | 'json';

export interface WebhookSinkOptions {
  url: string;
  format: WebhookFormat;
  minSeverity: Severity;
  sendDeadlineMs?: number;
  maxPerMessage?: number;
  ratePerS?: number;
  burst?: number;
  hostOf?: HostLookup;
  /** Signs every delivery (WEBHOOK_SIGNATURE_HEADER) when set. Never logged. */
  secret?: string;
  /** Injected for tests; default global fetch. */
  fetch?: typeof fetch;
  now?: () => number;
}

/** One notification, format-neutral. */
export interface WebhookNotification {
  kind: 'finding' | 'containment';
  eventId: string;
  type: string;
  time: string;
  endpointId: string;
  hostname: string | null;
  severity?: string;
  ruleId?: string;
  title: string;
  server?: string | null;
  detail?: unknown;
}

/** The notification a row becomes, or null when this sink does not publish it. */
export function toNotification(row: OutboxRow, minSeverity: Severity, hostname: string | null): WebhookNotification | null {
  const e = row.event as { id: string; type: string; time: string; data: Record<string, unknown> };
  const base = { eventId: e.id, type: e.type, time: e.time, endpointId: row.endpointId, hostname };
  if (e.type === 'finding.raised') {
    const f = e.data as { ruleId: string; severity: string; title: string; subject?: { serverName?: string | null }; evidence?: unknown };
    if (!atOrAbove(f.severity as Severity, minSeverity)) return null;
    return { ...base, kind: 'finding', severity: f.severity, ruleId: f.ruleId, title: f.title, server: f.subject?.serverName ?? null, detail: f.evidence ?? null };
  }
  if (e.type === 'command.issued') {
    const d = e.data as { commandId?: string; action?: string; serverKey?: string; serverName?: string | null; reason?: string; issuedBy?: { name?: string }; expiresAt?: string };
    return {
      ...base,
      kind: 'containment',
      title: `Containment command issued: ${d.action ?? 'unknown'} by ${d.issuedBy?.name ?? 'unknown'}`,
      server: d.serverName ?? d.serverKey ?? null,
      detail: { commandId: d.commandId ?? null, action: d.action ?? null, serverKey: d.serverKey ?? null, reason: d.reason ?? null, issuedBy: d.issuedBy?.name ?? null, expiresAt: d.expiresAt ?? null },
    };
  }
  if (WEBHOOK_CONTAINMENT_TYPES.has(e.type)) {
    const d = e.data as { commandId?: string; serverKey?: string; reason?: string; message?: string };
    const title =
      e.type === 'server.quarantined' ? 'MCP server quarantined' : e.type === 'server.restored' ? 'MCP server restored' : `Containment command failed (${d.reason ?? 'error'})`;
    return { ...base, kind: 'containment', title, server: d.serverKey ?? null, detail: { commandId: d.commandId ?? null, ...(d.message ? { message: d.message } : {}) } };
  }
  return null;
}

/** Slack's mrkdwn escapes (&, <, >): agent-supplied text must not become links or mentions. */
function slackEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A Slack incoming-webhook payload for `items`. */
export function slackMessage(items: WebhookNotification[]): Record<string, unknown> {
  const line = (n: WebhookNotification) =>
    n.kind === 'finding'
      ? `*${slackEscape(String(n.severity).toUpperCase())}* \`${slackEscape(n.ruleId ?? '')}\` ${slackEscape(n.title)} — server ${slackEscape(n.server ?? '-')} on ${slackEscape(n.hostname ?? n.endpointId)}`
      : `:lock: ${slackEscape(n.title)} — ${slackEscape(n.server ?? '-')} on ${slackEscape(n.hostname ?? n.endpointId)}`;
  const findings = items.filter((i) => i.kind === 'finding').length;
  const text = `mcpwatch: ${findings} finding(s), ${items.length - findings} containment update(s)`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${text}*` } },
      ...items.map((n) => ({ type: 'section', text: { type: 'mrkdwn', text: line(n).slice(0, 2900) } })),
    ].slice(0, 50),
  };
}

/** The generic JSON payload for `items`. */
export function jsonMessage(items: WebhookNotification[], now: number): Record<string, unknown> {
  return { source: 'mcpwatch', sentAt: new Date(now).toISOString(), notifications: items };
}

export class WebhookSink implements CountingSink {
  readonly name = WEBHOOK_SINK;
  readonly counters: SinkCounters = newCounters();
  readonly #opts: Required<Omit<WebhookSinkOptions, 'hostOf' | 'secret'>> & { hostOf?: HostLookup; secret?: string };
  readonly #bucket: TokenBucket;
  readonly #abort = new AbortController();

  constructor(opts: WebhookSinkOptions) {
    this.#opts = { sendDeadlineMs: 10_000, maxPerMessage: 20, ratePerS: 1, burst: 3, fetch: globalThis.fetch, now: Date.now, ...opts };
    this.#bucket = new TokenBucket({ ratePerS: this.#opts.ratePerS, burst: this.#opts.burst, now: this.#opts.now });
  }

  async send(rows: OutboxRow[]): Promise<SendResult> {
    const picked: Array<{ row: OutboxRow; n: WebhookNotification }> = [];
    for (const row of rows) {
      const hostname = this.#opts.hostOf ? await this.#opts.hostOf(row).catch(() => null) : null;
      const n = toNotification(row, this.#opts.minSeverity, hostname);
      if (n) picked.push({ row, n });
      else this.counters.skipped++;
    }
    const failed: string[] = [];
    let firstError: { error: Error; retryable: boolean; retryAfterMs?: number } | undefined;
    for (let i = 0; i < picked.length; i += this.#opts.maxPerMessage) {
      const chunk = picked.slice(i, i + this.#opts.maxPerMessage);
      if (firstError) {
        failed.push(...chunk.map((c) => c.row.id));
        continue;
      }
      const r = await this.#post(chunk.map((c) => c.n));
      if (r.ok) this.counters.sent += chunk.length;
      else {
        firstError = r;
        failed.push(...chunk.map((c) => c.row.id));
      }
    }
    if (!firstError) return { ok: true };
    return { ok: false, retryable: firstError.retryable, error: firstError.error, failedIds: failed, ...(firstError.retryAfterMs !== undefined ? { retryAfterMs: firstError.retryAfterMs } : {}) };
  }

  async #post(items: WebhookNotification[]): Promise<{ ok: true } | { ok: false; retryable: boolean; error: Error; retryAfterMs?: number }> {
    await this.#bucket.acquire();
    const body = JSON.stringify(this.#opts.format === 'slack' ? slackMessage(items) : jsonMessage(items, this.#opts.now()));
    try {
      const res = await this.#opts.fetch(this.#opts.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.#opts.secret ? { [WEBHOOK_SIGNATURE_HEADER]: signWebhook(this.#opts.secret, Math.floor(this.#opts.now() / 1000), body) } : {}) },
        body,
        signal: AbortSignal.any([AbortSignal.timeout(this.#opts.sendDeadlineMs), this.#abort.signal]),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { ok: true };
      const retryAfterS = Number(res.headers.get('retry-after'));
      const retryAfterMs = Number.isFinite(retryAfterS) && retryAfterS > 0 ? retryAfterS * 1000 : undefined;
      if (res.status === 429) this.counters.throttled++;
      const retryable = res.status === 429 || res.status >= 500;
      return { ok: false, retryable, error: new Error(`webhook answered HTTP ${res.status}`), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    } catch (e) {
      // Never echo the URL (it carries the webhook's secret): the cause's message only.
      return { ok: false, retryable: true, error: new Error(`webhook not reached: ${asError(e).name}: ${asError(e).message.replaceAll(this.#opts.url, '<webhook url>')}`) };
    }
  }

  async flush(): Promise<void> {}

  readonly shutdown = once(async () => {
    this.#abort.abort();
  });
}
