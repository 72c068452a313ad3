import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HostInfo } from '@mcpwatch/shared';
import { collectorTrust, enroll, loadIdentity, renewalDue, FILES, type EnrollmentRecord } from '../../src/enroll/enroll-client.js';
import { checkCollectorUrl, HttpClient, normalizeFingerprint } from '../../src/ship/http-client.js';
import { FakeEnrollServer } from '@mcpwatch/testkit';

const SECRET = 'canary-enroll-secret-51d2';
const host: HostInfo = { hostname: 'test-host', platform: 'linux', users: ['alice'], hardwareUuid: 'uuid-1' };
const servers: FakeEnrollServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
async function server(tls: boolean | 'ca-issued'): Promise<FakeEnrollServer> {
  const s = new FakeEnrollServer(SECRET, tls);
  await s.listen();
  servers.push(s);
  return s;
}
const stateDir = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-enroll-')), 'state');

describe('enroll', () => {
  it('enrolls over https with a pinned certificate and stores the identity owner-only', async () => {
    const s = await server(true);
    const dir = stateDir();
    const id = await enroll({ server: s.url, secret: SECRET, caFingerprint: s.tlsFingerprint, stateDir: dir, host, agentVersion: '0.1.0' });
    expect(id.record).toMatchObject({ agentId: 'ag_test1', endpointId: 'ep_test', settings: { heartbeatMs: 30000 } });
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]!.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(s.requests[0]!.body).not.toContain(SECRET);
    for (const f of Object.values(FILES)) {
      const st = fs.statSync(path.join(dir, f));
      expect(st.mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(path.join(dir, f), 'utf8')).not.toContain(SECRET);
    }
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    const loaded = loadIdentity(dir);
    expect(loaded?.record.agentId).toBe('ag_test1');
    expect(loaded?.privateKey.asymmetricKeyType).toBe('rsa');
  });

  it('accepts a pin of the CA that issued the collector certificate (chain verified), as the collector prints it, and stores the CA as the pin', async () => {
    const s = await server('ca-issued');
    const id = await enroll({ server: s.url, secret: SECRET, caFingerprint: s.caFingerprint, stateDir: stateDir(), host, agentVersion: '0.1.0' });
    expect(id.record.caFingerprint).toBe(normalizeFingerprint(s.caFingerprint));
    const other = new FakeEnrollServer(SECRET, 'ca-issued'); // another CA: same shape, different pin
    await expect(enroll({ server: s.url, secret: SECRET, caFingerprint: other.caFingerprint, stateDir: stateDir(), host, agentVersion: '0.1.0' })).rejects.toMatchObject({
      code: 'MCPW_ERR_CERT_PIN_MISMATCH',
    });
    expect(s.requests).toHaveLength(1);
  });

  it('refuses the server certificate (leaf) fingerprint with a coded error naming the CA to pin, before sending the secret', async () => {
    const s = await server('ca-issued');
    const dir = stateDir();
    for (const leafPin of [s.tlsFingerprint, normalizeFingerprint(s.tlsFingerprint), `sha256:${s.tlsFingerprint.toLowerCase()}`]) {
      const err = await enroll({ server: s.url, secret: SECRET, caFingerprint: leafPin, stateDir: dir, host, agentVersion: '0.1.0' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'MCPW_ERR_CERT_PIN_IS_LEAF' });
      expect((err as Error).message).toMatch(/pin its CA instead/);
      expect((err as Error).message).toContain(normalizeFingerprint(s.caFingerprint));
    }
    expect(s.requests).toHaveLength(0);
    expect(fs.existsSync(path.join(dir, FILES.enrollment))).toBe(false);
  });

  it('after enrollment trusts the stored CA: a re-issued server certificate from the same CA is accepted, another CA is not', async () => {
    const s = await server('ca-issued');
    const dir = stateDir();
    const id = await enroll({ server: s.url, secret: SECRET, caFingerprint: s.caFingerprint, stateDir: dir, host, agentVersion: '0.1.0' });
    await s.reissueTlsCertificate();
    const trust = collectorTrust(id, dir);
    expect(trust.pinSha256).toBe(normalizeFingerprint(s.caFingerprint));
    const http = new HttpClient({ ...trust, timeoutMs: 5000 });
    try {
      expect((await http.request({ method: 'GET', url: `${s.url}/healthz` })).status).toBe(401);
      expect(http.pinnedAnchor).toBe(normalizeFingerprint(s.caFingerprint));
    } finally {
      http.close();
    }
    // An identity stored before this fix pinned the leaf: the stored CA still carries it across a renewal.
    const legacy = new HttpClient({ pinSha256: 'ab'.repeat(32), pinnedCaPem: fs.readFileSync(path.join(dir, FILES.ca), 'utf8'), timeoutMs: 5000 });
    try {
      expect((await legacy.request({ method: 'GET', url: `${s.url}/healthz` })).status).toBe(401);
    } finally {
      legacy.close();
    }
    const other = await server('ca-issued');
    const wrong = new HttpClient({ ...trust, timeoutMs: 5000 });
    try {
      await expect(wrong.request({ method: 'GET', url: `${other.url}/healthz` })).rejects.toMatchObject({ code: 'MCPW_ERR_CERT_PIN_MISMATCH' });
    } finally {
      wrong.close();
    }
  });

  it('keeps using a pinned https connection for later requests (keep-alive)', async () => {
    const s = await server(true);
    const http = new HttpClient({ pinSha256: s.tlsFingerprint.toLowerCase().replace(/:/g, ''), timeoutMs: 5000 });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await http.request({ method: 'GET', url: `${s.url}/healthz` });
        expect(res.status).toBe(401); // the fake knows only enrollment: TLS and the pin worked
      }
      expect(s.requests).toHaveLength(3);
    } finally {
      http.close();
    }
  });

  it('refuses a collector whose certificate does not match the pin, before sending anything', async () => {
    const s = await server(true);
    const wrong = 'AA:'.repeat(31) + 'AA';
    await expect(enroll({ server: s.url, secret: SECRET, caFingerprint: wrong, stateDir: stateDir(), host, agentVersion: '0.1.0' })).rejects.toMatchObject({
      code: 'MCPW_ERR_CERT_PIN_MISMATCH',
    });
    expect(s.requests).toHaveLength(0);
  });

  it('refuses an unpinned self-signed certificate (system CAs only)', async () => {
    const s = await server(true);
    await expect(enroll({ server: s.url, secret: SECRET, stateDir: stateDir(), host, agentVersion: '0.1.0' })).rejects.toMatchObject({ code: 'MCPW_ERR_NETWORK' });
    expect(s.requests).toHaveLength(0);
  });

  it('reports a refused secret with the collector code and stores nothing', async () => {
    const s = await server(false);
    const dir = stateDir();
    await expect(enroll({ server: s.url, secret: 'wrong', stateDir: dir, host, agentVersion: '0.1.0' })).rejects.toMatchObject({
      code: 'MCPW_ERR_ENROLL',
      message: expect.stringContaining('401 MCPW_ERR_ENROLL_SECRET'),
    });
    expect(loadIdentity(dir)).toBeNull();
  });

  it('allows plain http only to loopback and never URLs with credentials', () => {
    expect(checkCollectorUrl('http://127.0.0.1:8080').hostname).toBe('127.0.0.1');
    expect(checkCollectorUrl('http://localhost:1').hostname).toBe('localhost');
    expect(checkCollectorUrl('http://[::1]:1').hostname).toBe('[::1]');
    expect(() => checkCollectorUrl('http://collector.example.com')).toThrow(expect.objectContaining({ code: 'MCPW_ERR_INSECURE_URL' }));
    expect(() => checkCollectorUrl('http://10.0.0.1')).toThrow(expect.objectContaining({ code: 'MCPW_ERR_INSECURE_URL' }));
    expect(() => checkCollectorUrl('https://u:p@collector.example.com')).toThrow(expect.objectContaining({ code: 'MCPW_ERR_INSECURE_URL' }));
    expect(() => checkCollectorUrl('not a url')).toThrow(expect.objectContaining({ code: 'MCPW_ERR_INSECURE_URL' }));
  });

  it('normalises pins written in any of the usual forms', () => {
    const hex = 'ab'.repeat(32);
    for (const form of [hex, hex.toUpperCase(), `sha256:${hex}`, `SHA256=${hex}`, `SHA-256: ${hex}`, hex.match(/../g)!.join(':').toUpperCase()]) {
      expect(normalizeFingerprint(form)).toBe(hex);
    }
  });

  it('decides renewal a margin before expiry', () => {
    const rec = (from: string, to: string) => ({ certNotBefore: from, certNotAfter: to }) as EnrollmentRecord;
    const year = rec('2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z');
    expect(renewalDue(year, Date.parse('2026-12-20T00:00:00Z'), 7)).toBe(false);
    expect(renewalDue(year, Date.parse('2026-12-26T00:00:00Z'), 7)).toBe(true);
    const short = rec('2026-01-01T00:00:00Z', '2026-01-04T00:00:00Z');
    expect(renewalDue(short, Date.parse('2026-01-02T12:00:00Z'), 7)).toBe(false);
    expect(renewalDue(short, Date.parse('2026-01-03T01:00:00Z'), 7)).toBe(true);
    expect(renewalDue(rec('x', 'garbage'), 0, 7)).toBe(true);
  });
});
