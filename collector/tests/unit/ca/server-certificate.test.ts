/**
 * The embedded server certificate kept in the data dir (ca/certificate-authority.ts): kept across
 * starts, renewed under the same CA before expiry, issued again when the names or the CA change.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCaMaterial, CertificateAuthority, loadOrCreateCa, loadOrCreateServerCertificate, serverPaths } from '../../../src/ca/certificate-authority.js';

const NAMES = ['localhost', '127.0.0.1', '::1'];
const DAY = 86_400_000;

describe('embedded server certificate', () => {
  test('is kept across starts (owner-only files), renewed under the same CA near expiry, reissued for new names or a new CA', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'srvcert-'));
    const ca = loadOrCreateCa({ dataDir });
    const t0 = new Date('2027-01-01T00:00:00Z');
    const first = loadOrCreateServerCertificate(ca, dataDir, NAMES, t0);
    expect(first.origin).toBe('created');
    for (const f of Object.values(serverPaths(dataDir))) expect(statSync(f).mode & 0o777).toBe(0o600);

    // A restart (the CA loaded again from the data dir) serves the very same certificate.
    const again = loadOrCreateServerCertificate(loadOrCreateCa({ dataDir }), dataDir, ['::1', 'LOCALHOST', '127.0.0.1'], new Date(t0.getTime() + 300 * DAY));
    expect(again).toMatchObject({ origin: 'kept', fingerprint: first.fingerprint, certificatePem: first.certificatePem });

    // 29 days before expiry: renewed, same key, issued by the same CA.
    const late = new Date(Date.parse(first.notAfter) - 29 * DAY);
    const renewed = loadOrCreateServerCertificate(loadOrCreateCa({ dataDir }), dataDir, NAMES, late);
    expect(renewed.origin).toBe('renewed');
    expect(renewed.fingerprint).not.toBe(first.fingerprint);
    expect(renewed.keyPem).toBe(first.keyPem);
    const cert = new X509Certificate(renewed.certificatePem);
    expect(ca.issued(cert)).toBe(true);
    expect(Date.parse(cert.validTo) - late.getTime()).toBeGreaterThan(396 * DAY);
    expect(readFileSync(serverPaths(dataDir).cert, 'utf8')).toBe(renewed.certificatePem);
    expect(loadOrCreateCa({ dataDir }).fingerprint).toBe(ca.fingerprint);

    // Other names: issued again, carrying them.
    const named = loadOrCreateServerCertificate(ca, dataDir, [...NAMES, 'collector.example.com'], late);
    expect(named.origin).toBe('names-changed');
    expect(new X509Certificate(named.certificatePem).subjectAltName).toContain('DNS:collector.example.com');

    // Another CA (an operator replaced it): issued again by that CA.
    const m = createCaMaterial();
    const otherCa = new CertificateAuthority(m.certificatePem, m.keyPem, 'files');
    const fromOther = loadOrCreateServerCertificate(otherCa, dataDir, [...NAMES, 'collector.example.com'], late);
    expect(fromOther.origin).toBe('ca-changed');
    expect(otherCa.issued(new X509Certificate(fromOther.certificatePem))).toBe(true);

    // Garbage on disk: issued again, never a crash.
    writeFileSync(serverPaths(dataDir).cert, 'not a certificate');
    expect(loadOrCreateServerCertificate(otherCa, dataDir, NAMES, late).origin).toBe('unreadable');
  });
});
