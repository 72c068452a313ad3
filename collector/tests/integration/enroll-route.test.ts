import { X509Certificate } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createStore } from '../../src/store/index.js';
import { ENROLL_SECRET, useFixture } from '../support/collector-fixture.js';
import { loadCaForTests } from '../support/ca-cache.js';
import { craftedCsr } from '../support/crafted-csr.js';
import { engineCases } from '../support/pg.js';
import { enrollRequest, injectTransport, makeKeyPair, pooledKeyPair, TestAgent } from '@mcpwatch/testkit';

describe.each(await engineCases())('POST /v1/enroll (%s store)', (engine) => {
  const fx = useFixture({ engine });

  test('issues a certificate naming the agent id, chained to the CA, with settings', async () => {
    const agent = await fx.enroll();
    expect(agent.agentId).toMatch(/^ag_[0-9a-z]{26}$/);
    const cert = new X509Certificate(agent.certificate);
    expect(cert.subject).toContain(`CN=${agent.agentId}`);
    expect(cert.checkIssued(new X509Certificate(agent.caCertificate))).toBe(true);
    expect(cert.publicKey.export({ type: 'spki', format: 'pem' })).toBe(agent.keys.publicKeyPem);
    expect(agent.settings).toEqual({});
    const row = await fx.store.getAgent(agent.agentId);
    expect(row?.endpointId).toBe(agent.endpointId);
  });

  test.each([
    ['no Authorization header', undefined],
    ['an unknown secret', 'not-the-secret-at-all'],
  ])('%s is 401 MCPW_ERR_ENROLL_SECRET', async (_what, secret) => {
    const { response } = await enrollRequest(
      secret === undefined
        ? async (req) => fx.transport({ ...req, headers: { 'content-type': 'application/json' } })
        : fx.transport,
      { enrollSecret: secret ?? '', keys: pooledKeyPair(0) },
    );
    expect(response.status).toBe(401);
    expect((response.json as { code: string }).code).toBe('MCPW_ERR_ENROLL_SECRET');
  });

  test('a revoked enroll secret is refused; other secrets keep working', async () => {
    const config = loadConfig({ overrides: { dataDir: fx.dataDir, tls: 'off', enrollSecrets: `old:old-secret-123456,new:new-secret-123456` } });
    // (a second app on the same store: what a restart, or a second collector process, sees)
    const app = await buildApp(config, { store: fx.store, logger: false, ca: loadCaForTests() });
    try {
      const t = injectTransport(app);
      expect((await enrollRequest(t, { enrollSecret: 'old-secret-123456', keys: pooledKeyPair(0) })).response.status).toBe(200);
      expect(await fx.store.revokeEnrollSecret('old')).toBe(true);
      const refused = (await enrollRequest(t, { enrollSecret: 'old-secret-123456', keys: pooledKeyPair(0) })).response;
      expect(refused.status).toBe(401);
      expect((refused.json as { code: string }).code).toBe('MCPW_ERR_ENROLL_SECRET');
      expect((await enrollRequest(t, { enrollSecret: 'new-secret-123456', keys: pooledKeyPair(0) })).response.status).toBe(200);
    } finally {
      await app.close();
    }
    // A restart with the same configuration does not resurrect the revoked secret.
    const again = await buildApp(config, { store: fx.store, logger: false, ca: loadCaForTests() });
    try {
      expect((await enrollRequest(injectTransport(again), { enrollSecret: 'old-secret-123456', keys: pooledKeyPair(0) })).response.status).toBe(401);
    } finally {
      await again.close();
    }
  });

  test('a configured secret whose name is taken by a different secret stops the start, naming the key', async () => {
    const config = loadConfig({ overrides: { dataDir: fx.dataDir, tls: 'off', enrollSecrets: `fleet:a-different-secret-1` } });
    await expect(buildApp(config, { store: fx.store, logger: false, ca: loadCaForTests() })).rejects.toThrow(
      /enrollSecrets: a different secret named "fleet"/,
    );
  });

  test.each([
    ['a CSR that is not PEM', 'x'.repeat(200), 'MCPW_ERR_CSR_INVALID', /does not parse/],
    ['a 1024-bit key', undefined, 'MCPW_ERR_CSR_INVALID', /at least 2048/],
    // Issue 10 item 11: bounded before node-forge's verify (which would spin for minutes).
    ['a 16384-bit key', craftedCsr({ modulusBits: 16384, exponent: 65537n }), 'MCPW_ERR_CSR_INVALID', /at most 4096 bits/],
    ['a huge public exponent', craftedCsr({ modulusBits: 4096, exponent: (1n << 4000n) + 1n }), 'MCPW_ERR_CSR_INVALID', /exponent/],
  ])('%s is 400', async (_what, csr, code, message) => {
    const opts = csr ? { enrollSecret: ENROLL_SECRET, csr } : { enrollSecret: ENROLL_SECRET, keys: makeKeyPair(1024) };
    const { response } = await enrollRequest(fx.transport, opts);
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ code });
    expect((response.json as { message: string }).message).toMatch(message);
  });

  test('a body that does not match the schema is 400 MCPW_ERR_SCHEMA', async () => {
    const res = await fx.transport({
      method: 'POST',
      path: '/v1/enroll',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ENROLL_SECRET}` },
      body: JSON.stringify({ csr: 'x'.repeat(200), agentVersion: '1' }),
    });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: 'MCPW_ERR_SCHEMA' });
    expect((res.json as { message: string }).message).toMatch(/host/);
  });

  test('re-enrolling the same machine keeps its endpoint; a new agent id and key', async () => {
    const host = { hostname: 'laptop-7', hardwareUuid: 'HW-SAME-0001' };
    const first = await fx.enroll(host);
    const second = await fx.enroll(host);
    expect(second.agentId).not.toBe(first.agentId);
    expect(second.endpointId).toBe(first.endpointId);
    expect((await second.sendEvents(2)).status).toBe(200);
  });

  test('two machines claiming the same hardware UUID are kept apart and the newcomer is flagged', async () => {
    const flaggedBefore = fx.app.collector.metrics.enrollments.get({ outcome: 'flagged-duplicate' });
    const original = await fx.enroll({ hostname: 'build-01', hardwareUuid: 'HW-CLONED-IMAGE' });
    const clone = await fx.enroll({ hostname: 'build-02', hardwareUuid: 'HW-CLONED-IMAGE' });
    expect(clone.endpointId).not.toBe(original.endpointId);
    const row = await fx.store.getAgent(clone.agentId);
    expect(row?.duplicateOf).not.toBeNull();
    expect(fx.app.collector.metrics.enrollments.get({ outcome: 'flagged-duplicate' })).toBe(flaggedBefore + 1);
    // Each sends under its own endpoint.
    expect((await original.sendEvents(1)).status).toBe(200);
    expect((await clone.sendEvents(1)).status).toBe(200);
  });
});

test('enroll secrets and signatures never reach the logs (canary values)', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const logger = pino({ level: 'trace', redact: { paths: ['req.headers.authorization'], censor: '[REDACTED]' } }, sink);
  const dataDir = (await import('node:fs')).mkdtempSync(`${(await import('node:os')).tmpdir()}/mcpw-log-`);
  const canary = 'CANARY-enroll-secret-7f3a';
  const config = loadConfig({ overrides: { dataDir, tls: 'off', enrollSecrets: `fleet:${canary}`, logLevel: 'trace' } });
  const store = await createStore({ dataDir });
  const app = await buildApp(config, { store, logger, ca: loadCaForTests() });
  try {
    const t = injectTransport(app);
    const agent = await TestAgent.enroll(t, { enrollSecret: canary, keys: pooledKeyPair(0) });
    await enrollRequest(t, { enrollSecret: 'CANARY-wrong-secret-91', keys: pooledKeyPair(0) });
    const p = agent.prepare(agent.events(2), { forgeSignature: true });
    await agent.send(p);
    expect(lines.length).toBeGreaterThan(0);
    const all = lines.join('');
    expect(all).not.toContain('CANARY');
    expect(all).not.toContain(p.headers['x-mcpwatch-signature']);
  } finally {
    await app.close();
    await store.close();
  }
});
