/**
 * Embedded TLS and pinning, end to end (issue 10 item 17): the real collector (its built bin, TLS
 * embedded, SQLite in a data dir) and real agents (`enroll`, `run`) on a real TLS port.
 *  - the collector prints one fingerprint to pin, the CA's; the server certificate's is not offered;
 *  - an agent given the server certificate's (leaf) fingerprint is refused with a coded error
 *    before it sends its secret; one given the CA's enrolls and stores the CA as its pin;
 *  - a restart on the same data dir serves the same server certificate and the enrolled agent
 *    keeps shipping;
 *  - a server certificate close to expiry is renewed at start under the SAME CA (new leaf, same
 *    CA fingerprint) and the enrolled agent keeps shipping.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { loadOrCreateCa } from '@mcpwatch/collector';
import { AGENT_BIN, ADMIN_TOKEN, Child, COLLECTOR_BIN, ENROLL_SECRET, endpointOf, freePort, startAgent, storedEvents, waitFor, writeCursorConfig } from './agent-pipeline-harness.js';

const norm = (fp: string) => fp.replace(/:/g, '').toLowerCase();

/** The certificate chain the collector presents on a TLS handshake (no trust decision: read only). */
function presented(port: number): Promise<{ leaf: string; chain: string[] }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      const chain: string[] = [];
      for (let c: tls.DetailedPeerCertificate | undefined = s.getPeerCertificate(true); c && c.raw && chain.length < 5; c = c.issuerCertificate) {
        chain.push(norm(c.fingerprint256));
        if (c.issuerCertificate === c) break;
      }
      s.destroy();
      resolve({ leaf: chain[0]!, chain });
    });
    s.on('error', reject);
  });
}

interface Running {
  child: Child;
  caFingerprint: string;
  stderr: string;
}

