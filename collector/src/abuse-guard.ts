/**
 * The collector under abuse: throttling of FAILED authentication per source IP, enrollment caps,
 * a bound on agent ids per public key, and load shedding under event-loop or heap pressure.
 *
 * Contract:
 * - Failed authentication is counted per source IP and kind (`token`: query/admin API bearer
 *   tokens; `enroll`: enroll secrets; `agent`: batches from unknown agents or with a bad signature)
 *   in fixed windows (@fastify/rate-limit's store, LRU-bounded). Over the limit, `token`/`enroll`
 *   requests from that IP get 429 + Retry-After BEFORE their credential is looked at (a right guess
 *   then tells nothing); `agent` failures get 429 instead of 401 while known agents from the same IP
 *   (a NAT) keep being served: successes are never throttled.
 * - Enrollment is capped per enroll secret and globally per window (429 + Retry-After).
 * - One public key may be enrolled under at most `enrollMaxAgentsPerKey` agent ids (counted in this
 *   process, bounded LRU; a real agent makes a new key per enrollment): beyond, 409 MCPW_ERR_KEY_REUSED.
 * - @fastify/under-pressure sheds requests with 503 MCPW_ERR_OVERLOADED + Retry-After when heap use
 *   is over its bound, or the event-loop delay was over its bound for SUSTAINED_INTERVALS sample
 *   intervals in a row (one slow interval is not overload); /healthz, /readyz and /metrics are
 *   always served.
 * Every refusal is counted in metrics (mcpwatch_auth_failures_total, mcpwatch_throttled_total,
 * mcpwatch_overload_rejects_total). The source IP is req.ip: behind a load balancer listed in config
 * trustProxy, the client named by X-Forwarded-For; otherwise the socket peer.
 */
import { createHash } from 'node:crypto';
import { getHeapStatistics } from 'node:v8';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CollectorConfig } from './config.js';
import { Errors } from './errors.js';
import type { CollectorMetrics } from './metrics.js';

export type AuthFailureKind = 'token' | 'enroll' | 'agent';

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

/** Routes under-pressure never sheds: liveness, readiness and the metrics that explain the pressure. */
const ALWAYS_SERVED = new Set(['/healthz', '/readyz', '/metrics']);
/** Most source IPs / secrets / keys remembered per limiter (least recently used forgotten). */
const MAX_KEYS = 100_000;
/** Consecutive sample intervals over pressureMaxEventLoopDelayMs before requests are shed. */
const SUSTAINED_INTERVALS = 3;

declare module 'fastify' {
  interface FastifyInstance {
    abuseGuard: AbuseGuard;
  }
}

/** The per-app guard; routes call it (see module comment). */
export class AbuseGuard {
  private readonly agentsPerKey = new Map<string, number>();

  constructor(
    private readonly failures: Record<AuthFailureKind, Limiter>,
    private readonly enrollPerSecret: Limiter,
    private readonly enrollGlobal: Limiter,
    private readonly config: CollectorConfig,
    private readonly metrics: CollectorMetrics,
  ) {}

  /** 429 when this source IP has used up its failed-authentication budget of `kind`. */
  async refuseIfOverFailureBudget(req: FastifyRequest, kind: AuthFailureKind): Promise<void> {
    const r = await this.failures[kind](req, { increment: false });
    if (!r.isAllowed && r.remaining <= 0) {
      this.metrics.throttled.inc({ reason: `auth-failures-${kind}` });
      throw Errors.rateLimited(`too many failed authentications from this address; retry in ${Math.max(1, r.ttlInSeconds)} s`, {
        retryAfterS: Math.max(1, r.ttlInSeconds),
      });
    }
  }

  /**
   * Counts one failed authentication of `kind` from this source IP. Returns a 429 error to throw
   * instead of the failure's own when the IP is over its budget (used for `agent`), else null.
   */
  async recordFailure(req: FastifyRequest, kind: AuthFailureKind): Promise<ReturnType<typeof Errors.rateLimited> | null> {
    this.metrics.authFailures.inc({ kind });
    const r = await this.failures[kind](req);
    if (!r.isAllowed && r.isExceeded) {
      this.metrics.throttled.inc({ reason: `auth-failures-${kind}` });
      return Errors.rateLimited(`too many failed authentications from this address; retry in ${Math.max(1, r.ttlInSeconds)} s`, {
        retryAfterS: Math.max(1, r.ttlInSeconds),
      });
    }
    return null;
  }

  /** Spends one enrollment of `secretName` and of the collector; 429 + Retry-After over either cap. */
  async takeEnrollment(req: FastifyRequest, secretName: string): Promise<void> {
    req.enrollSecretName = secretName;
    const perSecret = await this.enrollPerSecret(req);
    if (!perSecret.isAllowed && perSecret.isExceeded) {
      this.metrics.throttled.inc({ reason: 'enroll-per-secret' });
      throw Errors.rateLimited(`enroll secret "${secretName}" is over ${this.config.enrollLimitPerSecret} enrollments per ${this.config.enrollWindowS} s`, {
        retryAfterS: Math.max(1, perSecret.ttlInSeconds),
      });
    }
    const global = await this.enrollGlobal(req);
    if (!global.isAllowed && global.isExceeded) {
      this.metrics.throttled.inc({ reason: 'enroll-global' });
      throw Errors.rateLimited(`the collector is over ${this.config.enrollLimitGlobal} enrollments per ${this.config.enrollWindowS} s`, {
        retryAfterS: Math.max(1, global.ttlInSeconds),
      });
    }
  }

