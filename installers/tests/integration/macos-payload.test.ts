/**
 * The macOS package inputs assembled on Linux (scripts/lib/build-macos.mjs) and the profile CLI
 * (macos/make-profiles.mjs): payload trees per architecture laid out as pkgbuild --root expects,
 * executable install scripts that parse, distribution files per architecture, and profiles with
 * the secret kept out of output and readable by root only.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from '../../scripts/lib/build-macos.mjs';
import { MACOS } from '../../macos/macos-layout.mjs';
import { INSTALLERS_DIR, run } from '../helpers/artifacts.js';
import { HAS_PYTHON, parsePlist } from '../helpers/plist-parse.js';

const SECRET = 'CANARY-profile-secret-42';

describe('macOS payload', () => {
  let out: string;
  let produced: string[];
  const logs: string[] = [];
  beforeAll(async () => {
    out = mkdtempSync(path.join(os.tmpdir(), 'mcpwatch-macos-'));
    const executables: Record<string, string> = {};
    for (const target of ['darwin-arm64', 'darwin-x64']) {
      executables[target] = path.join(out, `stand-in-${target}`);
      writeFileSync(executables[target]!, `stand-in executable for ${target}`);
    }
    produced = await build({
      installersDir: INSTALLERS_DIR, outDir: out, version: '1.2.3', executables, log: (line: string) => logs.push(line),
      env: { MCPWATCH_SERVER_URL: 'https://mcpwatch.example.com', MCPWATCH_ENROLL_SECRET: SECRET, MCPWATCH_APPLE_TEAM_ID: 'ABCDE12345' },
    });
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('lays out one pkgbuild root per architecture with the executable and the launchd daemon', () => {
    for (const arch of ['arm64', 'x64']) {
      const root = path.join(out, 'macos', `payload-${arch}`);
      const binary = path.join(root, MACOS.binary);
      expect(readFileSync(binary, 'utf8')).toBe(`stand-in executable for darwin-${arch}`);
      expect(statSync(binary).mode & 0o777).toBe(0o755);
      expect(statSync(path.join(root, MACOS.daemonPlist)).mode & 0o777).toBe(0o644);
      expect(readdirSync(root).sort()).toEqual(['Library', 'usr']);
    }
  });

  it('ships executable install scripts, build-pkg.sh and uninstall.sh that parse', async () => {
    for (const script of ['scripts/preinstall', 'scripts/postinstall', 'build-pkg.sh', 'uninstall.sh']) {
      const file = path.join(out, 'macos', script);
      expect(statSync(file).mode & 0o755).toBe(0o755);
      const check = await run('sh', ['-n', file]);
      expect(check.stderr).toBe('');
      expect(check.status).toBe(0);
    }
    expect(readFileSync(path.join(out, 'macos', 'VERSION'), 'utf8')).toBe('1.2.3\n');
  });

  it('restricts each distribution to its architecture', () => {
    expect(readFileSync(path.join(out, 'macos', 'distribution-arm64.xml'), 'utf8')).toContain('hostArchitectures="arm64"');
    expect(readFileSync(path.join(out, 'macos', 'distribution-x64.xml'), 'utf8')).toContain('hostArchitectures="x86_64"');
    expect(readFileSync(path.join(out, 'macos', 'distribution-x64.xml'), 'utf8')).toContain('>component-x64.pkg</pkg-ref>');
  });

  (HAS_PYTHON ? it : it.skip)('writes both profiles when their values are given; the settings profile is root-only', () => {
    const settings = path.join(out, 'macos', 'profiles', 'mcpwatch-agent-settings.mobileconfig');
    expect(statSync(settings).mode & 0o777).toBe(0o600);
    expect(parsePlist(readFileSync(settings, 'utf8'))).toMatchObject({ PayloadType: 'Configuration' });
    expect(parsePlist(readFileSync(path.join(out, 'macos', 'profiles', 'mcpwatch-agent-full-disk-access.mobileconfig'), 'utf8'))).toMatchObject({ PayloadType: 'Configuration' });
    expect(produced).toContain(settings);
    expect(logs.join('\n')).not.toContain(SECRET);
  });
});

describe('make-profiles.mjs', () => {
  const cli = path.join(INSTALLERS_DIR, 'macos', 'make-profiles.mjs');
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'mcpwatch-profiles-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the secret from a file and never prints it', async () => {
    writeFileSync(path.join(dir, 'secret'), `${SECRET}\n`);
    const result = await run(process.execPath, [cli, '--server-url', 'https://mcpwatch.example.com', '--enroll-secret-file', path.join(dir, 'secret'), '--team-id', 'ABCDE12345', '--out-dir', path.join(dir, 'out')]);
    expect(result.status).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(SECRET);
    const settings = readFileSync(path.join(dir, 'out', 'mcpwatch-agent-settings.mobileconfig'), 'utf8');
    expect(settings).toContain(`<string>${SECRET}</string>`);
    expect(readdirSync(path.join(dir, 'out')).sort()).toEqual(['mcpwatch-agent-full-disk-access.mobileconfig', 'mcpwatch-agent-settings.mobileconfig']);
  });

  it('fails with a coded error on missing or bad input and writes nothing', async () => {
    const missing = await run(process.execPath, [cli, '--out-dir', path.join(dir, 'out')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('MCPW_ERR_PACKAGE_BAD_ARGUMENT');
    const bad = await run(process.execPath, [cli, '--server-url', 'nope', '--out-dir', path.join(dir, 'out2')], { env: { ...process.env, MCPWATCH_ENROLL_SECRET: SECRET } });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('MCPW_ERR_PACKAGE_BAD_CONFIG_VALUE');
    expect(bad.stderr).not.toContain(SECRET);
    expect(readdirSync(dir)).toEqual([]);
  });
});
