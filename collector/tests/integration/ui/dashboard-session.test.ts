/**
 * The dashboard's session and CSRF contract, through inject(): an API token is exchanged for an
 * HttpOnly, SameSite=Strict cookie on Path=/ui (Secure when the collector serves TLS); state-changing
 * requests need the CSRF token; a read session cannot issue containment; logout and token
 * revocation end the session; a wrong token is a 401 that counts as a failed authentication;
 * helmet's CSP and the static app are served under /ui only.
 */
import { makeFixture, type Fixture } from '../../support/collector-fixture.js';

const ADMIN = 'bootstrap-admin-token-0123456789';

function cookiesOf(res: { headers: Record<string, unknown> }): string[] {
  const h = res.headers['set-cookie'];
  return Array.isArray(h) ? (h as string[]) : h ? [String(h)] : [];
}
const jar = (cookies: string[]) => cookies.map((c) => c.split(';')[0]).join('; ');

describe.each(['off', 'embedded'] as const)('dashboard session (tls %s)', (tls) => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await makeFixture({ overrides: { adminToken: ADMIN, tls } });
  });
  afterEach(async () => fx.close());

  async function signIn(token: string) {
    const c = await fx.app.inject({ url: '/ui/api/csrf' });
    const csrfCookies = cookiesOf(c);
    const res = await fx.app.inject({ method: 'POST', url: '/ui/api/session', headers: { cookie: jar(csrfCookies), 'x-csrf-token': c.json().csrfToken }, payload: { token } });
    return { res, cookie: jar([...csrfCookies, ...cookiesOf(res).filter((x) => x.startsWith('mcpw_session='))]), csrf: res.statusCode === 200 ? (res.json().csrfToken as string) : '' };
  }

  test('sign-in sets a hardened cookie; CSRF, scope, logout and revocation are enforced', async () => {
    // Sign-in itself needs the CSRF token (no login CSRF).
    expect((await fx.app.inject({ method: 'POST', url: '/ui/api/session', payload: { token: ADMIN } })).statusCode).toBe(403);
    expect((await signIn('wrong-token-0123456789')).res.statusCode).toBe(401);

    const admin = await signIn(ADMIN);
    expect(admin.res.statusCode).toBe(200);
    const session = cookiesOf(admin.res).find((c) => c.startsWith('mcpw_session='))!;
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Strict/);
    expect(session).toMatch(/Path=\/ui/);
    if (tls === 'embedded') expect(session).toMatch(/Secure/);
    else expect(session).not.toMatch(/Secure/);
    expect(session).not.toContain(ADMIN);

    const me = await fx.app.inject({ url: '/ui/api/session', headers: { cookie: admin.cookie } });
    expect(me.json()).toMatchObject({ name: 'bootstrap', scope: 'admin' });
    expect((await fx.app.inject({ url: '/ui/api/overview', headers: { cookie: admin.cookie } })).statusCode).toBe(200);
    expect((await fx.app.inject({ url: '/ui/api/overview' })).statusCode).toBe(401);

    // A read token: reads, but no containment (403), and without CSRF even an admin is refused.
    const tok = (await fx.app.inject({ method: 'POST', url: '/v1/tokens', headers: { authorization: `Bearer ${ADMIN}` }, payload: { name: 'viewer', scope: 'read' } })).json();
    const reader = await signIn(tok.token);
    expect((await fx.app.inject({ url: '/ui/api/findings', headers: { cookie: reader.cookie } })).statusCode).toBe(200);
    const body = { endpointId: 'e1', serverKey: 'k1', action: 'quarantine', reason: 'r' };
    const readerContain = await fx.app.inject({ method: 'POST', url: '/ui/api/containment', headers: { cookie: reader.cookie, 'x-csrf-token': reader.csrf }, payload: body });
    expect(readerContain.statusCode).toBe(403);
    expect(readerContain.json().code).toBe('MCPW_ERR_FORBIDDEN');
    const noCsrf = await fx.app.inject({ method: 'POST', url: '/ui/api/containment', headers: { cookie: admin.cookie }, payload: body });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json().message).toMatch(/CSRF/);
    expect((await fx.app.inject({ method: 'POST', url: '/ui/api/containment', headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf }, payload: body })).statusCode).toBe(404);

    // Revoking the token ends its session.
    await fx.app.inject({ method: 'POST', url: `/v1/tokens/${tok.tokenId}/revoke`, headers: { authorization: `Bearer ${ADMIN}` } });
    expect((await fx.app.inject({ url: '/ui/api/findings', headers: { cookie: reader.cookie } })).statusCode).toBe(401);

    // Logout (CSRF-protected) ends the admin session.
    expect((await fx.app.inject({ method: 'DELETE', url: '/ui/api/session', headers: { cookie: admin.cookie } })).statusCode).toBe(403);
    const out = await fx.app.inject({ method: 'DELETE', url: '/ui/api/session', headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf } });
    expect(out.statusCode).toBe(200);
    expect(cookiesOf(out).find((c) => c.startsWith('mcpw_session='))).toMatch(/Expires=Thu, 01 Jan 1970/);
    expect((await fx.app.inject({ url: '/ui/api/session', headers: { cookie: admin.cookie } })).statusCode).toBe(401);
  });

  test('the app and its security headers are served under /ui only', async () => {
    const page = await fx.app.inject({ url: '/ui/findings' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect((await fx.app.inject({ url: '/ui/app.js' })).headers['content-type']).toMatch(/javascript/);
    expect((await fx.app.inject({ url: '/ui/api/nope' })).statusCode).toBe(404);
    expect((await fx.app.inject({ url: '/health' })).headers['content-security-policy']).toBeUndefined();
  });
});
