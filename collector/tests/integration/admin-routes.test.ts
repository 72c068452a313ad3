/**
 * The admin API (agents, enroll secrets, API tokens) and the OpenAPI document, through inject().
 * Secrets and tokens are shown once at creation and never listed; canary values prove it.
 */
import { engineCases } from '../support/pg.js';
import { makeQueryFixture, type QueryFixture } from '../support/query-fixture.js';
import { hashSecret } from '../../src/secret-hash.js';

describe.each(await engineCases())('admin API (%s)', (engine) => {
  let fx: QueryFixture;
  beforeAll(async () => {
    fx = await makeQueryFixture(engine);
  });
  afterAll(async () => fx.close());

  test('agents: list, revoke, restore; unknown agent is 404', async () => {
    const list = (await fx.get('/v1/agents')).json() as { items: { agentId: string; publicKeyPem?: string }[] };
    expect(list.items).toHaveLength(3);
    expect(list.items[0]!.publicKeyPem).toBeUndefined();
    const id = fx.fleet.a.agent.agentId;
    const revoked = await fx.post(`/v1/agents/${id}/revoke`);
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().revokedAt).not.toBeNull();
    expect((await fx.store.getAgent(id))!.revokedAt).not.toBeNull();
    expect(((await fx.get('/v1/agents?revoked=true')).json() as { items: { agentId: string }[] }).items.map((a) => a.agentId)).toEqual([id]);
    expect((await fx.post(`/v1/agents/${id}/restore`)).json().revokedAt).toBeNull();
    expect(((await fx.get('/v1/agents?revoked=true')).json() as { items: unknown[] }).items).toEqual([]);
    const missing = await fx.post('/v1/agents/ghost/revoke');
    expect({ status: missing.statusCode, code: missing.json().code }).toEqual({ status: 404, code: 'MCPW_ERR_NOT_FOUND' });
  });

  test('enroll secrets: created named (given or generated), listed without values, revoked; a taken name is 409', async () => {
    const canary = 'CANARY-enroll-secret-7f3a9b2c';
    const given = await fx.post('/v1/enroll-secrets', { name: 'mdm-2026', secret: canary });
    expect(given.json()).toEqual({ name: 'mdm-2026', secret: canary });
    expect((await fx.store.findEnrollSecret(hashSecret(canary)))?.name).toBe('mdm-2026');
    const generated = (await fx.post('/v1/enroll-secrets', { name: 'installer' })).json() as { secret: string };
    expect(generated.secret).toMatch(/^mcpw_enroll_[A-Za-z0-9_-]{43}$/);

    const listed = await fx.get('/v1/enroll-secrets');
    expect(listed.body).not.toContain(canary);
    expect(listed.body).not.toContain(generated.secret);
    expect(listed.body).not.toContain(hashSecret(canary));
    expect((listed.json() as { items: { name: string }[] }).items.map((s) => s.name)).toEqual(['installer', 'mdm-2026']);

    const dup = await fx.post('/v1/enroll-secrets', { name: 'mdm-2026' });
    expect({ status: dup.statusCode, code: dup.json().code }).toEqual({ status: 409, code: 'MCPW_ERR_CONFLICT' });
    expect((await fx.post('/v1/enroll-secrets/mdm-2026/revoke')).json()).toEqual({ ok: true });
    expect(await fx.store.findEnrollSecret(hashSecret(canary))).toBeNull();
    expect((await fx.post('/v1/enroll-secrets/mdm-2026/revoke')).statusCode).toBe(404);
  });

  test.each([
    [{ name: 'bad name with spaces' }],
    [{ name: "x'; drop table enroll_secrets; --" }],
    [{ name: 'short', secret: 'tooshort' }],
    [{ name: 'ok', extra: 1 }],
  ])('a bad enroll-secret request %j is 400 and creates nothing', async (body) => {
    const before = (await fx.store.listEnrollSecrets()).length;
    const res = await fx.post('/v1/enroll-secrets', body);
    expect({ status: res.statusCode, code: res.json().code }).toEqual({ status: 400, code: 'MCPW_ERR_SCHEMA' });
    expect((await fx.store.listEnrollSecrets()).length).toBe(before);
  });

  test('tokens: created with a scope, shown once, listed without values, revoked tokens stop working', async () => {
    const created = (await fx.post('/v1/tokens', { name: 'ops', scope: 'admin' })).json() as { tokenId: string; token: string; scope: string };
    expect(created.scope).toBe('admin');
    expect((await fx.get('/v1/agents', created.token)).statusCode).toBe(200);
    const listed = await fx.get('/v1/tokens');
    expect(listed.body).not.toContain(created.token);
    expect((listed.json() as { items: { tokenId: string; lastUsedAt: string | null }[] }).items.find((t) => t.tokenId === created.tokenId)?.lastUsedAt).not.toBeNull();
    expect((await fx.post(`/v1/tokens/${created.tokenId}/revoke`)).json()).toEqual({ ok: true });
    expect((await fx.get('/v1/agents', created.token)).statusCode).toBe(401);
    expect((await fx.post(`/v1/tokens/${created.tokenId}/revoke`)).statusCode).toBe(404);
    const badScope = await fx.post('/v1/tokens', { name: 'x', scope: 'root' });
    expect({ status: badScope.statusCode, code: badScope.json().code }).toEqual({ status: 400, code: 'MCPW_ERR_SCHEMA' });
  });

  test('admin routes need a token: none is 401 before the body is looked at', async () => {
    const res = await fx.post('/v1/tokens', { name: 'x', scope: 'admin' }, null);
    expect({ status: res.statusCode, code: res.json().code }).toEqual({ status: 401, code: 'MCPW_ERR_UNAUTHORIZED' });
  });

  test('GET /v1/openapi.json describes the query, admin and agent routes with bearer security', async () => {
    const res = await fx.get('/v1/openapi.json', null);
    expect(res.statusCode).toBe(200);
    const doc = res.json() as { openapi: string; paths: Record<string, Record<string, { parameters?: { name: string }[] }>>; components: { securitySchemes: Record<string, unknown> } };
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of ['/v1/endpoints', '/v1/endpoints/{endpointId}', '/v1/servers', '/v1/servers/{fingerprint}/endpoints', '/v1/findings', '/v1/events', '/v1/agents', '/v1/tokens', '/v1/enroll-secrets', '/v1/batches', '/v1/enroll']) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
    expect(doc.paths['/v1/endpoints']!.get!.parameters!.map((x) => x.name)).toEqual(expect.arrayContaining(['os', 'hostname', 'user', 'client', 'server', 'severity', 'cursor', 'limit']));
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });
});
