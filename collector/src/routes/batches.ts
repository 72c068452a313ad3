/**
 * POST /v1/batches — signed, gzip-compressed event batches from enrolled agents.
 *
 * Wire format (the agent follows exactly this):
 *   POST /v1/batches
 *   Content-Type: application/json
 *   Content-Encoding: gzip
 *   x-mcpwatch-agent: <agentId>
 *   x-mcpwatch-seq: <seq, decimal, >= 1>
 *   x-mcpwatch-timestamp: <unix milliseconds when signed>
 *   x-mcpwatch-signature: <base64 RSA-PSS-SHA256 (salt 32) over
 *       "mcpwatch-batch-v1\n{agentId}\n{seq}\n{timestamp}\n{sha256 hex of the gzip bytes as sent}">
 *   body: gzip(JSON Batch { agentId, seq, prevHash, sentAt, events })
 *     prevHash = sha256 hex of the previous batch's UNCOMPRESSED JSON body ('' for seq 1);
 *     every event's endpointId must be the agent's endpointId from enrollment.
 *
 * Order of checks (cheapest refusal first, signature before any decompression):
 *   headers (400) -> agent known (401; 429 + Retry-After once this address sent unknownAgentLimit
 *   unknown-agent or bad-signature batches in the window) / not revoked (403) / certificate not expired (401) ->
 *   timestamp window (401) ->
 *   signature over the raw bytes (401) -> per-agent rate limit (429 + Retry-After) ->
 *   bounded gunzip (413 zip bomb, 400 bad gzip) -> JSON.parse (400) ->
 *   schema (400: a property the schema does not name, at any level, or a string/array/record over
 *   its bound) ->
 *   header/body agreement (400) -> no finding of a collector-owned rule (400 MCPW_ERR_RESERVED_RULE:
 *   fleet divergence and tool-call analytics are the collector's to raise and resolve) -> NUL characters in strings replaced by U+FFFD (PostgreSQL text
 *   cannot hold them) -> ONE small store transaction: append to the batch log (the body as sent,
 *   signature, metadata) and advance the chain head -> 200 {acked: seq}. Nothing else happens on
 *   the request path: the projector builds the index, inventory, findings and outbox behind it.
 * Replies: 200 {acked, settings} (settings: the AgentSettings policy agents apply without a restart) for a new batch and for a re-sent identical one (idempotent); 409 when a
 * different batch was accepted under this seq; 413 body over maxBodyBytes; 415 other content
 * type or encoding; 503 + Retry-After when the store is unavailable. Agents retry 429/503 only, so
 * a failure caused by the batch's content is always a 4xx (never 503: it would be retried forever).
 * Error body: { statusCode, code: "MCPW_ERR_*", message }.
 */
import { gunzip, gunzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { HEADERS, sha256Hex, type BatchAck, type ToolPolicy } from '@mcpwatch/shared';
import { hasNulEscape, replaceNulCharacters, validateBatch, warmBatchValidator } from '../batch-validator.js';
import { Errors } from '../errors.js';
import { COLLECTOR_RULE_IDS } from '../tools/tool-fleet-divergence.js';
import { toCollectorError } from '../http-errors.js';
import { RateLimiter } from '../rate-limiter.js';
import { authenticateSignedAgentRequest, oneHeader, storeFailure } from './signed-agent-request.js';

const gunzipAsync = promisify(gunzip);
/** The ack's content type (what Fastify sets for an object it serializes). */
const JSON_TYPE = 'application/json; charset=utf-8';
/** Bodies up to this size are inflated synchronously (cheaper than a thread-pool round trip). */
const SYNC_GUNZIP_MAX_BYTES = 64 * 1024;



/** Most output one deflate byte can give (the format's limit is about 1032:1). */
const DEFLATE_MAX_RATIO = 1032;
/** Largest output buffer sized up front from the gzip trailer (bigger outputs grow in chunks of it). */
const MAX_SIZED_CHUNK = 4 * 1024 * 1024;
/** zlib's default output chunk. */
const DEFAULT_CHUNK = 16 * 1024;

/**
 * The output chunk for inflating `body`: its gzip trailer's size (ISIZE, the last member's
 * uncompressed length mod 2^32) plus slack, so the usual body inflates into ONE buffer, instead of
 * 16 KiB chunks concatenated at the end (three chunks and a copy for a 43 KB batch: ~12-16 us of
 * a ~45 us gunzip, and the garbage). Only a size hint: a lying trailer costs at most one chunk
 * bounded by what `body` can inflate to, by `maxBytes` and by MAX_SIZED_CHUNK; the output limit
 * (maxOutputLength) is enforced as before.
 */
export function gunzipChunkSize(body: Buffer, maxBytes: number): number {
  if (body.length < 18) return DEFAULT_CHUNK;
  const declared = body.readUInt32LE(body.length - 4) + 64;
  return Math.max(DEFAULT_CHUNK, Math.min(declared, body.length * DEFLATE_MAX_RATIO + 64, maxBytes + 64, MAX_SIZED_CHUNK));
}

/** Inflates `body`, refusing output over `maxBytes` (zip bomb -> 413) and corrupt data (400). */
export async function boundedGunzip(body: Buffer, maxBytes: number): Promise<Buffer> {
  const opts = { maxOutputLength: maxBytes, chunkSize: gunzipChunkSize(body, maxBytes) };
  try {
    return body.length <= SYNC_GUNZIP_MAX_BYTES ? gunzipSync(body, opts) : await gunzipAsync(body, opts);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw Errors.tooLarge(`batch inflates past the limit of ${maxBytes} bytes`, { cause: e });
    }
    throw Errors.malformed(`body is not valid gzip: ${(e as Error).message}`, { cause: e });
  }
}


