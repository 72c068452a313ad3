/**
 * buildApp's startup failures leave no database open: a SQLite store buildApp opened itself is
 * closed when the build fails after opening it (TLS material that is not PEM; a plugin that throws
 * while registering), and by app.close() after a failed app.ready(). "Open" is read from this
 * process's file descriptors (/proc/self/fd): the store and its checkpoint worker thread hold the
 * database, its -wal and its -shm file while it is open.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/app.js';
import { loadConfig, type ConfigKey } from '../../src/config.js';
import { SQLITE_FILE } from '../../src/store/index.js';
import { loadCaForTests } from '../support/ca-cache.js';
import { openFds } from '../support/open-fds.js';

function setup(overrides: Partial<Record<ConfigKey, unknown>> = {}, dataDir = mkdtempSync(join(tmpdir(), 'mcpw-startup-'))) {
  const config = loadConfig({ overrides: { dataDir, tls: 'off', enrollSecrets: 'fleet:first-secret-0123456789', ...overrides } });
  return { dataDir, dbFile: join(dataDir, SQLITE_FILE), build: () => buildApp(config, { ca: loadCaForTests(), logger: false }) };
}

describe('buildApp startup failures close the store it opened', () => {
  test('the check sees an open store (guards the assertions below)', async () => {
    const s = setup();
    const app = await s.build();
    await app.ready();
    expect(openFds(s.dbFile).length).toBeGreaterThan(0);
    await app.close();
    expect(openFds(s.dbFile)).toEqual([]);
  });

  test('TLS certificate and key files that are not PEM: buildApp rejects and the database is closed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpw-startup-tls-'));
    const certFile = join(dir, 'server.crt');
    const keyFile = join(dir, 'server.key');
    writeFileSync(certFile, 'this is not a certificate\n');
    writeFileSync(keyFile, 'this is not a key\n');
    const s = setup({ tls: 'files', tlsCertFile: certFile, tlsKeyFile: keyFile });

    await expect(s.build()).rejects.toThrow(/no start line|PEM/i);
    expect(existsSync(s.dbFile)).toBe(true); // the store had been opened (and migrated) first
    expect(openFds(s.dbFile)).toEqual([]);
  });

  test('a plugin that throws while registering (enroll secret clash): buildApp rejects and the database is closed', async () => {
    const first = setup();
    const app = await first.build();
    await app.ready();
    await app.close();
    // Same data dir, a different secret under the same name: the enroll plugin refuses to start.
    const s = setup({ enrollSecrets: 'fleet:other-secret-0123456789' }, first.dataDir);

    await expect(s.build()).rejects.toMatchObject({ code: 'MCPW_ERR_CONFIG', message: expect.stringMatching(/a different secret named "fleet"/) });
    expect(openFds(s.dbFile)).toEqual([]);
  });

  test('a plugin error that surfaces at app.ready(): app.close() closes the database', async () => {
    const s = setup();
    const app = await s.build();
    void app.register(async () => {
      throw new Error('plugin failed to start');
    });
    await expect(app.ready()).rejects.toThrow('plugin failed to start');
    expect(openFds(s.dbFile).length).toBeGreaterThan(0);

    await app.close();
    expect(openFds(s.dbFile)).toEqual([]);
  });
});
