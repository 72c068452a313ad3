import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as plist from 'plist';
import { loadConfig, describeConfig, parseValue } from '../../../src/config/load-config.js';
import { parseRegQueryOutput } from '../../../src/config/managed-sources.js';
import { CONFIG_TABLE } from '../../../src/config/config-table.js';

const CANARY = 'canary-secret-7f3a9c1e';

function fixtureRoot(files: Record<string, string | Buffer>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-cfg-'));
  for (const [rel, content] of Object.entries(files)) {
    const f = path.join(root, rel);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, content);
  }
  return root;
}

// Captured from `reg query HKLM\SOFTWARE\Policies\mcpwatch` on Windows 11 (values set by an MDM).
const REG_OUTPUT = [
  '',
  'HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\mcpwatch',
  '    server    REG_SZ    https://collector.corp.example:8443',
  '    enrollSecret    REG_SZ    ' + CANARY,
  '    heartbeatMs    REG_DWORD    0x7530',
  '    spoolMaxBytes    REG_QWORD    0x3200000',
  '    caFingerprint    REG_EXPAND_SZ    AB:CD:EF',
  '    allow    REG_MULTI_SZ    a\\0b\\0',
  '    blob    REG_BINARY    0102',
  '',
].join('\r\n');

describe('config table', () => {
  it('has an env var, a flag and a description for every key', () => {
    for (const [k, spec] of Object.entries(CONFIG_TABLE)) {
      expect(spec.env).toMatch(/^MCPWATCH_[A-Z_]+$/);
      expect(spec.flag).toMatch(/^[a-z-]+$/);
      expect(spec.description.length).toBeGreaterThan(10);
      expect(k).toMatch(/^[a-z][A-Za-z]+$/);
    }
  });

  it('parses and bounds values by type', () => {
    expect(parseValue(CONFIG_TABLE.heartbeatMs, '5000')).toEqual({ ok: true, value: 5000 });
    expect(parseValue(CONFIG_TABLE.heartbeatMs, '5.5')).toMatchObject({ ok: false, reason: 'expected an integer' });
    expect(parseValue(CONFIG_TABLE.heartbeatMs, 10)).toMatchObject({ ok: false });
    expect(parseValue(CONFIG_TABLE.lowPriority, 'off')).toEqual({ ok: true, value: false });
    expect(parseValue(CONFIG_TABLE.spoolFsync, 'sometimes')).toMatchObject({ ok: false });
    expect(parseValue(CONFIG_TABLE.server, 'https://u:p@x.example')).toMatchObject({ ok: false, reason: 'URL must not carry credentials' });
    expect(parseValue(CONFIG_TABLE.server, 'ftp://x')).toMatchObject({ ok: false });
  });
});

