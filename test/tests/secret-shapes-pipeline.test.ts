/**
 * End to end, issue 10 items 2-5: a real agent (`mcpwatch-agent run`, child process) on a fixture
 * home whose configs hold secrets in the shapes that used to leave the endpoint, shipping through a
 * recording proxy to the real collector (SQLite, file sink with its Kinesis and Security Hub/ASFF
 * renderings). No canary may appear in the agent's state (spool, inventory), the HTTP bodies, the
 * collector's store, its outlet files or any log — while the servers and findings themselves do
 * arrive (so the check covers real output).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  RecordingProxy,
  endpointOf,
  enrollAgent,
  filesContaining,
  freePort,
  startAgent,
  startCollector,
  storedEvents,
  waitFor,
  type Child,
  type CollectorHandle,
} from './agent-pipeline-harness.js';

const CANARIES = {
  specPass: 'canaryE2eSpecPw4Kq9',
  specTok: 'canaryE2eSpecTok7Lm2',
  dockerEnv: 'canaryE2eDocker5Hn2',
  lowerTok: 'm4k8x2w7q3p9z1r6t5y0u3v8n2b7c4d9f6g1h5j0',
  base32: 'NBSWY3DP2EHPK3PXQ4MZTWQ5LK',
  jsonKey: 'canaryE2eJson6Tp3',
  jsonEsc: 'canaryE2eJsonEsc2Wq8',
  colonFlag: 'canaryE2eColon9Mb4',
  envKey: 'canaryE2eEnvKey8Zx3',
  hdrKey: 'canaryE2eHdrKey4Qs9',
  qPass: 'canaryE2eQpass3Nd7',
  qSess: 'canaryE2eQsess6Rf1',
  matrix: 'canaryE2eMatrix2Vb5',
} as const;

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-e2e-shapes-'));
const logs = path.join(base, 'logs');
const dataDir = path.join(base, 'collector');
const stateDir = path.join(base, 'agent', 'state');
const home = path.join(base, 'agent', 'home');
const proxy = new RecordingProxy();
let collector: CollectorHandle | null = null;
let agent: Child | null = null;

function plant(): void {
  const file = path.join(home, '.cursor', 'mcp.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({
    mcpServers: {
      'spec-uvx': { command: 'uvx', args: ['--from', `git+https://deploy:${CANARIES.specPass}@git.example.com/org/repo-mcp`, 'repo-mcp'] },
      'spec-pipx': { command: 'pipx', args: ['run', '--spec', `git+https://${CANARIES.specTok}@github.com/org/tool.git`, 'tool'] },
      docker: { command: 'docker', args: ['run', '-i', '--rm', '-e', `GITHUB_PERSONAL_ACCESS_TOKEN=${CANARIES.dockerEnv}`, 'ghcr.io/github/github-mcp-server'] },
      tokens: { command: 'npx', args: ['-y', '@vendor/mcp-server', CANARIES.lowerTok, CANARIES.base32] },
      forms: {
        command: 'npx',
        args: ['-y', 'srv', '--config', JSON.stringify({ apiKey: CANARIES.jsonKey }), `{\\"token\\":\\"${CANARIES.jsonEsc}\\"}`, `--api-key:${CANARIES.colonFlag}`],
        env: { [`API_KEY=${CANARIES.envKey}`]: '' },
      },
      params: {
        url: `https://mcp.example.com/app;token=${CANARIES.matrix}/mcp?pass=${CANARIES.qPass}&session_id=${CANARIES.qSess}`,
        headers: { [`Authorization: Bearer ${CANARIES.hdrKey}`]: '' },
      },
    },
  }, null, 2));
}

afterAll(async () => {
  await agent?.stop('SIGKILL');
  await collector?.child.stop('SIGKILL');
  await proxy.close();
  fs.rmSync(base, { recursive: true, force: true });
});

describe('secret shapes through the whole pipeline', () => {
  test('no canary reaches the spool, the wire, the store, the outlets (ASFF included) or a log', async () => {
    fs.mkdirSync(logs, { recursive: true });
    fs.mkdirSync(home, { recursive: true });
    plant();
    const collectorPort = await freePort();
    proxy.upstreamPort = collectorPort;
    const server = `http://127.0.0.1:${await proxy.listen()}`;
    collector = await startCollector(dataDir, collectorPort, logs);
    await enrollAgent(server, stateDir, logs);
    const { agentId } = endpointOf(stateDir);
    agent = startAgent({ stateDir, home, logFile: path.join(logs, 'agent.log') });

    await waitFor('the start snapshot in the store', () => storedEvents(dataDir, agentId).some((e) => e.type === 'inventory.snapshot'));
    const snapshot = storedEvents(dataDir, agentId).find((e) => e.type === 'inventory.snapshot')!;
    const outlet = path.join(dataDir, 'outlets', 'kinesis.jsonl');
    await waitFor('the snapshot in the Kinesis outlet file', () => fs.existsSync(outlet) && fs.readFileSync(outlet, 'utf8').includes(snapshot.id));
    // ASFF titles are built from package names, which are built from install specs.
    const asff = path.join(dataDir, 'outlets', 'securityhub.jsonl');
    await waitFor('the unpinned-package finding in the Security Hub outlet file', () =>
      fs.existsSync(asff) && fs.readFileSync(asff, 'utf8').includes('Unpinned package git+https://git.example.com/org/repo-mcp'),
    );
    await agent.stop('SIGTERM');
    await collector.child.stop('SIGTERM');

    // The entries were really read, normalized and judged.
    const doc = JSON.parse(snapshot.data) as { servers: Array<{ name: string; envKeys: string[]; headerKeys: string[] }>; findings: Array<{ ruleId: string; subject: { serverName?: string } }> };
    expect(doc.servers.map((s) => s.name).sort()).toEqual(['docker', 'forms', 'params', 'spec-pipx', 'spec-uvx', 'tokens']);
    expect(doc.servers.find((s) => s.name === 'forms')?.envKeys).toEqual(['API_KEY']);
    expect(doc.servers.find((s) => s.name === 'params')?.headerKeys).toEqual(['Authorization']);
    const flagged = new Set(doc.findings.filter((f) => f.ruleId === 'secret-in-config').map((f) => f.subject.serverName));
    expect([...flagged].sort()).toEqual(['docker', 'forms', 'params', 'spec-pipx', 'spec-uvx', 'tokens']);

    const bodies = proxy.bodies.map((b) => {
      try {
        return gunzipSync(b).toString('utf8');
      } catch {
        return b.toString('utf8');
      }
    });
    expect(bodies.length).toBeGreaterThan(0);
    const leaks: string[] = [];
    for (const [name, value] of Object.entries(CANARIES)) {
      for (const f of [...filesContaining(stateDir, value), ...filesContaining(dataDir, value), ...filesContaining(logs, value)]) leaks.push(`${name} in ${f}`);
      if (bodies.some((b) => b.includes(value))) leaks.push(`${name} in an HTTP body`);
    }
    expect(leaks).toEqual([]);
    // the canary config was really there
    expect(fs.readFileSync(path.join(home, '.cursor', 'mcp.json'), 'utf8')).toContain(CANARIES.specPass);
  }, 180_000);
});
