/**
 * A collector killed with SIGKILL while its drainer is publishing resumes after a restart without
 * losing outbox rows: rows it had leased are taken again once the lease ends. Real peers: the
 * collector binary (bin/mcpwatch-collector.js over dist/; build first) in a child process with
 * SQLite, a signing test agent over HTTP, kinesalite behind a slowed proxy.
 * Canary secrets (enroll secret, admin token, AWS secret key) must never appear in its output.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpTransport, pooledKeyPair, TestAgent, FaultProxy, Kinesalite } from '@mcpwatch/testkit';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = resolve(here, '../../../bin/mcpwatch-collector.js');
const DIST = resolve(here, '../../../dist/server-cli.js');
const ENROLL = 'canary-enroll-secret-7f3a91';
const ADMIN = 'canary-admin-token-55d0c2';
const AWS_SECRET = 'canary-aws-secret-key-0b7e44';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Running {
  child: ChildProcess;
  url: string;
  output: () => string;
}

async function startCollector(dataDir: string, kinesisEndpoint: string): Promise<Running> {
  let out = '';
  const child = spawn(process.execPath, [BIN, '--data-dir', dataDir, '--listen', '127.0.0.1:0'], {
    env: {
      PATH: process.env.PATH,
      MCPWATCH_ENROLL_SECRET: `fleet:${ENROLL}`,
      MCPWATCH_ADMIN_TOKEN: ADMIN,
      MCPWATCH_TLS: 'off',
      MCPWATCH_LOG_LEVEL: 'info',
      MCPWATCH_KINESIS_STREAM: 'events',
      MCPWATCH_KINESIS_ENDPOINT: kinesisEndpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: AWS_SECRET,
      MCPWATCH_OUTBOX_LEASE_MS: '3000',
      MCPWATCH_SINK_SEND_DEADLINE_MS: '1000',
      MCPWATCH_OUTBOX_BATCH: '50',
      MCPWATCH_OUTBOX_POLL_MS: '50',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
    if (m) return { child, url: m[1]!, output: () => out };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`collector did not start:\n${out}`);
    await sleep(50);
  }
}

async function outboxDepth(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /mcpwatch_outbox_depth\{sink="kinesis"\} (\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

async function stop(r: Running | undefined): Promise<void> {
  if (!r || r.child.exitCode !== null || r.child.signalCode !== null) return;
  const exited = new Promise((res) => r.child.once('exit', res));
  r.child.kill('SIGTERM');
  await exited;
}

describe('collector killed with SIGKILL while draining', () => {
  let k: Kinesalite;
  let proxy: FaultProxy;
  let dataDir: string;
  let first: Running | undefined;
  let second: Running | undefined;

  beforeAll(async () => {
    if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run "npm run build" first (the test runs the real collector binary)`);
    k = await new Kinesalite().start();
    await k.createStream('events', 2);
    proxy = await new FaultProxy(k.port).up();
    dataDir = mkdtempSync(join(tmpdir(), 'mcpw-kill-'));
  });

  afterAll(async () => {
    await stop(first);
    await stop(second);
    await proxy?.stop();
    await k?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('resumes after a restart and publishes every acknowledged event', async () => {
    proxy.delayMs = 150; // slow Kinesis: draining is still going when the kill comes
    first = await startCollector(dataDir, proxy.endpoint);
    const transport = httpTransport(first.url);
    const agent = await TestAgent.enroll(transport, { enrollSecret: ENROLL, keys: pooledKeyPair(9) });
    const acked: string[] = [];
    for (let b = 0; b < 30; b++) {
      const events = agent.events(50);
      expect((await agent.sendEvents(events)).status).toBe(200);
      acked.push(...events.map((e) => e.id));
    }
    transport.close();

    // Kill while some records are out and rows are still waiting (or leased).
    const deadline = Date.now() + 30_000;
    let published = 0;
    let waiting = 0;
    while (Date.now() < deadline) {
      published = (await k.readAll('events')).length;
      waiting = await outboxDepth(first.url);
      if (published > 0 && waiting > 0) break;
      await sleep(100);
    }
    expect(published).toBeGreaterThan(0);
    expect(waiting).toBeGreaterThan(0);
    first.child.kill('SIGKILL');
    await new Promise((r) => first!.child.once('exit', r));
    expect(first.child.signalCode).toBe('SIGKILL');

    proxy.delayMs = 0;
    second = await startCollector(dataDir, proxy.endpoint);
    const drainDeadline = Date.now() + 60_000;
    while ((await outboxDepth(second.url)) > 0 && Date.now() < drainDeadline) await sleep(200);
    expect(await outboxDepth(second.url)).toBe(0);

    const got = await k.readAll('events');
    const ids = got.map((r) => (JSON.parse(r.data.toString('utf8')) as { event: { id: string } }).event.id);
    const set = new Set(ids);
    const missing = acked.filter((id) => !set.has(id));
    expect({ acked: acked.length, missing: missing.length }).toEqual({ acked: 1500, missing: 0 });
    console.info(`kill -9: ${published} records out before the kill, ${ids.length - set.size} duplicates after the restart (at-least-once)`);

    await stop(second);
    const output = first.output() + second.output();
    for (const canary of [ENROLL, ADMIN, AWS_SECRET]) expect(output.includes(canary)).toBe(false);
  }, 150_000);
});