describe('loadConfig', () => {
  it('takes the command line over the environment over the config file over managed places', async () => {
    const root = fixtureRoot({
      'etc/mcpwatch/agent.json': JSON.stringify({ server: 'https://managed.example', heartbeatMs: 4000, batchMaxEvents: 7, retryBaseMs: 11 }),
      'conf/agent.json': JSON.stringify({ server: 'https://file.example', heartbeatMs: 3000, batchMaxEvents: 8 }),
    });
    const { config, sources, warnings } = await loadConfig({
      platform: 'linux',
      systemRoot: root,
      cli: { server: 'https://cli.example', config: path.join(root, 'conf/agent.json') },
      env: { MCPWATCH_SERVER: 'https://env.example', MCPWATCH_HEARTBEAT_MS: '2000' },
    });
    expect(warnings).toEqual([]);
    expect(config.server).toBe('https://cli.example');
    expect(config.heartbeatMs).toBe(2000);
    expect(config.batchMaxEvents).toBe(8);
    expect(config.retryBaseMs).toBe(11);
    expect(config.batchMaxWaitMs).toBe(100);
    expect(sources).toMatchObject({ server: 'command line', heartbeatMs: 'environment', batchMaxEvents: 'config file', retryBaseMs: 'system config', batchMaxWaitMs: 'default' });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('warns about unknown keys and bad values and falls back, without ever showing a secret', async () => {
    const root = fixtureRoot({
      'etc/mcpwatch/agent.json': JSON.stringify({ heartbeatMs: 9000, spoolFsync: 'always', enrollSecret: 42 }),
      'bad.json': JSON.stringify({ heartbeatMs: 'soon', spoolFsync: 'sometimes', colour: 'blue', enrollSecret: '' }),
    });
    const { config, warnings } = await loadConfig({
      platform: 'linux',
      systemRoot: root,
      cli: { config: path.join(root, 'bad.json'), 'no-such-flag': 'x' },
      env: { MCPWATCH_BATCH_MAX_EVENTS: '-3', MCPWATCH_ENROLL_SECRET: CANARY },
    });
    expect(config.heartbeatMs).toBe(9000);
    expect(config.spoolFsync).toBe('always');
    expect(config.batchMaxEvents).toBe(500);
    expect(config.enrollSecret).toBe(CANARY);
    const text = warnings.join('\n');
    expect(text).toMatch(/unknown option --no-such-flag/);
    expect(text).toMatch(/unknown setting "colour"/);
    expect(text).toMatch(/heartbeatMs="soon" is invalid \(expected a number\)/);
    expect(text).toMatch(/batchMaxEvents="-3" is invalid \(below the minimum 1\)/);
    expect(text).toMatch(/enrollSecret=\(secret value hidden\)/);
    expect(text).not.toContain(CANARY);
    expect(describeConfig({ config, sources: {} as never, warnings }).join('\n')).not.toContain(CANARY);
  });

  it('accepts the deprecated socketPollMs from every source with a warning, and keeps no such setting', async () => {
    const root = fixtureRoot({ 'etc/mcpwatch/agent.json': JSON.stringify({ socketPollMs: 2000, heartbeatMs: 9000 }) });
    const { config, warnings } = await loadConfig({
      platform: 'linux',
      systemRoot: root,
      cli: { 'socket-poll-ms': '1000' },
      env: { MCPWATCH_SOCKET_POLL_MS: '3000' },
    });
    expect(warnings).toEqual([
      'command line: socketPollMs is deprecated and ignored (sockets are read with every process poll; set processPollMs instead)',
      'environment: socketPollMs is deprecated and ignored (sockets are read with every process poll; set processPollMs instead)',
      'system config: socketPollMs is deprecated and ignored (sockets are read with every process poll; set processPollMs instead)',
    ]);
    expect(config).not.toHaveProperty('socketPollMs');
    expect(config.heartbeatMs).toBe(9000);
    expect(config.processPollMs).toBe(5000);
  });

  it('survives an unreadable, non-object or missing config file with a warning', async () => {
    const root = fixtureRoot({ 'etc/mcpwatch/agent.json': '{ not json', 'arr.json': '[1,2]' });
    const a = await loadConfig({ platform: 'linux', systemRoot: root, env: {} });
    expect(a.warnings.join()).toMatch(/system config .*cannot be read or parsed/);
    const b = await loadConfig({ platform: 'linux', systemRoot: root, env: { MCPWATCH_CONFIG: path.join(root, 'arr.json') } });
    expect(b.warnings.join()).toMatch(/expected a JSON object/);
    const c = await loadConfig({ platform: 'linux', systemRoot: root, env: { MCPWATCH_CONFIG: path.join(root, 'nope.json') } });
    expect(c.warnings.join()).toMatch(/not found/);
    expect(c.config.heartbeatMs).toBe(60_000);
  });

  it('reads macOS managed preferences as XML and binary plists', async () => {
    const prefs = { server: 'https://mdm.example', heartbeatMs: 30000, lowPriority: false, PayloadUUID: 'x' };
    const xml = fixtureRoot({ 'Library/Managed Preferences/com.mcpwatch.agent.plist': plist.build(prefs) });
    const a = await loadConfig({ platform: 'darwin', systemRoot: xml, env: {} });
    expect(a.config).toMatchObject({ server: 'https://mdm.example', heartbeatMs: 30000, lowPriority: false });
    expect(a.sources.server).toBe('managed preferences');
    expect(a.warnings.join()).toMatch(/unknown setting "PayloadUUID"/);

    const bin = fixtureRoot({ 'Library/Managed Preferences/com.mcpwatch.agent.plist': Buffer.from(plist.buildBinary(prefs)) });
    const b = await loadConfig({ platform: 'darwin', systemRoot: bin, env: {} });
    expect(b.config.heartbeatMs).toBe(30000);

    const broken = fixtureRoot({ 'Library/Managed Preferences/com.mcpwatch.agent.plist': '<plist><dict><key>x</key>' });
    const c = await loadConfig({ platform: 'darwin', systemRoot: broken, env: {} });
    expect(c.warnings.join()).toMatch(/managed preferences .*cannot be parsed/);
  });

  it('accepts the profile names ServerURL, EnrollSecret and CAFingerprint for the enrollment settings', async () => {
    const prefs = { ServerURL: 'https://mdm.example', EnrollSecret: CANARY, CAFingerprint: 'ab'.repeat(32) };
    const root = fixtureRoot({ 'Library/Managed Preferences/com.mcpwatch.agent.plist': plist.build(prefs) });
    const r = await loadConfig({ platform: 'darwin', systemRoot: root, env: {} });
    expect(r.config).toMatchObject({ server: 'https://mdm.example', enrollSecret: CANARY, caFingerprint: 'ab'.repeat(32) });
    expect(r.sources.enrollSecret).toBe('managed preferences');
    expect(r.warnings.join()).not.toMatch(/unknown setting/);
  });

  it('parses captured reg query output', () => {
    const { values, warnings } = parseRegQueryOutput(REG_OUTPUT);
    expect(values).toEqual({
      server: 'https://collector.corp.example:8443',
      enrollSecret: CANARY,
      heartbeatMs: 30000,
      spoolMaxBytes: 0x3200000,
      caFingerprint: 'AB:CD:EF',
      allow: ['a', 'b'],
    });
    expect(warnings).toEqual(['registry value blob has unsupported type REG_BINARY; ignored']);
  });

  it('takes the Windows registry policy over ProgramData agent.json', async () => {
    const root = fixtureRoot({ 'ProgramData/mcpwatch/agent.json': JSON.stringify({ heartbeatMs: 45000, batchMaxWaitMs: 50 }) });
    const queried: string[] = [];
    const { config, sources } = await loadConfig({
      platform: 'win32',
      systemRoot: root,
      env: {},
      regQuery: async (key) => {
        queried.push(key);
        return REG_OUTPUT;
      },
    });
    expect(queried).toEqual(['HKLM\\SOFTWARE\\Policies\\mcpwatch']);
    expect(config).toMatchObject({ heartbeatMs: 30000, batchMaxWaitMs: 50, server: 'https://collector.corp.example:8443', enrollSecret: CANARY });
    expect(sources.batchMaxWaitMs).toBe('ProgramData config');
    expect(config.stateDir).toMatch(/mcpwatch\\state$/);
  });
});
