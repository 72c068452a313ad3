import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_TABLE, configHelp, loadConfig, redactedConfig } from '../../src/config.js';

describe('loadConfig', () => {
  test('defaults are typed, resolved and frozen', () => {
    const c = loadConfig({ cwd: '/srv' });
    expect(c.dataDir).toBe('/srv/mcpwatch-data');
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 8443 });
    expect(c.tls).toBe('embedded');
    expect(c.enrollSecrets).toEqual([]);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.listen)).toBe(true);
  });

  test('precedence: flag over env over file over default', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ timestampWindowS: 60, logLevel: 'warn', maxBodyBytes: 2048 }));
    const c = loadConfig({
      argv: ['--config', file, '--log-level', 'error', '--listen=[::1]:0', '--data-dir', 'd'],
      env: { MCPWATCH_LOG_LEVEL: 'debug', MCPWATCH_TIMESTAMP_WINDOW_S: '120' },
      cwd: dir,
    });
    expect(c.logLevel).toBe('error');
    expect(c.timestampWindowS).toBe(120);
    expect(c.maxBodyBytes).toBe(2048);
    expect(c.listen).toEqual({ host: '::1', port: 0 });
    expect(c.dataDir).toBe(join(dir, 'd'));
  });

  test('queryPort: off by default; MCPWATCH_QUERY_PORT or --query-port turns the read-only query listener on', () => {
    expect(loadConfig({}).queryPort).toBe(0);
    expect(loadConfig({ env: { MCPWATCH_QUERY_PORT: '8444' } }).queryPort).toBe(8444);
    expect(loadConfig({ env: { MCPWATCH_QUERY_PORT: '8444' }, argv: ['--query-port', '9444'] }).queryPort).toBe(9444);
  });

  test('named and bare enroll secrets', () => {
    expect(loadConfig({ env: { MCPWATCH_ENROLL_SECRET: 'fleet:aaaaaaaaaa,laptops:bbbbbbbbbb' } }).enrollSecrets).toEqual([
      { name: 'fleet', secret: 'aaaaaaaaaa' },
      { name: 'laptops', secret: 'bbbbbbbbbb' },
    ]);
    expect(loadConfig({ env: { MCPWATCH_ENROLL_SECRET: 'just-one-secret' } }).enrollSecrets).toEqual([
      { name: 'default', secret: 'just-one-secret' },
    ]);
  });

  test.each([
    [{ env: { MCPWATCH_TIMESTAMP_WINDOW_S: 'soon' } }, /timestampWindowS \(from env MCPWATCH_TIMESTAMP_WINDOW_S\): expected an integer/],
    [{ env: { MCPWATCH_LISTEN: 'nope' } }, /listen .*HOST:PORT/],
    [{ argv: ['--listen', '127.0.0.1:70000'] }, /listen \(from flag --listen\).*0\.\.65535/],
    [{ env: { MCPWATCH_TLS: 'maybe' } }, /tls .*one of auto, embedded, files, off/],
    [{ env: { DATABASE_URL: 'mysql://x' } }, /databaseUrl .*postgres/],
    [{ argv: ['--bogus', '1'] }, /--bogus .*unknown option/],
    [{ argv: ['--listen', '0.0.0.0:80', '--tls', 'off'] }, /tls .*loopback/],
    [{ env: { MCPWATCH_TLS: 'files' } }, /tlsCertFile .*needs both/],
    [{ env: { MCPWATCH_CA_CERT_FILE: '/x.pem' } }, /caCertFile .*both/],
    [{ env: { MCPWATCH_AGENT_SETTINGS: '{oops' } }, /agentSettings .*not valid JSON/],
    [{ env: { MCPWATCH_SINKS: 'file,Bad Sink' } }, /sinks .*invalid list item/],
    [{ env: { MCPWATCH_QUERY_PORT: '70000' } }, /queryPort \(from env MCPWATCH_QUERY_PORT\): must be between 0 and 65535/],
    [{ argv: ['--listen', '127.0.0.1:9000', '--query-port', '9000'] }, /queryPort .*must differ from the main listener's port 9000/],
  ])('bad value names the key: %j', (sources, message) => {
    expect(() => loadConfig(sources)).toThrow(message);
    try {
      loadConfig(sources);
    } catch (e) {
      expect((e as { code: string }).code).toBe('MCPW_ERR_CONFIG');
    }
  });

  test('a bad enroll secret is reported without echoing any secret', () => {
    const canary = 'CANARY-short';
    let message = '';
    try {
      loadConfig({ env: { MCPWATCH_ENROLL_SECRET: `a:${canary}-long-enough,b:x` } });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/enrollSecrets .*entry 2 \(b\): secret must be at least 8/);
    expect(message).not.toContain(canary);
  });

  test('unknown key in the config file is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ dataDri: '/x' }));
    expect(() => loadConfig({ argv: ['--config', join(dir, 'c.json')] })).toThrow(/dataDri .*unknown key/);
  });

  test('redactedConfig hides secrets and database credentials', () => {
    const c = loadConfig({
      env: {
        MCPWATCH_ENROLL_SECRET: 'fleet:CANARY-enroll-1',
        MCPWATCH_ADMIN_TOKEN: 'CANARY-admin-1',
        DATABASE_URL: 'postgres://u:CANARY-pw@db:5432/x?password=CANARY-q',
      },
    });
    const text = JSON.stringify(redactedConfig(c)) + configHelp();
    expect(text).not.toContain('CANARY');
    expect(redactedConfig(c).enrollSecrets).toEqual(['fleet:[REDACTED]']);
    expect(Object.keys(redactedConfig(c))).toEqual(Object.keys(CONFIG_TABLE));
  });
});
