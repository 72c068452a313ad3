/**
 * The Windows service host's portable modes, built natively from the same C source the MSI ships
 * (mingw build checked in msi.test.ts): write-config writes the agent's JSON config owner-only and
 * atomically, keeps an existing file when no SERVER_URL is given, refuses bad values without
 * touching the file and never prints a value; enroll-if-needed runs the agent's enroll only while
 * the state dir is empty and never fails the installation.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hasTool, run } from '../helpers/artifacts.js';
import { buildNativeServiceHost } from '../helpers/service-host.js';

const SECRET = 'CANARY-msi-secret "quoted" \\ back\tslash';
const describeWithCc = hasTool('cc') ? describe : describe.skip;
if (!hasTool('cc')) console.warn('service host tests skipped: no C compiler (cc)');

describeWithCc('mcpwatch-service (native build)', () => {
  let host: string;
  let dir: string;
  beforeAll(async () => { host = await buildNativeServiceHost(); });
  beforeEach(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'mcpwatch-service-test-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('write-config writes the agent config keys as JSON, owner-only, values escaped and never printed', async () => {
    const file = path.join(dir, 'agent.json');
    const result = await run(host, ['write-config', file, 'https://collector.example:8443', SECRET, 'ab'.repeat(32)]);
    expect(result.status).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ server: 'https://collector.example:8443', enrollSecret: SECRET, caFingerprint: 'ab'.repeat(32) });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700); // the data directory is locked too (an ACL on Windows)
    expect(existsSync(`${file}.tmp`)).toBe(false);
    expect(result.stdout + result.stderr).not.toContain('CANARY');
  });

  it('write-config omits empty optional values', async () => {
    const file = path.join(dir, 'agent.json');
    expect((await run(host, ['write-config', file, 'https://c.example', '', ''])).status).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ server: 'https://c.example' });
  });

  it('write-config without SERVER_URL keeps the existing file (upgrade or repair)', async () => {
    const file = path.join(dir, 'agent.json');
    writeFileSync(file, '{"server":"https://kept.example"}');
    const result = await run(host, ['write-config', file, '', SECRET, '']);
    expect(result.status).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('{"server":"https://kept.example"}');
  });

  it('write-config refuses a server that is not http(s) with MCPW_ERR_SERVICE_BAD_CONFIG and leaves the file', async () => {
    const file = path.join(dir, 'agent.json');
    writeFileSync(file, '{"server":"https://kept.example"}');
    const result = await run(host, ['write-config', file, 'ftp://collector.example', SECRET, '']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('MCPW_ERR_SERVICE_BAD_CONFIG');
    expect(result.stderr).not.toContain('CANARY');
    expect(readFileSync(file, 'utf8')).toBe('{"server":"https://kept.example"}');
  });

  it('write-config refuses a relative path with MCPW_ERR_SERVICE_BAD_CONFIG', async () => {
    const result = await run(host, ['write-config', 'agent.json', 'https://c.example', SECRET, ''], { cwd: dir });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('must be absolute');
    expect(existsSync(path.join(dir, 'agent.json'))).toBe(false);
  });

  it('write-config into a missing directory fails with MCPW_ERR_SERVICE_IO (exit 3)', async () => {
    const result = await run(host, ['write-config', path.join(dir, 'missing', 'agent.json'), 'https://c.example', SECRET, '']);
    expect(result.status).toBe(3);
    expect(result.stderr).toContain('MCPW_ERR_SERVICE_IO');
  });

  it('wrong argument counts print usage (exit 64)', async () => {
    const result = await run(host, ['write-config', 'only-a-path']);
    expect(result.status).toBe(64);
    expect(result.stderr).toContain('usage: mcpwatch-service');
  });

  describe('enroll-if-needed', () => {
    /** A stand-in agent that records its arguments and exits with `code`. */
    function fakeAgent(code: number): { exe: string; calls: () => string[] } {
      const log = path.join(dir, 'calls.log');
      const exe = path.join(dir, 'fake-agent.sh');
      writeFileSync(exe, `#!/bin/sh\necho "$*" >> "${log}"\nexit ${code}\n`);
      chmodSync(exe, 0o755);
      return { exe, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []) };
    }

    it('runs "enroll --state-dir DIR --config FILE" when the state dir is missing', async () => {
      const agent = fakeAgent(0);
      const state = path.join(dir, 'state');
      const result = await run(host, ['enroll-if-needed', agent.exe, state, path.join(dir, 'agent.json')]);
      expect(result.status).toBe(0);
      expect(agent.calls()).toEqual([`enroll --state-dir ${state} --config ${path.join(dir, 'agent.json')}`]);
      expect(result.stderr).toContain('enrolled');
      expect(statSync(dir).mode & 0o777).toBe(0o700);
    });

    it('does nothing when the state dir already holds an enrollment (upgrade)', async () => {
      const agent = fakeAgent(0);
      const state = path.join(dir, 'state');
      mkdirSync(state);
      writeFileSync(path.join(state, 'enrollment.json'), '{}');
      expect((await run(host, ['enroll-if-needed', agent.exe, state, 'x'])).status).toBe(0);
      expect(agent.calls()).toEqual([]);
    });

    it('reports a failed enrollment but exits 0 so the installation is not rolled back', async () => {
      const agent = fakeAgent(3);
      const result = await run(host, ['enroll-if-needed', agent.exe, path.join(dir, 'state'), 'x']);
      expect(result.status).toBe(0);
      expect(result.stderr).toContain('enrollment failed (exit 3)');
      expect(agent.calls()).toHaveLength(1);
    });
  });
});
