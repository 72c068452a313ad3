import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCsr, makeKeyPair, pooledKeyPair } from '@mcpwatch/testkit';
import { caPaths, createCaMaterial, loadOrCreateCa, loadOrCreateServerKey } from '../../src/ca/certificate-authority.js';

function csrOf(bits = 2048, cn = 'ignored'): { csrPem: string; publicKeyPem: string } {
  const keys = bits === 2048 ? pooledKeyPair(0) : makeKeyPair(bits);
  return { csrPem: makeCsr(keys, cn), publicKeyPem: keys.publicKeyPem };
}

describe('certificate authority', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ca-'));
  const ca = loadOrCreateCa({ dataDir });

  test('is created once in the data dir with owner-only permissions, then loaded', () => {
    const p = caPaths(dataDir);
    expect(ca.origin).toBe('created');
    expect(statSync(p.dir).mode & 0o777).toBe(0o700);
    expect(statSync(p.key).mode & 0o777).toBe(0o600);
    expect(statSync(p.cert).mode & 0o777).toBe(0o600);
    const again = loadOrCreateCa({ dataDir });
    expect(again.origin).toBe('data-dir');
    expect(again.fingerprint).toBe(ca.fingerprint);
    expect(ca.fingerprint).toBe(new X509Certificate(ca.certificatePem).fingerprint256.replace(/:/g, '').toLowerCase());
  });

  test('loads from configured files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cafiles-'));
    const m = createCaMaterial();
    writeFileSync(join(dir, 'c.pem'), m.certificatePem);
    writeFileSync(join(dir, 'k.pem'), m.keyPem);
    const loaded = loadOrCreateCa({ dataDir: dir, caCertFile: join(dir, 'c.pem'), caKeyFile: join(dir, 'k.pem') });
    expect(loaded.origin).toBe('files');
    const other = createCaMaterial();
    writeFileSync(join(dir, 'k2.pem'), other.keyPem);
    expect(() => loadOrCreateCa({ dataDir: dir, caCertFile: join(dir, 'c.pem'), caKeyFile: join(dir, 'k2.pem') })).toThrow(/does not belong/);
  });

  test('half a CA in the data dir is an error, not a silent new CA', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cahalf-'));
    loadOrCreateCa({ dataDir: dir });
    unlinkSync(caPaths(dir).key);
    expect(() => loadOrCreateCa({ dataDir: dir })).toThrow(/incomplete CA .*ca-key.pem is missing/);
  });

  test('issues an agent certificate naming the agent id, chained to the CA', () => {
    const { csrPem, publicKeyPem } = csrOf();
    const issued = ca.issueAgentCertificate(csrPem, 'agent-123', 30, new Date('2026-01-01T00:00:00Z'));
    const x = new X509Certificate(issued.certificatePem);
    expect(x.subject).toContain('CN=agent-123');
    expect(x.verify(new X509Certificate(ca.certificatePem).publicKey)).toBe(true);
    expect(x.checkIssued(new X509Certificate(ca.certificatePem))).toBe(true);
    expect(issued.notAfter).toBe('2026-01-31T00:00:00.000Z');
    expect(issued.publicKeyPem.replace(/\s/g, '')).toBe(publicKeyPem.replace(/\s/g, ''));
    expect(issued.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  test.each([
    ['garbage', 'not a csr', /does not parse/],
    ['a small key', csrOf(1024).csrPem, /at least 2048/],
    [
      'a tampered CSR',
      (() => {
        // Flip the subject CN inside the signed bytes: the self-signature no longer matches.
        const { csrPem } = csrOf(2048, 'original');
        const der = Buffer.from(csrPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
        const at = der.indexOf(Buffer.from('original'));
        der.write('tampered', at);
        return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
      })(),
      /does not verify/,
    ],
  ])('refuses %s with MCPW_ERR_CSR_INVALID', (_what, pem, message) => {
    expect(() => ca.issueAgentCertificate(pem, 'a', 1)).toThrow(message);
    try {
      ca.issueAgentCertificate(pem, 'a', 1);
    } catch (e) {
      expect((e as { code: string; statusCode: number }).code).toBe('MCPW_ERR_CSR_INVALID');
      expect((e as { statusCode: number }).statusCode).toBe(400);
    }
  });

  test('the embedded server key is kept owner-only in the data dir and reused', () => {
    const first = loadOrCreateServerKey(dataDir);
    expect(statSync(join(caPaths(dataDir).dir, 'server-key.pem')).mode & 0o777).toBe(0o600);
    expect(loadOrCreateServerKey(dataDir)).toBe(first);
    const a = ca.issueServerCertificate(['localhost'], new Date(), first);
    const b = ca.issueServerCertificate(['localhost'], new Date(), first);
    expect(a.fingerprint).not.toBe(b.fingerprint); // new certificate, same key
    expect(new X509Certificate(b.certificatePem).checkPrivateKey(createPrivateKey(first))).toBe(true);
  });

  test('server certificate carries DNS and IP names', () => {
    const s = ca.issueServerCertificate(['localhost', '127.0.0.1', '::1']);
    const x = new X509Certificate(s.certificatePem);
    expect(x.subjectAltName).toContain('DNS:localhost');
    expect(x.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(x.checkIssued(new X509Certificate(ca.certificatePem))).toBe(true);
    expect(x.checkPrivateKey(createPrivateKey(s.keyPem))).toBe(true);
  });
});

