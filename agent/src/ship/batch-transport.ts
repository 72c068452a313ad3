/**
 * The plain transport (OpenTelemetry's exporter transport): one signed, gzip-compressed batch,
 * one POST /v1/batches, one answer turned into a value. No retry, no state, no spool: retrying
 * is retrying-transport.ts's, what to do with the answer is the shipper's.
 *
 * Contract: never throws. A network failure is `{ ok: false, retryable: true, code }` (an
 * insecure collector URL is not retryable); an HTTP answer is classified by is-retryable.ts, with
 * its wire code and Retry-After; a 2xx whose `acked` is not this batch's seq is a retryable
 * failure. A good ack carries what the collector sent along (settings, signed commands), as
 * received: the transport neither reads nor trusts them.
 */
import { promisify } from 'node:util';
import { gzip as gzipCb, gzipSync } from 'node:zlib';
import type { KeyObject } from 'node:crypto';
import { batchHeaders, type AgentSettings } from '@mcpwatch/shared';
import { AgentCodes, PipelineError, describeError } from '../errors.js';
import type { PendingBatch } from './batch-builder.js';
import { jsonBody, type HttpClient } from './http-client.js';
import { isRetryableAnswer } from './is-retryable.js';
import { parseRetryAfter, type SendResult } from './retry.js';

const gzipAsync = promisify(gzipCb);
/**
 * Bodies up to this size are compressed synchronously: well under a millisecond of work, and no
 * zlib stream, Transform and thread-pool round trip per batch (the steady state's batch is one
 * heartbeat of a few hundred bytes). Bigger bodies go to the thread pool as before.
 */
export const SYNC_GZIP_MAX_BYTES = 64 * 1024;

/** gzip of a batch body: inline when small, on the thread pool when big. */
export function gzipBody(body: string): Promise<Buffer> {
  const raw = Buffer.from(body, 'utf8');
  return raw.length <= SYNC_GZIP_MAX_BYTES ? Promise.resolve(gzipSync(raw)) : gzipAsync(raw);
}

/** The identity batches are signed with. */
export interface ShipperIdentity {
  agentId: string;
  privateKey: KeyObject;
  server: string;
  /** The endpoint id of this identity; spooled events naming another (made before a
   * re-enrollment gave this machine a new endpoint id) are re-addressed when batched. */
  endpointId?: string;
}

/** What a good ack carried besides the seq. */
export interface AckPayload {
  settings?: AgentSettings;
  /** Signed commands, unverified. */
  commands?: readonly unknown[];
}

export type BatchSendResult = ({ ok: true } & AckPayload) | Extract<SendResult, { ok: false }>;

export interface BatchTransport {
  send(identity: ShipperIdentity, batch: PendingBatch): Promise<BatchSendResult>;
}

/** The HTTP transport; `now` is the signature clock (injected in tests to simulate skew). */
export function httpBatchTransport(http: Pick<HttpClient, 'request'>, now: () => number = Date.now): BatchTransport {
  return {
    async send(identity, b) {
      const gz = await gzipBody(b.body);
      const headers = {
        ...batchHeaders(identity.privateKey, identity.agentId, b.seq, now(), gz),
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      };
      let res;
      try {
        res = await http.request({ method: 'POST', url: new URL('/v1/batches', identity.server).toString(), headers, body: gz });
      } catch (e) {
        const code = e instanceof PipelineError ? e.code : AgentCodes.network;
        return { ok: false, retryable: code !== AgentCodes.insecureUrl, code, error: describeError(e) };
      }
      const json = jsonBody<{ acked?: number; settings?: AgentSettings; commands?: unknown; code?: string; message?: string }>(res);
      if (res.status >= 200 && res.status < 300) {
        if (json && json.acked === b.seq) {
          const ack: { ok: true } & AckPayload = { ok: true };
          if (json.settings) ack.settings = json.settings;
          if (Array.isArray(json.commands) && json.commands.length > 0) ack.commands = json.commands;
          return ack;
        }
        return { ok: false, retryable: true, status: res.status, error: `unexpected ack ${JSON.stringify(json)} for seq ${b.seq}` };
      }
      const code = json?.code;
      const message = `${res.status} ${code ?? ''} ${json?.message ?? res.body.toString('utf8').slice(0, 200)}`.trim();
      const retryAfterMs = parseRetryAfter(res.headers['retry-after'], Date.now());
      const out: Extract<SendResult, { ok: false }> = { ok: false, retryable: isRetryableAnswer(res.status, code), status: res.status, error: message };
      if (code !== undefined) out.code = code;
      if (retryAfterMs !== undefined) out.retryAfterMs = retryAfterMs;
      return out;
    },
  };
}
