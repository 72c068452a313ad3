/**
 * Issue 10 item 13: failed authentication is throttled per source address (admin/query tokens,
 * enroll secrets, unknown agents), enrollment is capped per secret and globally, one key cannot
 * be enrolled under many agent ids, the process sheds load under pressure, and all of it shows in
 * /metrics. Successes are never throttled. Real app and store (inject, with source addresses).
 */
import type { FastifyInstance } from 'fastify';
import { ENROLL_SECRET, makeFixture, type Fixture } from '../support/collector-fixture.js';
import { enrollRequest, injectTransport, makeKeyPair, pooledKeyPair, TestAgent, type Transport } from '@mcpwatch/testkit';

const ADMIN = 'admin-token-0123456789';

function from(app: FastifyInstance, ip: string): Transport {
  return injectTransport({ inject: (o) => app.inject({ ...o, remoteAddress: ip }) });
}

async function get(app: FastifyInstance, url: string, ip: string, token: string): Promise<{ status: number; retryAfter: unknown; code: unknown }> {
  const r = await app.inject({ method: 'GET', url, remoteAddress: ip, headers: { authorization: `Bearer ${token}` } });
  return { status: r.statusCode, retryAfter: r.headers['retry-after'], code: (r.json() as { code?: string }).code };
}

async function metric(app: FastifyInstance, line: RegExp): Promise<number> {
  const body = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const m = new RegExp(`^${line.source} (\\d+)$`, 'm').exec(body);
  return m ? Number(m[1]) : 0;
}

describe('failed authentication is throttled per source address', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await makeFixture({
      overrides: { adminToken: ADMIN, authFailureLimit: 5, unknownAgentLimit: 4, rateLimitPerAgentPerS: 0, enrollSecrets: `fleet:${ENROLL_SECRET},other:other-secret-0123456789` },
    });
  });
  afterAll(async () => fx.close());

  test('wrong admin/query tokens: 401 up to the limit, then 429 + Retry-After even for the right token; other addresses unaffected', async () => {
    const ip = '198.51.100.7';
    for (let i = 0; i < 5; i++) expect((await get(fx.app, '/v1/agents', ip, `wrong-token-${i}-xxxxxxxx`)).status).toBe(401);
    const over = await get(fx.app, '/v1/endpoints', ip, 'wrong-token-again-xxxx');
    expect(over.status).toBe(429);
    expect(over.code).toBe('MCPW_ERR_RATE_LIMITED');
    expect(Number(over.retryAfter)).toBeGreaterThan(0);
    // Checked before the token: a right guess from the throttled address learns nothing.
    expect((await get(fx.app, '/v1/agents', ip, ADMIN)).status).toBe(429);
    expect((await get(fx.app, '/v1/agents', '198.51.100.8', ADMIN)).status).toBe(200);
    expect(await metric(fx.app, /mcpwatch_auth_failures_total\{kind="token"\}/)).toBeGreaterThanOrEqual(5);
    expect(await metric(fx.app, /mcpwatch_throttled_total\{reason="auth-failures-token"\}/)).toBeGreaterThanOrEqual(2);
  });

  test('successful requests are never throttled', async () => {
    const ip = '198.51.100.9';
    for (let i = 0; i < 40; i++) expect((await get(fx.app, '/v1/agents', ip, ADMIN)).status).toBe(200);
  });

  test('wrong enroll secrets: 401 up to the limit, then 429 for that address (also with the right secret)', async () => {
    const t = from(fx.app, '203.0.113.5');
    for (let i = 0; i < 5; i++) {
      expect((await enrollRequest(t, { enrollSecret: `guess-${i}-0123456789`, keys: pooledKeyPair(0) })).response.status).toBe(401);
    }
    const over = (await enrollRequest(t, { enrollSecret: 'guess-x-0123456789', keys: pooledKeyPair(0) })).response;
    expect(over.status).toBe(429);
    expect(over.headers['retry-after']).toBeDefined();
    expect((await enrollRequest(t, { enrollSecret: ENROLL_SECRET, keys: pooledKeyPair(0) })).response.status).toBe(429);
    expect((await enrollRequest(from(fx.app, '203.0.113.6'), { enrollSecret: ENROLL_SECRET, keys: pooledKeyPair(1) })).response.status).toBe(200);
    expect(await metric(fx.app, /mcpwatch_auth_failures_total\{kind="enroll"\}/)).toBeGreaterThanOrEqual(5);
  });

  test('batches from unknown agents: 401 up to the limit, then 429; a known agent at the same address is still served', async () => {
    const ip = '192.0.2.44';
    const t = from(fx.app, ip);
    const now = (): number => fx.clock.nowMs;
    const known = await TestAgent.enroll(t, { enrollSecret: ENROLL_SECRET, keys: pooledKeyPair(2), now });
    const ghost = await TestAgent.enroll(from(fx.app, '192.0.2.99'), { enrollSecret: ENROLL_SECRET, keys: pooledKeyPair(3) });
    // The ghost's batches claim an agent id the collector does not know, sent from `ip`.
    const ghostAt = new TestAgent(t, 'ag_unknown0000000000000000', ghost.endpointId, pooledKeyPair(3), '', '', {}, ghost.host, now);
    for (let i = 0; i < 4; i++) expect((await ghostAt.sendEvents(1)).status).toBe(401);
    const over = await ghostAt.sendEvents(1);
    expect(over.status).toBe(429);
    expect(over.headers['retry-after']).toBeDefined();
    for (let i = 0; i < 10; i++) expect((await known.sendEvents(2)).status).toBe(200);
    expect(await metric(fx.app, /mcpwatch_auth_failures_total\{kind="agent"\}/)).toBeGreaterThanOrEqual(5);
  });
});

