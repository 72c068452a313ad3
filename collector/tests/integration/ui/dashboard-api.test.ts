/**
 * The dashboard's page API on both engines (SQLite; PostgreSQL when reachable), over agent data
 * sent through the batch protocol: the overview counts and the servers summary (plain SQL shared
 * by both engines, server-summary.ts), filters and pagination of the servers page, findings by
 * status, endpoint detail with containment state.
 */
import { makeEvent } from '@mcpwatch/shared';
import { makeServerEntry, waitFor } from '@mcpwatch/testkit';
import { makeFixture, type Fixture } from '../../support/collector-fixture.js';
import { engineCases } from '../../support/pg.js';

const ADMIN = 'bootstrap-admin-token-0123456789';
const cookiesOf = (h: unknown): string[] => (Array.isArray(h) ? (h as string[]) : h ? [String(h)] : []);

describe.each(await engineCases())('dashboard API (%s)', (engine) => {
  let fx: Fixture;
  afterEach(async () => fx?.close());

  test('overview, servers summary with filters and pages, findings, endpoint detail', async () => {
    fx = await makeFixture({ engine, overrides: { adminToken: ADMIN } });
    fx.clock.nowMs = Date.now();
    const github = makeServerEntry('github');
    const shell = makeServerEntry('shell', { client: 'cursor' });
    const a = await fx.enroll();
    const b = await fx.enroll({ ...a.host, hostname: 'second', hardwareUuid: 'hw-2' } as never);
    const at = new Date(fx.clock.nowMs);
    const finding = { id: 'f1', ruleId: 'shell-exec', severity: 'high' as const, title: 'shell', description: 'd', subject: { serverName: 'shell', client: 'cursor', serverKey: shell.serverKey }, evidence: {} };
    await a.sendEvents([makeEvent('server.added', a.endpointId, github, at), makeEvent('server.added', a.endpointId, shell, at), makeEvent('finding.raised', a.endpointId, finding as never, at)]);
    await b.sendEvents([makeEvent('server.added', b.endpointId, github, at)]);
    await waitFor('projection', async () => ((await fx.app.inject({ url: '/v1/servers', headers: { authorization: `Bearer ${ADMIN}` } })).json().items ?? []).length === 2);

    const csrf = await fx.app.inject({ url: '/ui/api/csrf' });
    const c1 = cookiesOf(csrf.headers['set-cookie']);
    const signIn = await fx.app.inject({ method: 'POST', url: '/ui/api/session', headers: { cookie: c1.map((c) => c.split(';')[0]).join('; '), 'x-csrf-token': csrf.json().csrfToken }, payload: { token: ADMIN } });
    const cookie = cookiesOf(signIn.headers['set-cookie']).find((c) => c.startsWith('mcpw_session='))!.split(';')[0]!;
    const get = async (url: string) => {
      const r = await fx.app.inject({ url, headers: { cookie } });
      expect(r.statusCode).toBe(200);
      return r.json();
    };

    const ov = await get('/ui/api/overview');
    expect(ov.endpoints).toMatchObject({ total: 2, reporting: 2, stale: 0 });
    expect(ov.openFindingsBySeverity).toEqual({ high: 1 });
    expect(ov.findingsOverTime).toEqual([{ day: at.toISOString().slice(0, 10), severity: 'high', count: 1 }]);
    expect(ov.agentVersions).toEqual([{ version: 'test-agent/0.1.0', count: 2 }]);
    expect(ov.topServers.map((s: { names: string[]; endpointCount: number }) => [s.names, s.endpointCount])).toEqual([[['github'], 2], [['shell'], 1]]);

    const all = await get('/ui/api/servers?limit=1');
    expect(all.items).toHaveLength(1);
    expect(all.items[0]).toMatchObject({ names: ['github'], endpointCount: 2, maxSeverity: null });
    const page2 = await get(`/ui/api/servers?limit=1&cursor=${encodeURIComponent(all.nextCursor)}`);
    expect(page2.items[0]).toMatchObject({ names: ['shell'], clients: ['cursor'], maxSeverity: 'high' });
    expect(page2.nextCursor).toBeNull();
    expect((await get('/ui/api/servers?risk=high')).items.map((s: { names: string[] }) => s.names[0])).toEqual(['shell']);
    expect((await get('/ui/api/servers?client=cursor')).items).toHaveLength(1);
    expect((await get('/ui/api/servers?name=nope')).items).toHaveLength(0);
    expect((await fx.app.inject({ url: '/ui/api/servers?cursor=bogus', headers: { cookie } })).statusCode).toBe(400);
    expect((await get(`/ui/api/servers/${github.fingerprint}/endpoints`)).items).toHaveLength(2);

    expect((await get('/ui/api/findings')).items).toHaveLength(1);
    expect((await get('/ui/api/findings?status=resolved')).items).toHaveLength(0);
    expect((await get('/ui/api/endpoints?hostname=second')).items).toHaveLength(1);
    const detail = await get(`/ui/api/endpoints/${a.endpointId}`);
    expect(detail.servers).toHaveLength(2);
    expect(detail.containment).toEqual([]);
  });
});
