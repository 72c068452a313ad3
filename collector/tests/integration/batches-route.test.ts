import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { Errors } from '../../src/errors.js';
import { failing, makeFixture, type Fixture } from '../support/collector-fixture.js';
import { engineCases } from '../support/pg.js';
import { event, finding, hostInfo, snapshot } from '../support/store-fixtures.js';
import { type TestAgent, type WireResponse } from '@mcpwatch/testkit';

function expectError(res: WireResponse, status: number, code: string, message?: RegExp): void {
  expect({ status: res.status, code: (res.json as { code?: string })?.code }).toEqual({ status, code });
  if (message) expect((res.json as { message: string }).message).toMatch(message);
}

describe.each(await engineCases())('POST /v1/batches (%s store)', (engine) => {
  let fx: Fixture;
  let agent: TestAgent;

  beforeAll(async () => {
    fx = await makeFixture({ engine, overrides: { maxBodyBytes: 256 * 1024, maxInflatedBytes: 1024 * 1024, rateLimitPerAgentPerS: 1000, rateLimitBurst: 1000 } });
    agent = await fx.enroll();
  });
  afterAll(async () => fx.close());

  test('accepts a signed batch and acks its seq', async () => {
    const res = await agent.sendEvents(10);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ acked: 1, settings: {} });
    // Pre-serialized (routes/batches.ts): the bytes and type Fastify gives for the object.
    expect(res.body).toBe(JSON.stringify({ acked: 1, settings: {} }));
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(agent.nextSeq).toBe(2);
    expect(fx.app.collector.metrics.eventsAccepted.get()).toBeGreaterThanOrEqual(10);
  });

  test('replay: the same batch again gets the same ack and stores nothing twice', async () => {
    const p = agent.prepare(agent.events(5));
    const first = await agent.send(p);
    const before = fx.app.collector.metrics.eventsAccepted.get();
    const again = await agent.send(p);
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.json).toEqual(first.json);
    expect(fx.app.collector.metrics.eventsAccepted.get()).toBe(before);
    expect(fx.app.collector.metrics.batchesDuplicate.get()).toBeGreaterThanOrEqual(1);
  });

  test('a different batch under a used seq is 409', async () => {
    const used = agent.nextSeq - 1;
    const res = await agent.sendEvents(3, { seq: used });
    expectError(res, 409, 'MCPW_ERR_SEQ_CONFLICT', new RegExp(`seq ${used}`));
  });

  test.each([
    ['forged signature', { forgeSignature: true }],
    ['bytes changed after signing', { tamperAfterSigning: true }],
    ['no signature header', { omitSignature: true }],
  ])('%s is 401 MCPW_ERR_SIGNATURE_INVALID and loses nothing', async (_what, knobs) => {
    const seq = agent.nextSeq;
    expectError(await agent.sendEvents(2, knobs), 401, 'MCPW_ERR_SIGNATURE_INVALID');
    expect(agent.nextSeq).toBe(seq);
    expect((await agent.sendEvents(2)).status).toBe(200);
  });

  test('unknown agent is 401', async () => {
    const res = await agent.sendEvents(1, { headerAgentId: 'ag_nobody', bodyAgentId: 'ag_nobody' });
    expectError(res, 401, 'MCPW_ERR_UNKNOWN_AGENT');
  });

  test.each([
    ['ahead', 301_000],
    ['behind', -301_000],
  ])('timestamp %s of the window is 401 MCPW_ERR_TIMESTAMP_SKEW', async (_what, skewMs) => {
    expectError(await agent.sendEvents(1, { skewMs }), 401, 'MCPW_ERR_TIMESTAMP_SKEW', /301 s from the collector clock/);
    expect((await agent.sendEvents(1, { skewMs: Math.sign(skewMs) * 299_000 })).status).toBe(200);
  });

  test('zip bomb (inflates past maxInflatedBytes) is 413 before any parsing', async () => {
    const bomb = gzipSync(Buffer.alloc(4 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(256 * 1024);
    expectError(await agent.sendEvents(1, { rawBody: bomb }), 413, 'MCPW_ERR_TOO_LARGE', /inflates past/);
  });

  test('body over maxBodyBytes is 413', async () => {
    expectError(await agent.sendEvents(1, { rawBody: randomBytes(300 * 1024) }), 413, 'MCPW_ERR_TOO_LARGE');
  });

  test.each([
    ['text/plain content type', { contentType: 'text/plain' }],
    ['application/gzip content type', { contentType: 'application/gzip' }],
    ['no Content-Encoding', { contentEncoding: null }],
    ['Content-Encoding br', { contentEncoding: 'br' }],
  ])('%s is 415', async (_what, knobs) => {
    expectError(await agent.sendEvents(1, knobs as never), 415, 'MCPW_ERR_CONTENT_TYPE');
  });

  test('malformed gzip is 400 with the reason', async () => {
    expectError(await agent.sendEvents(1, { rawBody: Buffer.from('this is not gzip') }), 400, 'MCPW_ERR_MALFORMED', /not valid gzip/);
  });

  test('malformed JSON is 400 with the reason', async () => {
    expectError(await agent.sendEvents(1, { jsonText: '{"agentId": "x", ' }), 400, 'MCPW_ERR_MALFORMED', /not valid JSON/);
  });

  test.each([
    ['an event missing a required field', (a: TestAgent) => {
      const [e] = a.events(1);
      delete (e as { data: Record<string, unknown> }).data.name;
      return JSON.stringify({ agentId: a.agentId, seq: a.nextSeq, prevHash: a.prevHash, sentAt: 'now', events: [e] });
    }, /events\/0\/data must have required property 'name'/],
    ['an unknown event type', (a: TestAgent) => {
      const [e] = a.events(1);
      return JSON.stringify({ agentId: a.agentId, seq: a.nextSeq, prevHash: a.prevHash, sentAt: 'now', events: [{ ...e, type: 'server.exploded' }] });
    }, /events\/0/],
    ['a bad prevHash', (a: TestAgent) => JSON.stringify({ agentId: a.agentId, seq: a.nextSeq, prevHash: 'zz', sentAt: 'now', events: [] }), /prevHash must match pattern/],
    ['no events array', (a: TestAgent) => JSON.stringify({ agentId: a.agentId, seq: a.nextSeq, prevHash: a.prevHash, sentAt: 'now' }), /must have required property 'events'/],
  ])('schema violation (%s) is 400 MCPW_ERR_SCHEMA naming it', async (_what, build, message) => {
    expectError(await agent.sendEvents(0, { jsonText: build(agent) }), 400, 'MCPW_ERR_SCHEMA', message);
  });

  test('seq in header and body must agree', async () => {
    expectError(await agent.sendEvents(1, { headerSeq: agent.nextSeq + 5 }), 400, 'MCPW_ERR_HEADER_MISMATCH', /body seq/);
  });

  test('agent id in header and body must agree', async () => {
    expectError(await agent.sendEvents(1, { bodyAgentId: 'ag_someone_else' }), 400, 'MCPW_ERR_HEADER_MISMATCH', /agentId/);
  });

  test('events for another endpoint are refused', async () => {
    const events = agent.events(2);
    events[1] = { ...events[1]!, endpointId: 'ep_other' };
    expectError(await agent.sendEvents(events), 400, 'MCPW_ERR_ENDPOINT_MISMATCH', /events\/1/);
  });

  test.each([
    ['finding.raised', 'tool-fleet-divergence'],
    ['finding.resolved', 'tool-call-burst'],
    ['inventory.snapshot', 'first-use-high-risk-tool'],
  ])('a %s carrying a finding of collector-owned rule %s is refused and stores nothing', async (type, ruleId) => {
    const forgedFinding = finding(ruleId, 'high');
    const forged = type === 'inventory.snapshot'
      ? snapshot(agent.endpointId, hostInfo(), { findings: [forgedFinding] })
      : event(type as 'finding.raised', agent.endpointId, forgedFinding);
    const before = fx.app.collector.metrics.eventsAccepted.get();
    expectError(await agent.sendEvents([forged]), 400, 'MCPW_ERR_RESERVED_RULE', new RegExp(`events/0 .*${ruleId}`));
    expect(fx.app.collector.metrics.eventsAccepted.get()).toBe(before);
  });

  test.each([
    ['no agent header', { 'x-mcpwatch-agent': undefined }],
    ['a non-numeric seq', { 'x-mcpwatch-seq': 'one' }],
    ['seq 0', { 'x-mcpwatch-seq': '0' }],
  ])('%s is 400', async (_what, patch) => {
    const p = agent.prepare(agent.events(1));
    const headers = { ...p.headers, ...patch } as Record<string, string>;
    for (const k of Object.keys(headers)) if (headers[k] === undefined) delete headers[k];
    expectError(await agent.send({ ...p, headers }), 400, 'MCPW_ERR_MALFORMED');
  });

  test('a seq gap is accepted and counted (recorded by the store as a gap event)', async () => {
    const gaps = fx.app.collector.metrics.chainBreaks.get({ kind: 'gap' });
    const res = await agent.sendEvents(1, { seq: agent.nextSeq + 2 });
    expect(res.status).toBe(200);
    expect(fx.app.collector.metrics.chainBreaks.get({ kind: 'gap' })).toBe(gaps + 1);
    agent.nextSeq = (res.json as { acked: number }).acked + 1;
  });

  test('rejects are counted by reason in /metrics', async () => {
    const res = await fx.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.body).toMatch(/mcpwatch_batch_rejects_total\{reason="MCPW_ERR_SIGNATURE_INVALID"\} [3-9]/);
    expect(res.body).toMatch(/mcpwatch_batch_rejects_total\{reason="MCPW_ERR_CONTENT_TYPE"\} 4/);
    expect(res.body).toMatch(/mcpwatch_batch_duration_seconds_count [1-9]/);
  });
});