describe('behind a trusted load balancer', () => {
  test('failures are counted per client named by X-Forwarded-For, not per balancer', async () => {
    const fx = await makeFixture({ overrides: { adminToken: ADMIN, authFailureLimit: 2, trustProxy: '10.0.0.0/8' } });
    try {
      const viaLb = async (client: string, token: string): Promise<number> =>
        (await fx.app.inject({ method: 'GET', url: '/v1/agents', remoteAddress: '10.1.2.3', headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': client } })).statusCode;
      for (let i = 0; i < 2; i++) expect(await viaLb('198.51.100.20', 'wrong-token-xxxxxxxx')).toBe(401);
      expect(await viaLb('198.51.100.20', 'wrong-token-xxxxxxxx')).toBe(429);
      // Another client behind the same balancer is not held back by the first one's failures.
      expect(await viaLb('198.51.100.21', ADMIN)).toBe(200);
      expect(await viaLb('198.51.100.21', 'wrong-token-xxxxxxxx')).toBe(401);
    } finally {
      await fx.close();
    }
  });
});

describe('enrollment is capped', () => {
  test('per secret and globally per window (429 + Retry-After), counted in metrics', async () => {
    const fx = await makeFixture({
      overrides: { enrollLimitPerSecret: 3, enrollLimitGlobal: 5, enrollSecrets: `fleet:${ENROLL_SECRET},other:other-secret-0123456789` },
    });
    try {
      const t = fx.transport;
      for (let i = 0; i < 3; i++) expect((await enrollRequest(t, { enrollSecret: ENROLL_SECRET, keys: pooledKeyPair(i) })).response.status).toBe(200);
      const perSecret = (await enrollRequest(t, { enrollSecret: ENROLL_SECRET, keys: pooledKeyPair(3) })).response;
      expect(perSecret.status).toBe(429);
      expect(perSecret.json).toMatchObject({ code: 'MCPW_ERR_RATE_LIMITED' });
      expect(Number(perSecret.headers['retry-after'])).toBeGreaterThan(0);
      // Another secret still enrolls, until the collector-wide cap.
      for (let i = 0; i < 2; i++) expect((await enrollRequest(t, { enrollSecret: 'other-secret-0123456789', keys: pooledKeyPair(i) })).response.status).toBe(200);
      const global = (await enrollRequest(t, { enrollSecret: 'other-secret-0123456789', keys: pooledKeyPair(2) })).response;
      expect(global.status).toBe(429);
      expect(global.json).toMatchObject({ message: expect.stringMatching(/collector/) });
      expect(await metric(fx.app, /mcpwatch_throttled_total\{reason="enroll-per-secret"\}/)).toBe(1);
      expect(await metric(fx.app, /mcpwatch_throttled_total\{reason="enroll-global"\}/)).toBe(1);
    } finally {
      await fx.close();
    }
  });

  test('one public key is enrolled under at most enrollMaxAgentsPerKey agent ids (409); a new key enrolls', async () => {
    const fx = await makeFixture({ overrides: { enrollMaxAgentsPerKey: 2 } });
    try {
      const keys = makeKeyPair();
      for (let i = 0; i < 2; i++) expect((await enrollRequest(fx.transport, { enrollSecret: ENROLL_SECRET, keys })).response.status).toBe(200);
      const reused = (await enrollRequest(fx.transport, { enrollSecret: ENROLL_SECRET, keys })).response;
      expect(reused.status).toBe(409);
      expect(reused.json).toMatchObject({ code: 'MCPW_ERR_KEY_REUSED' });
      expect((await enrollRequest(fx.transport, { enrollSecret: ENROLL_SECRET, keys: pooledKeyPair(0) })).response.status).toBe(200);
    } finally {
      await fx.close();
    }
  });
});

describe('load shedding under pressure', () => {
  test('over the heap bound: 503 MCPW_ERR_OVERLOADED + Retry-After; /healthz, /readyz and /metrics still answer', async () => {
    const fx = await makeFixture({ overrides: { pressureMaxHeapUsedBytes: 1, pressureSampleIntervalMs: 100, pressureMaxEventLoopDelayMs: 0 } });
    try {
      // Wait (on the condition, not a fixed time) for the first heap sample to be taken.
      let res = await fx.app.inject({ method: 'GET', url: '/v1/endpoints' });
      while (res.statusCode !== 503) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        res = await fx.app.inject({ method: 'GET', url: '/v1/endpoints' });
      }
      expect(res.json()).toMatchObject({ code: 'MCPW_ERR_OVERLOADED' });
      expect(res.headers['retry-after']).toBeDefined();
      expect((await enrollRequest(fx.transport, { enrollSecret: ENROLL_SECRET, keys: pooledKeyPair(0) })).response.status).toBe(503);
      expect((await fx.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      expect((await fx.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      expect(await metric(fx.app, /mcpwatch_overload_rejects_total\{type="heapUsedBytes"\}/)).toBeGreaterThanOrEqual(2);
    } finally {
      await fx.close();
    }
  });

  /** Holds the event loop (the stimulus: a long synchronous task), then lets timers run once. */
  async function blockLoop(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      // busy: a synchronous task
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
    await new Promise((resolve) => setImmediate(resolve));
  }

  test('one slow event-loop interval is not overload; the delay sustained over several intervals is', async () => {
    const fx = await makeFixture({ overrides: { pressureMaxEventLoopDelayMs: 100, pressureSampleIntervalMs: 100 } });
    try {
      // A single long task: under-pressure's sample reads it as saturated, requests are still served.
      await blockLoop(400);
      while (fx.app.memoryUsage().eventLoopDelay <= 100) await blockLoop(400);
      expect((await fx.app.inject({ method: 'GET', url: '/v1/endpoints' })).statusCode).not.toBe(503);
      // Saturated interval after interval: shed with 503 + Retry-After.
      let res = await fx.app.inject({ method: 'GET', url: '/v1/endpoints' });
      for (let i = 0; i < 50 && res.statusCode !== 503; i++) {
        await blockLoop(300);
        res = await fx.app.inject({ method: 'GET', url: '/v1/endpoints' });
      }
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'MCPW_ERR_OVERLOADED' });
      expect(res.headers['retry-after']).toBeDefined();
      expect((await fx.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await fx.close();
    }
  }, 30_000);
});
