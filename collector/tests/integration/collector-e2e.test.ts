/**
 * Real ports: the embedded HTTPS listener with a certificate from the collector's CA, a test agent
 * that pins that CA, enrolls and sends; graceful shutdown finishing an in-flight batch; the CLI
 * entry point (`main`) from flags and env to a listening collector and back on SIGTERM.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/app.js';
import { caPaths } from '../../src/ca/certificate-authority.js';
import { loadConfig } from '../../src/config.js';
import { main } from '../../src/server-cli.js';
import { createStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { loadCaForTests } from '../support/ca-cache.js';
import { ENROLL_SECRET } from '../support/collector-fixture.js';
import { httpTransport, pooledKeyPair, TestAgent } from '@mcpwatch/testkit';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { probePostgres, TEST_PG_URL, uniqueSchemaName } from '../support/pg.js';

function tmp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

test('embedded HTTPS: an agent that pins the CA enrolls and sends; one that does not cannot connect', async () => {
  const dataDir = tmp('mcpw-e2e-');
  const config = loadConfig({ overrides: { dataDir, listen: '127.0.0.1:0', tls: 'embedded', enrollSecrets: `fleet:${ENROLL_SECRET}` } });
  const ca = loadCaForTests();
  const app = await buildApp(config, { logger: false, ca });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  const transport = httpTransport(`https://127.0.0.1:${port}`, { ca: ca.certificatePem });
  try {
    expect(app.collector.tls.mode).toBe('embedded');
    const agent = await TestAgent.enroll(transport, { enrollSecret: ENROLL_SECRET, keys: pooledKeyPair(0) });
    expect(agent.caCertificate).toBe(ca.certificatePem);
    for (let i = 1; i <= 3; i++) expect((await agent.sendEvents(20)).json).toMatchObject({ acked: i });
    const replay = agent.prepare(agent.events(1), { seq: 2, prevHash: 'f'.repeat(64) });
    expect((await agent.send(replay)).status).toBe(409);

    const untrusting = httpTransport(`https://127.0.0.1:${port}`);
    await expect(untrusting({ method: 'GET', path: '/healthz', headers: {} })).rejects.toThrow(/self.signed|unable to verify|certificate/i);
    untrusting.close();
  } finally {
    transport.close();
    await app.close(); // closes the store buildApp opened
  }
});

test('graceful shutdown: close() waits for the in-flight batch, which is stored and acknowledged', async () => {
  const dataDir = tmp('mcpw-grace-');
  const real = await createStore({ dataDir });
  let enterIngest!: () => void;
  const entered = new Promise<void>((r) => (enterIngest = r));
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const slow: Store = new Proxy(real, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (prop === 'ingestBatch') {
        return async (...args: unknown[]) => {
          enterIngest();
          await gate;
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const config = loadConfig({ overrides: { dataDir, tls: 'off', enrollSecrets: `fleet:${ENROLL_SECRET}` } });
  const app = await buildApp(config, { store: slow, logger: false, ca: loadCaForTests() });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const transport = httpTransport(url);
  try {
    const agent = await TestAgent.enroll(transport, { enrollSecret: ENROLL_SECRET, keys: pooledKeyPair(1) });
    const inFlight = agent.sendEvents(5);
    await entered;
    let closed = false;
    const closing = app.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(false);
    release();
    const res = await inFlight;
    await closing;
    expect(res.status).toBe(200);
    expect(res.headers.connection).toBe('close');
    expect(res.json).toMatchObject({ acked: 1 });
    const row = await real.getAgent(agent.agentId);
    expect(row?.lastSeq).toBe(1);
  } finally {
    release();
    transport.close();
    await real.close();
  }
});

test('CLI main(): flags + env only, SQLite in the data dir, prints the CA fingerprint, stops on SIGTERM', async () => {
  const dataDir = tmp('mcpw-cli-');
  const lines: string[] = [];
  const signals = new EventEmitter();
  const admin = 'CANARY-admin-token-123';
  const running = main(['--data-dir', dataDir, '--listen', '127.0.0.1:0', '--log-level', 'silent'], {
    env: { MCPWATCH_ENROLL_SECRET: `fleet:${ENROLL_SECRET}`, MCPWATCH_ADMIN_TOKEN: admin },
    stderr: (l) => lines.push(l),
    signals: signals as unknown as NodeJS.Process,
  });
  const deadline = Date.now() + 30_000;
  while (!lines.some((l) => l.includes('listening on')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const url = /listening on (\S+)/.exec(lines.join('\n'))?.[1];
  expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  const caPem = readFileSync(caPaths(dataDir).cert, 'utf8');
  const printed = /CA fingerprint \(sha256, pin this in agents\): ([0-9a-f]{64})/.exec(lines.join('\n'))?.[1];
  const { certificateFingerprint } = await import('@mcpwatch/shared');
  expect(printed).toBe(certificateFingerprint(caPem));
  const transport = httpTransport(url!, { ca: caPem });
  try {
    const agent = await TestAgent.enroll(transport, { enrollSecret: ENROLL_SECRET, keys: pooledKeyPair(2) });
    expect((await agent.sendEvents(10)).status).toBe(200);
    expect((await transport({ method: 'GET', path: '/readyz', headers: {} })).json).toMatchObject({ status: 'ready', store: 'sqlite', projection: { lagBatches: expect.any(Number) } });
  } finally {
    transport.close();
  }
  signals.emit('SIGTERM');
  expect(await running).toBe(0);
  expect(lines.join('\n')).not.toContain('CANARY');
  expect(lines.join('\n')).not.toContain(ENROLL_SECRET);
});

test('CLI main(): DATABASE_URL switches to PostgreSQL', async () => {
  const probe = await probePostgres();
  if (!probe.ok) {
    if (process.env.CI === 'true') throw new Error(probe.reason);
    console.warn(`SKIPPED CLI PostgreSQL test: ${probe.reason}`);
    return;
  }
  const schema = uniqueSchemaName('cli');
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const url = new URL(TEST_PG_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const lines: string[] = [];
  const signals = new EventEmitter();
  const running = main(['--data-dir', tmp('mcpw-clipg-'), '--listen', '127.0.0.1:0', '--tls', 'off', '--log-level', 'silent'], {
    env: { MCPWATCH_ENROLL_SECRET: `fleet:${ENROLL_SECRET}`, DATABASE_URL: url.toString() },
    stderr: (l) => lines.push(l),
    signals: signals as unknown as NodeJS.Process,
  });
  try {
    const deadline = Date.now() + 30_000;
    while (!lines.some((l) => /listening on|cannot start/.test(l)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const base = /listening on (\S+) \(store: postgres/.exec(lines.join('\n'))?.[1];
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const transport = httpTransport(base!);
    try {
      const agent = await TestAgent.enroll(transport, { enrollSecret: ENROLL_SECRET, keys: pooledKeyPair(3) });
      expect((await agent.sendEvents(4)).status).toBe(200);
    } finally {
      transport.close();
    }
    // Acked on the durable append; the projector indexes the events behind it.
    const indexed = async (): Promise<number> => (await admin.query(`select count(*)::int as n from ${schema}.events`)).rows[0].n as number;
    for (const end = Date.now() + 20_000; (await indexed()) < 4 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 50));
    expect(await indexed()).toBeGreaterThanOrEqual(4);
  } finally {
    signals.emit('SIGTERM');
    const code = await running;
    expect({ code, output: code === 0 ? '' : lines.join('') }).toEqual({ code: 0, output: '' });
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  }
});

test('CLI main(): a bad value stops it with exit code 2 naming the key', async () => {
  const lines: string[] = [];
  const code = await main(['--listen', 'localhost'], { env: {}, stderr: (l) => lines.push(l) });
  expect(code).toBe(2);
  expect(lines.join('\n')).toMatch(/invalid configuration: listen \(from flag --listen\)/);
});
