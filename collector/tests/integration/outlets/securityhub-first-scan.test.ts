/**
 * End to end, real peers: a collector (buildApp on a real port, SQLite, sinks securityhub + file)
 * and the real agent (its built bin, enrolled fresh) scanning a fake home whose Claude Desktop
 * config already holds a GitHub token. The secret present at the FIRST scan reaches Security Hub
 * as an ACTIVE ASFF finding, in the Security Hub fake (which checks every finding against the ASFF
 * rules) and in moto_server (when installed; otherwise announced as skipped). With the token
 * removed, the agent's next start snapshot makes that finding ARCHIVED. The file sink's
 * securityhub.jsonl holds the same raised / resolved findings.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnableSecurityHubCommand, GetFindingsCommand, type AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import type { FastifyInstance } from 'fastify';
import { freePort, SecurityHubFake, stopProcess, waitFor } from '@mcpwatch/testkit';
import { buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { createSecurityHubClient } from '../../../src/sinks/securityhub-sink.js';
import { loadCaForTests } from '../../support/ca-cache.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const AGENT_BIN = join(ROOT, 'agent', 'bin', 'mcpwatch-agent.js');
const ENROLL_SECRET = 'first-scan-enroll-secret-0123456789';
const CREDS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret-test-key' };
const ACCOUNT = '123456789012'; // the fake maps AKIDTEST to it; moto's default account
const REGION = 'eu-west-1';
const TOKEN = 'ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789';

/** The Claude Desktop config of the fake home (linux layout), with or without the token. */
function writeClaudeConfig(home: string, withToken: boolean): void {
  const file = join(home, '.config', 'Claude', 'claude_desktop_config.json');
  mkdirSync(dirname(file), { recursive: true });
  const env = withToken ? { GITHUB_PERSONAL_ACCESS_TOKEN: TOKEN } : {};
  writeFileSync(file, JSON.stringify({ mcpServers: { github: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github@1.0.0'], env } } }, null, 2));
}

function agentProcess(args: string[], logs: string[]): ChildProcess & { exited: Promise<number | null> } {
  const child = spawn(process.execPath, [AGENT_BIN, ...args], {
    env: { ...process.env, MCPWATCH_ENROLL_SECRET: ENROLL_SECRET, MCPWATCH_RETRY_BASE_MS: '100', MCPWATCH_RETRY_MAX_MS: '1000', MCPWATCH_BATCH_MAX_WAIT_MS: '50' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => logs.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  return Object.assign(child, { exited });
}

/** Where the findings end up: the fake's store, or moto_server's GetFindings. */
interface Target {
  endpoint: string;
  /** RecordState of the finding with this ASFF Id, undefined while absent. */
  state(id: string): Promise<string | undefined>;
  /** Ids of the findings held, with their GeneratorId. */
  findings(): Promise<Array<{ id: string; generatorId: string; recordState: string }>>;
  /** The RecordStates this finding was imported with, in order (null when the target cannot say). */
  history(id: string): string[] | null;
  stop(): Promise<void>;
}

async function fakeTarget(): Promise<Target> {
  const fake = await new SecurityHubFake({ accounts: { [CREDS.accessKeyId]: ACCOUNT } }).start();
  return {
    endpoint: fake.endpoint,
    state: async (id) => fake.get(id)?.['RecordState'] as string | undefined,
    findings: async () => [...fake.findings.values()].map((f) => ({ id: f.Id, generatorId: String(f['GeneratorId']), recordState: String(f['RecordState']) })),
    history: (id) => fake.imported.filter((i) => i.id === id).map((i) => i.recordState),
    stop: () => fake.stop(),
  };
}

const motoPath = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' }).stdout.trim();
if (!motoPath) console.warn('SKIPPED moto_server first-scan Security Hub test: moto_server is not on PATH (pip install "moto[server]" to run it)');

async function motoTarget(): Promise<Target> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const moto = spawn(motoPath, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  await waitFor('moto_server to listen', () => fetch(`${endpoint}/moto-api/`).then(() => true, () => undefined), 30_000);
  const client = createSecurityHubClient({ region: REGION, endpoint, credentials: CREDS });
  await client.send(new EnableSecurityHubCommand({}));
  const all = async (): Promise<AwsSecurityFinding[]> => (await client.send(new GetFindingsCommand({}))).Findings ?? [];
  return {
    endpoint,
    state: async (id) => (await all()).find((f) => f.Id === id)?.RecordState,
    findings: async () => (await all()).map((f) => ({ id: f.Id!, generatorId: f.GeneratorId!, recordState: f.RecordState ?? 'ACTIVE' })),
    history: () => null,
    stop: async () => {
      client.destroy();
      await stopProcess(moto);
    },
  };
}

const targets: Array<[string, () => Promise<Target>]> = [['the Security Hub fake', fakeTarget]];
if (motoPath) targets.push(['moto_server', motoTarget]);

describe.each(targets)('findings present at the first scan reach Security Hub (%s)', (_name, makeTarget) => {
  const saved = { ...process.env };
  let dir: string;
  let target: Target;
  let app: FastifyInstance;
  let url: string;
  const logs: string[] = [];

  beforeAll(() => {
    // The collector's Security Hub client uses the default credential chain.
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: CREDS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey });
    delete process.env['AWS_SESSION_TOKEN'];
    delete process.env['AWS_PROFILE'];
  });
  afterAll(() => {
    process.env = saved;
  });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcpw-first-scan-'));
    target = await makeTarget();
    const config = loadConfig({
      overrides: {
        dataDir: join(dir, 'collector'),
        listen: '127.0.0.1:0',
        tls: 'off',
        enrollSecrets: `fleet:${ENROLL_SECRET}`,
        sinks: 'securityhub,file',
        securityHub: 'on',
        securityHubEndpoint: target.endpoint,
        awsAccountId: ACCOUNT,
        awsRegion: REGION,
        outboxPollMs: 50,
      },
    });
    app = await buildApp(config, { logger: false, ca: loadCaForTests() });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  }, 60_000);

  afterEach(async () => {
    await app?.close();
    await target?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a fresh agent whose config holds a GitHub token: ACTIVE at the first scan; token removed: ARCHIVED; the file sink shows the same', async () => {
    expect(existsSync(join(ROOT, 'agent', 'dist'))).toBe(true); // built CLI (npx tsc -b tsconfig.build.json)
    const home = join(dir, 'home');
    const stateDir = join(dir, 'agent-state');
    writeClaudeConfig(home, true);
    const enroll = agentProcess(['enroll', '--server', url, '--state-dir', stateDir], logs);
    expect(await enroll.exited).toBe(0);
    const runArgs = ['run', '--state-dir', stateDir, '--home', home, '--platform', 'linux', '--sources', 'configs', '--debounce-ms', '50'];

    // First start: the snapshot holds the secret finding; nothing else tells the collector about it.
    let agent = agentProcess(runArgs, logs);
    let secretId: string;
    try {
      secretId = await waitFor(`an ACTIVE secret-in-config finding (agent log: ${logs.join('').slice(-2000)})`, async () => {
        const f = (await target.findings()).find((x) => x.generatorId === 'secret-in-config');
        return f?.recordState === 'ACTIVE' ? f.id : undefined;
      });
    } finally {
      await stopProcess(agent);
    }
    const all = await target.findings();
    expect(all.map((f) => f.generatorId)).toContain('secret-in-config');
    // Never the token itself, anywhere in what Security Hub holds.
    expect(JSON.stringify(all)).not.toContain(TOKEN);

    // The token removed while the agent is down; its next start snapshot no longer lists it.
    writeClaudeConfig(home, false);
    agent = agentProcess(runArgs, logs);
    try {
      await waitFor('the secret finding ARCHIVED', async () => ((await target.state(secretId)) === 'ARCHIVED' ? true : undefined));
    } finally {
      await stopProcess(agent);
    }
    // Raised once, archived once: the unchanged findings of the second snapshot were not re-imported.
    const history = target.history(secretId);
    if (history) {
      expect(history).toEqual(['ACTIVE', 'ARCHIVED']);
      const others = (await target.findings()).filter((f) => f.id !== secretId);
      for (const f of others) expect(target.history(f.id)).toEqual(['ACTIVE']);
    }

    // The local preview (file sink) shows the same findings, in the same states.
    const file = join(dir, 'collector', 'outlets', 'securityhub.jsonl');
    const lines = await waitFor('the file sink to write the ARCHIVED finding', () => {
      if (!existsSync(file)) return undefined;
      const parsed = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { Id: string; RecordState: string; GeneratorId: string });
      return parsed.some((l) => l.Id === secretId && l.RecordState === 'ARCHIVED') ? parsed : undefined;
    });
    expect(lines.filter((l) => l.Id === secretId).map((l) => l.RecordState)).toEqual(['ACTIVE', 'ARCHIVED']);
    const latest = new Map(lines.map((l) => [l.Id, l.RecordState]));
    const held = await target.findings();
    expect([...latest].sort()).toEqual(held.map((f) => [f.id, f.recordState]).sort());
  }, 180_000);
});