  /** Counts a new agent id for `publicKeyPem`; 409 MCPW_ERR_KEY_REUSED past enrollMaxAgentsPerKey. */
  takePublicKey(publicKeyPem: string): void {
    const k = createHash('sha256').update(publicKeyPem.replace(/\s+/g, '')).digest('hex');
    const n = this.agentsPerKey.get(k) ?? 0;
    if (n >= this.config.enrollMaxAgentsPerKey) {
      this.metrics.throttled.inc({ reason: 'enroll-key-reused' });
      throw Errors.keyReused(`this public key is already enrolled under ${n} agent ids (limit ${this.config.enrollMaxAgentsPerKey}); make a new key pair`);
    }
    this.agentsPerKey.delete(k);
    if (this.agentsPerKey.size >= MAX_KEYS) {
      const oldest = this.agentsPerKey.keys().next().value;
      if (oldest !== undefined) this.agentsPerKey.delete(oldest);
    }
    this.agentsPerKey.set(k, n + 1);
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    enrollSecretName?: string;
  }
}

/**
 * Registers @fastify/rate-limit (no global limit: only the limiters below) and
 * @fastify/under-pressure on the root instance, and decorates `app.abuseGuard`.
 */
export async function installAbuseGuard(app: FastifyInstance, config: CollectorConfig, metrics: CollectorMetrics): Promise<void> {
  await app.register(rateLimit, { global: false });
  const { normalizeIP } = rateLimit as unknown as { normalizeIP: (ip: string) => string };
  const failureWindowMs = config.authFailureWindowS * 1000;
  const limiter = (max: number, timeWindow: number, key: (req: FastifyRequest) => string): Limiter =>
    app.createRateLimit({ max, timeWindow, keyGenerator: key, cache: MAX_KEYS } as Parameters<FastifyInstance['createRateLimit']>[0]);
  const byIp = (kind: string) => (req: FastifyRequest) => `${kind}|${normalizeIP(req.ip)}`;
  const guard = new AbuseGuard(
    {
      token: limiter(config.authFailureLimit, failureWindowMs, byIp('token')),
      enroll: limiter(config.authFailureLimit, failureWindowMs, byIp('enroll')),
      agent: limiter(config.unknownAgentLimit, failureWindowMs, byIp('agent')),
    },
    limiter(config.enrollLimitPerSecret, config.enrollWindowS * 1000, (req) => `secret|${req.enrollSecretName ?? ''}`),
    limiter(config.enrollLimitGlobal, config.enrollWindowS * 1000, () => 'global'),
    config,
    metrics,
  );
  app.decorate('abuseGuard', guard);
  app.decorateRequest('enrollSecretName', undefined);

  let overIntervals = 0;
  const maxHeapUsedBytes = config.pressureMaxHeapUsedBytes > 0 ? config.pressureMaxHeapUsedBytes : Math.floor(getHeapStatistics().heap_size_limit * 0.9);
  await app.register(underPressure, {
    maxEventLoopDelay: config.pressureMaxEventLoopDelayMs,
    maxHeapUsedBytes,
    sampleInterval: config.pressureSampleIntervalMs,
    pressureHandler: (req, _reply, type) => {
      if (ALWAYS_SERVED.has(req.routeOptions.url ?? '')) return undefined;
      let shedAs: string | null = type;
      if (type === 'eventLoopDelay' && overIntervals < SUSTAINED_INTERVALS) {
        // One slow interval is not overload; heap is still checked (under-pressure stops at the first type).
        shedAs = app.memoryUsage().heapUsed > maxHeapUsedBytes ? 'heapUsedBytes' : null;
      }
      if (shedAs === null) return undefined;
      metrics.overloadRejects.inc({ type: shedAs });
      return Promise.reject(Errors.overloaded(`the collector is overloaded (${shedAs}); retry later`, { retryAfterS: 5 }));
    },
  });
  // Event-loop delay counts only when sustained: under-pressure judges one interval's mean, and one
  // long synchronous task (a GC pause, a key generation) makes a single interval look saturated (an
  // interval with no delay sample at all reads as Infinity). Shed only after SUSTAINED_INTERVALS
  // consecutive intervals over the bound. (A blocked loop runs this timer once per block.)
  const sustain = setInterval(() => {
    const delay = app.memoryUsage().eventLoopDelay;
    overIntervals = config.pressureMaxEventLoopDelayMs > 0 && delay > config.pressureMaxEventLoopDelayMs ? overIntervals + 1 : 0;
  }, config.pressureSampleIntervalMs);
  sustain.unref();
  app.addHook('onClose', async () => clearInterval(sustain));
}