async function startTlsCollector(dataDir: string, port: number, logDir: string): Promise<Running> {
  const proc = spawn(process.execPath, [COLLECTOR_BIN, '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--tls', 'embedded'], {
    env: { ...process.env, MCPWATCH_ENROLL_SECRET: ENROLL_SECRET, MCPWATCH_ADMIN_TOKEN: ADMIN_TOKEN, MCPWATCH_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const child = new Child(proc, path.join(logDir, 'collector.log'));
  try {
    await waitFor('the TLS collector to listen', () => {
      if (proc.exitCode !== null) throw new Error(`collector exited ${proc.exitCode}: ${child.text()}`);
      return /CA fingerprint \(sha256, pin this in agents\): [0-9a-f]{64}/.test(child.err.join(''));
    });
  } catch (e) {
    proc.kill('SIGKILL');
    throw e;
  }
  const stderr = child.err.join('');
  return { child, stderr, caFingerprint: /pin this in agents\): ([0-9a-f]{64})/.exec(stderr)![1]! };
}

async function enroll(server: string, stateDir: string, fingerprint: string, logDir: string): Promise<{ code: number | null; text: string }> {
  const proc = spawn(process.execPath, [AGENT_BIN, 'enroll', '--server', server, '--state-dir', stateDir, '--ca-fingerprint', fingerprint], {
    env: { ...process.env, MCPWATCH_ENROLL_SECRET: ENROLL_SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const child = new Child(proc, path.join(logDir, `enroll-${path.basename(path.dirname(stateDir))}.log`));
  const code = await child.exit;
  return { code, text: child.text() };
}

describe('embedded TLS: kept across restarts, renewed under the same CA, the agent pins the CA', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-tls-pin-'));
  const dataDir = path.join(root, 'collector');
  const home = path.join(root, 'home');
  const running: Child[] = [];
  afterAll(async () => {
    for (const c of running) await c.stop('SIGKILL');
  });

  test('restart keeps the server certificate, near-expiry renews it under the same CA, leaf pins are refused, the agent keeps shipping', async () => {
    const port = await freePort();
    const server = `https://127.0.0.1:${port}`;
    let collector = await startTlsCollector(dataDir, port, root);
    running.push(collector.child);
    const ca = collector.caFingerprint;
    const first = await presented(port);
    expect(first.chain).toContain(ca);
    expect(first.leaf).not.toBe(ca);
    // The only fingerprint offered is the CA's (the server certificate's is never printed to pin).
    expect(collector.stderr).not.toContain(first.leaf);
    expect(collector.stderr).toMatch(/server certificate: issued by this CA, valid until .*do not pin it/);
    const serverFiles = ['server-cert.pem', 'server-key.pem'].map((f) => path.join(dataDir, 'ca', f));
    for (const f of serverFiles) expect(fs.statSync(f).mode & 0o777).toBe(0o600);

    // An agent given the leaf fingerprint is refused with the coded error, before sending anything.
    const leafState = path.join(root, 'leaf-agent', 'state');
    const refused = await enroll(server, leafState, first.leaf, root);
    expect(refused.code).toBe(3);
    expect(refused.text).toContain('MCPW_ERR_CERT_PIN_IS_LEAF');
    expect(refused.text).toMatch(/pin its CA instead/);
    expect(fs.existsSync(path.join(leafState, 'enrollment.json'))).toBe(false);

    // The CA fingerprint (colon form, as `openssl x509 -fingerprint` prints it) enrolls.
    const stateDir = path.join(root, 'agent', 'state');
    const colon = ca.toUpperCase().match(/../g)!.join(':');
    const ok = await enroll(server, stateDir, colon, root);
    expect(ok).toMatchObject({ code: 0 });
    const record = JSON.parse(fs.readFileSync(path.join(stateDir, 'enrollment.json'), 'utf8')) as { caFingerprint: string };
    expect(record.caFingerprint).toBe(ca);
    const { agentId } = endpointOf(stateDir);

    writeCursorConfig(home, ['alpha']);
    const agent = startAgent({ stateDir, home, logFile: path.join(root, 'agent.log') });
    running.push(agent);
    const heartbeats = () => storedEvents(dataDir, agentId).filter((e) => e.type === 'agent.heartbeat').length;
    const serversNamed = (name: string) => storedEvents(dataDir, agentId).some((e) => e.type === 'server.added' && e.data.includes(`"name":"${name}"`));
    await waitFor('the start snapshot at the collector', () => storedEvents(dataDir, agentId).some((e) => e.type === 'inventory.snapshot'));

    // Restart on the same data dir: same server certificate, and the agent still ships.
    expect(await collector.child.stop()).toBe(0);
    collector = await startTlsCollector(dataDir, port, root);
    running.push(collector.child);
    expect(collector.caFingerprint).toBe(ca);
    expect((await presented(port)).leaf).toBe(first.leaf);
    expect(collector.stderr).toMatch(/kept from the data dir/);
    writeCursorConfig(home, ['alpha', 'beta']);
    await waitFor('a change shipped after the restart', () => serversNamed('beta'));

    // A server certificate 10 days from expiry: renewed at start under the same CA.
    expect(await collector.child.stop()).toBe(0);
    const authority = loadOrCreateCa({ dataDir });
    const keyPem = fs.readFileSync(serverFiles[1]!, 'utf8');
    const nearExpiry = authority.issueServerCertificate(['localhost', '127.0.0.1', '::1'], new Date(Date.now() - 387 * 86_400_000), keyPem);
    fs.writeFileSync(serverFiles[0]!, nearExpiry.certificatePem);
    collector = await startTlsCollector(dataDir, port, root);
    running.push(collector.child);
    expect(collector.caFingerprint).toBe(ca);
    expect(collector.stderr).toMatch(/renewed before expiry/);
    const renewed = await presented(port);
    expect(renewed.leaf).not.toBe(first.leaf);
    expect(renewed.leaf).not.toBe(norm(nearExpiry.fingerprint));
    expect(renewed.chain).toContain(ca);
    const leafCert = new X509Certificate(fs.readFileSync(serverFiles[0]!));
    expect(Date.parse(leafCert.validTo) - Date.now()).toBeGreaterThan(300 * 86_400_000);
    const before = heartbeats();
    writeCursorConfig(home, ['alpha', 'beta', 'gamma']);
    await waitFor('a change shipped after the renewal', () => serversNamed('gamma'));
    await waitFor('heartbeats after the renewal', () => heartbeats() > before);
    expect(agent.text()).not.toMatch(/MCPW_ERR_CERT_PIN/);
  }, 300_000);
});