describe('revocation, rate limit and store failures', () => {
  test('a revoked agent gets 403 (at once after invalidate; elsewhere within the cache TTL)', async () => {
    const fx = await makeFixture({ overrides: { agentCacheTtlMs: 5000 } });
    try {
      const a = await fx.enroll();
      const b = await fx.enroll();
      expect((await a.sendEvents(1)).status).toBe(200);
      expect((await b.sendEvents(1)).status).toBe(200);
      await fx.store.setAgentRevoked(a.agentId, true);
      await fx.store.setAgentRevoked(b.agentId, true);
      fx.app.collector.agentCache.invalidate(a.agentId);
      expectError(await a.sendEvents(1), 403, 'MCPW_ERR_AGENT_REVOKED');
      fx.clock.nowMs += 5001;
      expectError(await b.sendEvents(1), 403, 'MCPW_ERR_AGENT_REVOKED');
      await fx.store.setAgentRevoked(a.agentId, false);
      fx.app.collector.agentCache.invalidate(a.agentId);
      expect((await a.sendEvents(1)).status).toBe(200);
    } finally {
      await fx.close();
    }
  });

  test('an agent whose certificate has expired gets 401 MCPW_ERR_CERT_EXPIRED and nothing is stored', async () => {
    const fx = await makeFixture({ overrides: { agentCertValidityDays: 1 } });
    try {
      const a = await fx.enroll();
      expect((await a.sendEvents(2)).status).toBe(200);
      const notAfter = (await fx.store.getAgent(a.agentId))!.certNotAfter;
      const stored = async () => (await fx.store.listEvents({ endpointId: a.endpointId, limit: 1000 })).items.length;
      const before = await stored();
      expect(before).toBe(2);

      fx.clock.nowMs = Date.parse(notAfter) + 1; // the collector clock moves past the certificate's notAfter
      const seq = a.nextSeq;
      expectError(await a.sendEvents(3), 401, 'MCPW_ERR_CERT_EXPIRED', new RegExp(`expired at ${notAfter.replace(/[.]/g, '[.]')}.*enroll again`));
      expect(a.nextSeq).toBe(seq);
      expect(await stored()).toBe(before);
      expect((await fx.app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/mcpwatch_batch_rejects_total\{reason="MCPW_ERR_CERT_EXPIRED"\} 1/);

      // a fresh enrollment at the new time is accepted again
      const renewed = await fx.enroll();
      expect((await renewed.sendEvents(1)).status).toBe(200);
    } finally {
      await fx.close();
    }
  });

  test('per-agent rate limit: 429 with Retry-After, then accepted again', async () => {
    const fx = await makeFixture({ overrides: { rateLimitPerAgentPerS: 1, rateLimitBurst: 2 } });
    try {
      const a = await fx.enroll();
      const other = await fx.enroll();
      expect((await a.sendEvents(1)).status).toBe(200);
      expect((await a.sendEvents(1)).status).toBe(200);
      const limited = await a.sendEvents(1);
      expectError(limited, 429, 'MCPW_ERR_RATE_LIMITED');
      expect(limited.headers['retry-after']).toBe('1');
      expect((await other.sendEvents(1)).status).toBe(200);
      fx.clock.nowMs += 1000;
      expect((await a.sendEvents(1)).status).toBe(200);
    } finally {
      await fx.close();
    }
  });

  test.each([
    ['ingest fails with a coded store error', ['ingestBatch'] as const, () => Errors.storeUnavailable('db down', { retryAfterS: 2 }), '2'],
    ['agent lookup fails with a raw driver error', ['getAgent'] as const, () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), '5'],
  ])('store unavailable (%s) is 503 + Retry-After, and the batch is accepted once it is back', async (_what, methods, error, retryAfter) => {
    let wrapped: ReturnType<typeof failing> | undefined;
    const fx = await makeFixture({ wrapStore: (s) => (wrapped = failing(s, methods, error)) });
    try {
      wrapped!.healthy = true;
      const a = await fx.enroll();
      wrapped!.healthy = false;
      const p = a.prepare(a.events(3));
      const res = await a.send(p);
      expectError(res, 503, 'MCPW_ERR_STORE_UNAVAILABLE');
      expect(res.headers['retry-after']).toBe(retryAfter);
      expect((res.json as { message: string }).message).not.toMatch(/ECONNREFUSED.*at /);
      wrapped!.healthy = true;
      expect((await a.send(p)).json).toMatchObject({ acked: 1 });
    } finally {
      await fx.close();
    }
  });
});
