/**
 * The enroll / run / status commands through the CLI entry (in-process, IO captured): usage errors
 * are exit 2 with a message, a machine that is not enrolled gets a clear instruction, and status
 * works (read-only) against a fake collector.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli.js';
import { FakeEnrollServer } from '@mcpwatch/testkit';

function io(env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const ctl = new AbortController();
  return {
    out,
    err,
    io: { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s), env: { HOME: os.tmpdir(), ...env }, signal: ctl.signal },
  };
}
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-cmd-'));

describe('agent pipeline commands', () => {
  it('enroll: missing server or secret is a usage error (exit 2)', async () => {
    const a = io();
    expect(await main(['enroll', '--state-dir', tmp()], a.io)).toBe(2);
    expect(a.err.join('')).toMatch(/--server URL is required/);
    const b = io({ MCPWATCH_SERVER: 'http://127.0.0.1:9' });
    expect(await main(['enroll', '--state-dir', tmp()], b.io)).toBe(2);
    expect(b.err.join('')).toMatch(/--secret S is required/);
    const c = io();
    expect(await main(['enroll', '--server'], c.io)).toBe(2);
    expect(c.err.join('')).toMatch(/--server needs a value/);
  });

  it('enroll: a plain-http collector that is not loopback is refused (exit 3) without sending the secret', async () => {
    const a = io({ MCPWATCH_ENROLL_SECRET: 'canary-cmd-secret-1' });
    expect(await main(['enroll', '--server', 'http://collector.example.com', '--state-dir', tmp()], a.io)).toBe(3);
    expect(a.err.join('')).toMatch(/MCPW_ERR_INSECURE_URL: collector URL http:\/\/collector.example.com must use https/);
    expect(a.err.join('') + a.out.join('')).not.toContain('canary-cmd-secret-1');
  });

  it('enroll then status against a collector; the secret is never printed', async () => {
    const server = new FakeEnrollServer('canary-cmd-secret-2', false);
    const url = await server.listen();
    const stateDir = tmp();
    try {
      const e = io({ MCPWATCH_ENROLL_SECRET: 'canary-cmd-secret-2' });
      expect(await main(['enroll', '--server', url, '--state-dir', stateDir], e.io)).toBe(0);
      expect(e.out.join('')).toMatch(/enrolled with http:\/\/127.0.0.1:\d+\n {2}agent id: {4}ag_test1/);
      const s = io();
      // the fake answers 401 to /healthz (it only knows enrollment): reachable is false, exit 1
      expect(await main(['status', '--state-dir', stateDir, '--json'], s.io)).toBe(1);
      const report = JSON.parse(s.out.join(''));
      expect(report).toMatchObject({ enrolled: true, agentId: 'ag_test1', server: url, collector: { reachable: false, status: 401 }, spool: null, lastSeq: 0 });
      for (const x of [e, s]) expect(x.out.join('') + x.err.join('')).not.toContain('canary-cmd-secret-2');
    } finally {
      await server.close();
    }
  });

  it('status and run on a machine that is not enrolled say what to do', async () => {
    const stateDir = tmp();
    const s = io();
    expect(await main(['status', '--state-dir', stateDir], s.io)).toBe(1);
    expect(s.out.join('')).toMatch(/enrolled: +no \(run: mcpwatch-agent enroll --server URL --secret S\)/);
    expect(s.out.join('')).toMatch(/NOT reachable: no collector configured/);
    const r = io();
    expect(await main(['run', '--state-dir', stateDir, '--home', stateDir, '--platform', 'linux'], r.io)).toBe(3);
    expect(r.err.join('')).toMatch(/not enrolled .* run: mcpwatch-agent enroll --server URL --secret S/);
  });

  it('status neutralises terminal escapes in what it prints (a collector error quoted back, a hostile last error)', async () => {
    const stateDir = tmp();
    fs.writeFileSync(path.join(stateDir, 'shipper-state.json'), JSON.stringify({ lastError: 'boom \u001b]0;pwned\u0007\u001b[2J\u009b31m\u202eevil\r\nforged line' }));
    for (const json of [false, true]) {
      const s = io();
      await main(['status', '--state-dir', stateDir, ...(json ? ['--json'] : [])], s.io);
      const out = s.out.join('');
      expect(out).toMatch(/boom/);
      // eslint-disable-next-line no-control-regex -- the test looks for raw control characters
      expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
      expect(out).not.toContain('\r\nforged');
    }
  });

  it('run: a second agent on the same state dir is refused', async () => {
    const { acquireRunLock } = await import('../../src/runtime/agent-runtime.js');
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'run.lock'), String(process.ppid));
    const held = acquireRunLock(dir);
    expect(held).toEqual({ ok: false, pid: process.ppid });
    fs.writeFileSync(path.join(dir, 'run.lock'), '999999999'); // a dead pid: stale lock taken over
    const taken = acquireRunLock(dir);
    expect(taken.ok).toBe(true);
    if (taken.ok) taken.release();
    expect(fs.existsSync(path.join(dir, 'run.lock'))).toBe(false);
  });
});