export const batchRoutes: FastifyPluginAsync = async (app) => {
  // Agent authentication (signed-agent-request.ts): unknown agents and bad signatures count per
  // source IP; past unknownAgentLimit they get 429 (abuse-guard.ts).
  const { store, config, metrics, now } = app.collector;
  const limiter = new RateLimiter({ ratePerS: config.rateLimitPerAgentPerS, burst: config.rateLimitBurst, maxKeys: config.agentCacheMax, now });
  warmBatchValidator();
  // Containment hook (containment/containment-plugin.ts): the ack carries this endpoint's pending
  // signed commands, and the batch's command results are recorded. Absent: plain acks.
  const containmentHook = app.hasDecorator('containment') ? app.containment : null;
  // Tool policy hook (tool-calls/tool-calls-plugin.ts): the ack's settings carry the fleet's tool policy.
  const toolPolicyHook = app.hasDecorator('toolPolicy') ? app.toolPolicy : null;
  // The ack's settings as JSON, serialized once per policy (the same for every agent until the tool
  // policy changes: current() returns a new object then), not per batch.
  let settingsJson: { policy: ToolPolicy | null; json: string } | null = null;
  const settingsText = (): string => {
    const toolPolicy = toolPolicyHook?.current() ?? null;
    if (settingsJson === null || settingsJson.policy !== toolPolicy) {
      const settings: BatchAck['settings'] = toolPolicy ? { ...config.agentSettings, toolPolicy } : config.agentSettings;
      settingsJson = { policy: toolPolicy, json: JSON.stringify(settings) };
    }
    return settingsJson.json;
  };
  /** Sends the ack: the bytes JSON.stringify({acked, settings[, commands]}) gives, from the pre-serialized settings. */
  const ack = async (reply: FastifyReply, acked: number, endpointId: string): Promise<FastifyReply> => {
    const commands = containmentHook ? await containmentHook.commandsFor(endpointId) : [];
    const tail = commands.length > 0 ? `,"commands":${JSON.stringify(commands)}}` : '}';
    return reply.type(JSON_TYPE).send(`{"acked":${JSON.stringify(acked)},"settings":${settingsText()}${tail}`);
  };

  // This scope accepts only application/json, delivered raw: the signature covers the bytes as sent.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: config.maxBodyBytes }, (_req, body, done) => {
    done(null, body);
  });

  // Callback-style hooks: no promise per request for two synchronous metric updates.
  app.addHook('onError', (_req, _reply, err, done) => {
    metrics.batchRejects.inc({ reason: toCollectorError(err).code });
    done();
  });
  app.addHook('onResponse', (_req, reply, done) => {
    metrics.batchLatency.observe(reply.elapsedTime / 1000);
    done();
  });

  app.post<{ Body: Buffer }>('/v1/batches', { bodyLimit: config.maxBodyBytes }, async (req, reply) => {
    const h = req.headers;
    const encoding = oneHeader(h['content-encoding'])?.trim().toLowerCase();
    if (encoding !== 'gzip') throw Errors.contentType('Content-Encoding must be gzip (body: gzip of the JSON batch)');
    const { agentId, seq, timestampMs, signature, body, agent, nowMs } = await authenticateSignedAgentRequest(app, req, 'batch');
    const rate = limiter.take(agentId);
    if (!rate.ok) throw Errors.rateLimited(`agent over ${config.rateLimitPerAgentPerS} batches/s`, { retryAfterS: rate.retryAfterS });

    const inflated = await boundedGunzip(body, config.maxInflatedBytes);
    let doc: unknown;
    try {
      doc = JSON.parse(inflated.toString('utf8'));
    } catch (e) {
      throw Errors.malformed(`batch is not valid JSON: ${(e as Error).message}`, { cause: e });
    }
    let batch;
    try {
      batch = validateBatch(doc);
    } catch (e) {
      if (e instanceof RangeError) throw Errors.malformed(`batch cannot be validated: ${e.message}`, { cause: e });
      throw e;
    }
    if (hasNulEscape(inflated)) replaceNulCharacters(batch);
    if (batch.agentId !== agentId) throw Errors.headerMismatch(`body agentId does not match header ${HEADERS.agentId}`);
    if (batch.seq !== seq) throw Errors.headerMismatch(`body seq ${batch.seq} does not match header ${HEADERS.seq} ${seq}`);
    const endpointId = agent.row.endpointId;
    for (let i = 0; i < batch.events.length; i++) {
      if (batch.events[i]!.endpointId !== endpointId) throw Errors.endpointMismatch(`events/${i} names endpoint ${batch.events[i]!.endpointId}, not this agent's`);
      const reserved = reservedRuleOf(batch.events[i]!);
      if (reserved !== undefined) throw Errors.reservedRule(`events/${i} carries a finding of rule ${reserved}, which only the collector raises`);
    }

    const result = await store
      .ingestBatch({
        agent: agent.row,
        seq,
        prevHash: batch.prevHash,
        bodyHash: sha256Hex(inflated),
        sentAt: batch.sentAt,
        receivedAt: new Date(nowMs).toISOString(),
        events: batch.events,
        body,
        inflatedBytes: inflated.length,
        signature,
        signedAtMs: timestampMs,
        sinks: [...config.sinks],
      })
      .catch(storeFailure);
    switch (result.status) {
      case 'accepted':
        metrics.batchesAccepted.inc();
        metrics.eventsAccepted.inc({}, batch.events.length);
        if (result.gap) metrics.chainBreaks.inc({ kind: 'gap' });
        if (result.chainBroken) metrics.chainBreaks.inc({ kind: 'chain' });
        // Most batches carry no command result and no finding to contain: no call, no promise.
        if (containmentHook?.wantsResults(batch.events)) await containmentHook.recordResults(endpointId, batch.events).catch((e) => req.log.warn({ err: e }, 'containment: results not recorded'));
        return ack(reply, result.acked, endpointId);
      case 'duplicate':
        metrics.batchesDuplicate.inc();
        return ack(reply, result.acked, endpointId);
      case 'conflict':
        throw Errors.seqConflict(`seq ${result.seq} was already accepted with a different body`);
    }
  });
};

const RESERVED_RULES: ReadonlySet<string> = new Set(COLLECTOR_RULE_IDS);

/**
 * The collector-owned rule an agent's event names, if any. Fleet divergence and the tool-call
 * analytics are judged from many endpoints' data; an agent that sends one (raised or resolved, alone
 * or inside a snapshot's findings) forges or clears a finding it cannot know, so the batch is refused.
 */
function reservedRuleOf(event: { type: string; data: unknown }): string | undefined {
  const data = event.data as { ruleId?: unknown; findings?: unknown } | null;
  if (data === null || typeof data !== 'object') return undefined;
  if ((event.type === 'finding.raised' || event.type === 'finding.resolved') && typeof data.ruleId === 'string' && RESERVED_RULES.has(data.ruleId)) return data.ruleId;
  if (event.type === 'inventory.snapshot' && Array.isArray(data.findings)) {
    for (const f of data.findings as Array<{ ruleId?: unknown }>) if (typeof f.ruleId === 'string' && RESERVED_RULES.has(f.ruleId)) return f.ruleId;
  }
  return undefined;
}
