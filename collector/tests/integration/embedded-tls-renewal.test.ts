/**
 * The embedded HTTPS listener on a real port (issue 10 item 17): a second app on the same data dir
 * serves the same server certificate, and a running collector whose certificate nears expiry renews
 * it in place under the SAME CA (refreshServerCertificate): new connections get the new
 * certificate, which a client trusting only the CA accepts; nothing is issued while it is not due.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadOrCreateCa, serverPaths } from '../../src/ca/certificate-authority.js';
import { loadConfig } from '../../src/config.js';
import { refreshServerCertificate } from '../../src/server-cli.js';
import { getTrustingCa } from '../support/tls-client.js';

const DAY = 86_400_000;

describe('embedded TLS certificate', () => {
  const apps: FastifyInstance[] = [];
  afterAll(async () => {
    for (const a of apps) await a.close();
  });

  test('is the same for a second start on the data dir, and is renewed in place under the same CA before expiry', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mcpw-tls-renew-'));
    const config = loadConfig({ overrides: { dataDir, tls: 'embedded', enrollSecrets: 'fleet:first-secret-0123456789' } });
    const start = async () => {
      const app = await buildApp(config, { logger: false });
      apps.push(app);
      await app.listen({ host: '127.0.0.1', port: 0 });
      return { app, port: (app.server.address() as import('node:net').AddressInfo).port };
    };
    const a = await start();
    const ca = loadOrCreateCa({ dataDir });
    const first = await getTrustingCa(a.port, ca.certificatePem);
    expect(first.chain).toContain(ca.fingerprint);
    await a.app.close();

    const b = await start();
    const second = await getTrustingCa(b.port, ca.certificatePem);
    expect(second.leaf).toBe(first.leaf);
    expect(b.app.collector.tls.serverOrigin).toBe('kept');

    // Not due: nothing changes.
    expect(refreshServerCertificate(b.app, config)).toBe('kept');
    expect((await getTrustingCa(b.port, ca.certificatePem)).leaf).toBe(first.leaf);

    // The certificate on disk has 17 days left (issued 380 days ago): renewed in place, same CA,
    // accepted by a client trusting only the CA.
    const paths = serverPaths(dataDir);
    const old = ca.issueServerCertificate(config.serverNames, new Date(Date.now() - 380 * DAY), readFileSync(paths.key, 'utf8'));
    writeFileSync(paths.cert, old.certificatePem);
    expect(refreshServerCertificate(b.app, config)).toBe('renewed');
    const renewed = await getTrustingCa(b.port, ca.certificatePem);
    expect(renewed.status).toBe(200);
    expect(renewed.leaf).not.toBe(first.leaf);
    expect(renewed.leaf).not.toBe(old.fingerprint);
    expect(renewed.chain).toContain(ca.fingerprint);
    expect(loadOrCreateCa({ dataDir }).fingerprint).toBe(ca.fingerprint);
  }, 60_000);
});
