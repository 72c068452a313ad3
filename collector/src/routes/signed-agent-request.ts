/**
 * The agent authentication every signed agent request shares (POST /v1/batches and the command
 * long-poll POST /v1/commands/wait): the four headers, a non-empty body, a known agent that is not
 * revoked and whose certificate is valid, a timestamp inside the window, and the signature over the
 * body bytes as sent. Unknown agents and bad signatures count against the source in the abuse
 * guard (429 past its limit). Throws the coded error of the first check that fails.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HEADERS, verifyBatchAsync } from '@mcpwatch/shared';
import type { CachedAgent } from '../agent-cache.js';
import { Errors, isCollectorError } from '../errors.js';

export interface SignedAgentRequest {
  agentId: string;
  seq: number;
  timestampMs: number;
  signature: string;
  body: Buffer;
  /** The collector clock the checks used (ms). */
  nowMs: number;
  agent: CachedAgent;
}

export function oneHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function positiveInt(v: string | undefined, name: string): number {
  if (v === undefined || !/^\d{1,15}$/.test(v) || Number(v) < 1) throw Errors.malformed(`header ${name} must be a positive integer`);
  return Number(v);
}

/**
 * Store failures that are not already coded become 503 (retryable: the agent keeps its request).
 * A RangeError (stack or string length exceeded while encoding a batch's events) comes from the
 * content, not from an outage: 400, so the agent does not retry it forever.
 */
export function storeFailure(e: unknown): never {
  if (isCollectorError(e)) throw e;
  if (e instanceof RangeError) throw Errors.malformed(`batch content cannot be stored: ${e.message}`, { cause: e });
  throw Errors.storeUnavailable(`store failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}

/** Authenticates `req` (its raw body in `req.body`); `what` names the request in messages. */
export async function authenticateSignedAgentRequest(app: FastifyInstance, req: FastifyRequest, what: 'batch' | 'wait'): Promise<SignedAgentRequest> {
  const { config, now, agentCache } = app.collector;
  const h = req.headers;
  const agentId = oneHeader(h[HEADERS.agentId]);
  if (!agentId || agentId.length > 128) throw Errors.malformed(`header ${HEADERS.agentId} is missing or too long`);
  const seq = positiveInt(oneHeader(h[HEADERS.seq]), HEADERS.seq);
  const timestampMs = positiveInt(oneHeader(h[HEADERS.timestamp]), HEADERS.timestamp);
  const signature = oneHeader(h[HEADERS.signature]);
  if (!signature) throw Errors.signatureInvalid(`header ${HEADERS.signature} is missing`);
  const body = req.body;
  if (!Buffer.isBuffer(body) || body.length === 0) throw Errors.malformed('empty body');

  const agent = await agentCache.get(agentId).catch(storeFailure);
  if (!agent) throw (await app.abuseGuard.recordFailure(req, 'agent')) ?? Errors.unknownAgent();
  if (agent.row.revokedAt) throw Errors.agentRevoked();
  const nowMs = now();
  if (Date.parse(agent.row.certNotAfter) < nowMs) {
    throw Errors.certExpired(`agent certificate expired at ${agent.row.certNotAfter} (collector clock ${new Date(nowMs).toISOString()}); enroll again`);
  }
  const skewMs = timestampMs - nowMs;
  if (Math.abs(skewMs) > config.timestampWindowS * 1000) {
    throw Errors.timestampSkew(`${what} timestamp is ${Math.round(skewMs / 1000)} s from the collector clock (window ±${config.timestampWindowS} s); check the clock`);
  }
  // On the thread pool: the RSA verification was ~10 % of the event loop at 100,000 endpoints.
  if (!(await verifyBatchAsync(agent.publicKey, agentId, seq, timestampMs, body, signature))) {
    throw (await app.abuseGuard.recordFailure(req, 'agent')) ?? (what === 'batch' ? Errors.signatureInvalid() : Errors.signatureInvalid('wait signature does not verify'));
  }
  return { agentId, seq, timestampMs, signature, body, agent, nowMs };
}
