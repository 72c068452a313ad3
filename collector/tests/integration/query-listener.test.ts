/**
 * The query listener (config.queryPort): the read API on a second port, served by a worker thread
 * of the collector with its own read-only database connection. Real HTTP on real ports, a real
 * SQLite file (and one PostgreSQL case): every read route answers the same bytes and headers on
 * both ports; tokens (from the store and the bootstrap one) and failed-auth throttling apply there;
 * anything else is 404 there; the worker's connection cannot write; a worker that dies is started
 * again while the main port keeps ingesting; embedded TLS is the main port's, renewed on both; close
 * leaves no descriptor, port or thread behind; a taken port is a startup error.
 * The worker runs the build (dist/query-listener/query-worker.js): build the collector first.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import { makeEvent, type ToolRecord } from '@mcpwatch/shared';
import { freePort, waitFor } from '@mcpwatch/testkit';
import { buildApp } from '../../src/app.js';
import { serverPaths } from '../../src/ca/certificate-authority.js';
import { loadConfig } from '../../src/config.js';
import { COMPLETE_UP_TO_HEADER, PROJECTION_LAG_HEADER } from '../../src/routes/query.js';
import { main as collectorMain, refreshServerCertificate } from '../../src/server-cli.js';
import { openReadOnlyStore, SQLITE_FILE, type KyselyStore } from '../../src/store/index.js';
import { loadCaForTests } from '../support/ca-cache.js';
import { openFds } from '../support/open-fds.js';
import { engineCases, TEST_PG_URL } from '../support/pg.js';
import { event } from '../support/store-fixtures.js';
import { ADMIN_TOKEN, makeQueryFixture, type QueryFixture } from '../support/query-fixture.js';
import { getTrustingCa } from '../support/tls-client.js';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
if (!existsSync(join(DIST, 'query-listener', 'query-worker.js'))) throw new Error(`${DIST}query-listener/query-worker.js is missing: build the collector first (npm run build)`);

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request on its own connection (no keep-alive socket outlives the test). */
function http(port: number, path: string, opts: { token?: string | null; method?: string } = {}): Promise<Answer> {
  const token = opts.token === undefined ? ADMIN_TOKEN : opts.token;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', agent: false, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const json = (a: Answer) => JSON.parse(a.body.toString('utf8')) as Record<string, unknown> & { items: Array<Record<string, unknown>>; nextCursor: string | null };

/** Whether a TCP connection to the port is refused (nothing listens). */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

/**
 * Asks both ports the same request and expects the same answer: status, body bytes and headers.
 * Two headers depend on the moment of asking: the Date header (not compared), and complete-up-to,
 * which with nothing pending is the time of the query: each port's must lie between the moments
 * the pair of requests started and ended, with a lag of 0.
 */
async function expectSameOnBothPorts(mainPort: number, queryPort: number, path: string, token?: string | null): Promise<Answer> {
  const before = Date.now();
  const onMain = await http(mainPort, path, { token });
  const onQuery = await http(queryPort, path, { token });
  const after = Date.now();
  const comparable = (a: Answer) => {
    const { date: _date, [COMPLETE_UP_TO_HEADER]: completeUpTo, ...rest } = a.headers;
    void _date;
    return { status: a.status, headers: rest, body: a.body.toString('utf8'), completeUpToPresent: completeUpTo !== undefined };
  };
  expect({ path, ...comparable(onQuery) }).toEqual({ path, ...comparable(onMain) });
  expect(onQuery.body.equals(onMain.body)).toBe(true);
  for (const a of [onMain, onQuery]) {
    if (a.headers[COMPLETE_UP_TO_HEADER] === undefined) continue;
    const t = Date.parse(a.headers[COMPLETE_UP_TO_HEADER] as string);
    expect({ path, inWindow: t >= before && t <= after, lag: a.headers[PROJECTION_LAG_HEADER] }).toEqual({ path, inWindow: true, lag: '0' });
  }
  return onMain;
}

const H = (c: string) => c.repeat(64);
const tool = (over: Partial<ToolRecord>): ToolRecord => ({
  serverId: 'fp-github', serverKey: null, serverName: 'github', serverVersion: '1.2.0', source: 'probe', name: 'create_issue', title: null,
  descriptionSha256: H('a'), inputSchemaSha256: H('b'), annotationsSha256: null, annotations: {}, instructionsSha256: null, capabilities: [], ...over,
});

/** The fleet of query-fixture.ts plus tools and a quarantine, so every view has something to show. */
async function seedMore(f: QueryFixture): Promise<void> {
  const { a, b } = f.fleet;
  await a.sender.send([makeEvent('tool.added', a.agent.endpointId, tool({})), makeEvent('tool.added', a.agent.endpointId, tool({ serverId: 'listener:0.0.0.0:7000', serverName: 'shell', serverVersion: null, name: 'run_command', capabilities: ['shell-exec'] }))]);
  await b.sender.send([makeEvent('tool.added', b.agent.endpointId, tool({ descriptionSha256: H('c') }))]);
  const issued = await f.post('/v1/admin/containment', { endpointId: a.agent.endpointId, serverKey: f.fleet.shell.serverKey, action: 'quarantine', reason: 'shell server on a finance laptop' });
  expect(issued.statusCode).toBe(200);
  await (f.store as KyselyStore).awaitProjection();
}

/** Every read route, with filters, pages and errors, for the fleet of seedMore. */
async function readPaths(mainPort: number, f: QueryFixture): Promise<string[]> {
  const { a, c } = f.fleet;
  const fp = (json(await http(mainPort, '/v1/servers?name=github')).items[0] as { fingerprint: string }).fingerprint;
  const cursor = json(await http(mainPort, '/v1/events?limit=1')).nextCursor!;
  return [
    '/v1/endpoints',
    '/v1/endpoints?os=darwin&limit=1',
    '/v1/endpoints?severity=high',
    `/v1/endpoints/${a.agent.endpointId}`,
    `/v1/endpoints/${c.agent.endpointId}?events=1`,
    '/v1/endpoints/no-such-endpoint',
    '/v1/servers',
    '/v1/servers?transport=http',
    `/v1/servers/${fp}/endpoints`,
    '/v1/findings',
    '/v1/findings?severity=high&status=open',
    '/v1/events',
    '/v1/events?type=config.error',
    `/v1/events?limit=1&cursor=${encodeURIComponent(cursor)}`,
    '/v1/tools',
    '/v1/tools?capability=shell-exec',
    '/v1/tools/divergence',
    '/v1/tools/definitions?name=create_issue',
    '/v1/tools/create_issue/endpoints?server=github',
    `/v1/endpoints/${a.agent.endpointId}/tools`,
    // errors are answered the same way too
    '/v1/findings?severity=apocalyptic',
    '/v1/events?cursor=not-a-cursor-of-ours',
    '/v1/servers?bogus=1',
  ];
}

describe('query listener (sqlite): the read API on its own port and thread', () => {
  let f: QueryFixture;
  let mainPort = 0;
  let queryPort = 0;
  beforeAll(async () => {
    queryPort = await freePort();
    // A small failed-auth budget, spent by the throttling test at the end of this block.
    f = await makeQueryFixture('sqlite', { queryPort, authFailureLimit: 6 });
    await f.app.listen({ host: '127.0.0.1', port: 0 });
    mainPort = (f.app.server.address() as { port: number }).port;
    await seedMore(f);
  });
  afterAll(async () => f.close());

  test('the worker bound the configured port before the app was ready', () => {
    expect(f.app.queryListener?.port).toBe(queryPort);
  });

  test('every read route answers the same status, bytes and headers on both ports', async () => {
    const paths = await readPaths(mainPort, f);
    const statuses: Record<string, number> = {};
    for (const path of paths) statuses[path] = (await expectSameOnBothPorts(mainPort, queryPort, path)).status;
    // The seeded fleet makes the answers worth comparing: data, containment, tools, and the errors.
    expect(Object.values(statuses).filter((s) => s === 200).length).toBe(paths.length - 4);
    expect(statuses['/v1/endpoints/no-such-endpoint']).toBe(404);
    expect(statuses['/v1/findings?severity=apocalyptic']).toBe(400);
    const detail = json(await http(queryPort, `/v1/endpoints/${f.fleet.a.agent.endpointId}`)) as unknown as { containment: Array<{ status: string }>; servers: Array<{ tools: unknown[] }> };
    expect(detail.containment.map((c) => c.status)).toEqual(['pending']);
    expect(json(await http(queryPort, '/v1/tools')).items.length).toBeGreaterThan(0);
  });

  test('tokens: none or unknown is 401, a read token made on the main port works (its use recorded by the main store), and once revoked is 401', async () => {
    await expectSameOnBothPorts(mainPort, queryPort, '/v1/endpoints', null);
    expect((await http(queryPort, '/v1/endpoints', { token: null })).status).toBe(401);
    const unknown = await http(queryPort, '/v1/servers', { token: 'mcpw_not-a-token-we-issued' });
    expect({ status: unknown.status, code: json(unknown).code }).toEqual({ status: 401, code: 'MCPW_ERR_UNAUTHORIZED' });

    const made = await f.post('/v1/tokens', { name: 'analyst', scope: 'read' });
    const { token, tokenId } = made.json() as { token: string; tokenId: string };
    expect((await http(queryPort, '/v1/findings', { token })).status).toBe(200);
    // The worker cannot write last_used_at; it hands the use to the main thread's store.
    const lastUsed = () => (f.get('/v1/tokens').then((r) => (r.json() as { items: Array<{ tokenId: string; lastUsedAt: string | null }> }).items.find((t) => t.tokenId === tokenId)?.lastUsedAt));
    expect(await waitFor('the token\'s use to be recorded', lastUsed)).toEqual(expect.any(String));
    expect((await f.post(`/v1/tokens/${tokenId}/revoke`)).statusCode).toBe(200);
    expect((await http(queryPort, '/v1/findings', { token })).status).toBe(401);
  });

  test('only the read API is there: ingest, enrollment, admin, health and the dashboard are 404 on the query port', async () => {
    const notHere = [
      ['POST', '/v1/batches'],
      ['POST', '/v1/enroll'],
      ['POST', '/v1/tokens'],
      ['GET', '/v1/tokens'],
      ['GET', '/v1/admin/containment'],
      ['GET', '/healthz'],
      ['GET', '/metrics'],
      ['GET', '/ui/'],
    ] as const;
    for (const [method, path] of notHere) {
      const r = await http(queryPort, path, { method });
      expect({ method, path, status: r.status, code: json(r).code }).toEqual({ method, path, status: 404, code: 'MCPW_ERR_NOT_FOUND' });
    }
    expect((await http(mainPort, '/healthz', { token: null })).status).toBe(200);
  });

  test('the worker\'s connection cannot write: the read-only store refuses writes, through the Store API and in raw SQL', async () => {
    const ro = openReadOnlyStore({ sqliteFile: join(f.t.options.dataDir!, SQLITE_FILE) });
    const outcome = (p: Promise<unknown>) => p.then(() => 'written', (e: unknown) => String((e as Error)?.message ?? e));
    const agents = async () => (await f.store.listAgents()).length;
    try {
      expect((await ro.listEndpoints({})).items.length).toBe(3);
      expect(await outcome(ro.addApiToken({ tokenId: 'x', name: 'sneaky', tokenHash: H('d'), scope: 'admin' }))).toMatch(/readonly/i);
      expect(await outcome(sql`delete from agents`.execute(ro.db))).toMatch(/readonly/i);
      expect(await agents()).toBe(3);
    } finally {
      await ro.close();
    }
  });

  test('a worker that dies is started again on the same port; the main port keeps serving and ingesting meanwhile', async () => {
    const listener = f.app.queryListener!;
    await listener.terminateWorker();
    // While it is down (or already back): the main port answers and a batch is ingested.
    expect((await http(mainPort, '/v1/servers')).status).toBe(200);
    const { b } = f.fleet;
    await b.sender.send([event('config.error', b.agent.endpointId, { path: '/etc/after-restart.json', code: 'parse', reason: 'sent while the query worker was down' })]);
    await (f.store as KyselyStore).awaitProjection();

    await waitFor('the query port to answer again', async () => (await http(queryPort, '/v1/servers').catch(() => null))?.status === 200);
    expect(listener.restarts).toBe(1);
    const events = json(await http(queryPort, `/v1/events?type=config.error&endpoint=${b.agent.endpointId}`)).items as Array<{ data: { path: string } }>;
    expect(events.map((e) => e.data.path)).toEqual(['/etc/after-restart.json']);
  });

  test('data ingested after startup shows on the query port once projected', async () => {
    const { c } = f.fleet;
    const path = `/v1/events?type=config.error&endpoint=${c.agent.endpointId}`;
    const before = json(await http(queryPort, path)).items.length;
    await c.sender.send([event('config.error', c.agent.endpointId, { path: 'C:/later.json', code: 'parse', reason: 'later' })]);
    await (f.store as KyselyStore).awaitProjection();
    const after = json(await http(queryPort, path)).items as Array<{ data: { path: string } }>;
    expect(after.length).toBe(before + 1);
    expect(after[0]!.data.path).toBe('C:/later.json');
  });

  // Last in this block: it spends the query port's failed-auth budget of this source address.
  test('failed authentication is throttled per source on the query port, on its own budget', async () => {
    let statuses: number[] = [];
    for (let i = 0; i < 10 && !statuses.includes(429); i++) statuses = [...statuses, (await http(queryPort, '/v1/servers', { token: `mcpw_wrong-${i}-0123456789` })).status];
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(6);
    // Over the budget even a good token is refused there (checked before the token), not on the main port.
    const refusedThere = await http(queryPort, '/v1/servers');
    expect({ status: refusedThere.status, code: json(refusedThere).code, retryAfter: refusedThere.headers['retry-after'] !== undefined }).toEqual({ status: 429, code: 'MCPW_ERR_RATE_LIMITED', retryAfter: true });
    expect((await http(mainPort, '/v1/servers')).status).toBe(200);
  });
});

describe.each((await engineCases()).filter((e) => e === 'postgres'))('query listener (%s)', (engine) => {
  let f: QueryFixture;
  let mainPort = 0;
  let queryPort = 0;
  beforeAll(async () => {
    queryPort = await freePort();
    f = await makeQueryFixture(engine, { queryPort, databaseUrl: TEST_PG_URL });
    await f.app.listen({ host: '127.0.0.1', port: 0 });
    mainPort = (f.app.server.address() as { port: number }).port;
    await seedMore(f);
  });
  afterAll(async () => f.close());

  test('every read route answers the same on both ports, from the store\'s schema', async () => {
    for (const path of await readPaths(mainPort, f)) await expectSameOnBothPorts(mainPort, queryPort, path);
    expect(json(await http(queryPort, '/v1/endpoints')).items.length).toBe(3);
  });

  test('the worker\'s pool is read-only: PostgreSQL refuses a write through it', async () => {
    const ro = openReadOnlyStore({ databaseUrl: TEST_PG_URL, pgSchema: (f.store as KyselyStore).pgSchema! });
    try {
      expect((await ro.listServers({})).items.length).toBeGreaterThan(0);
      const written = await sql`delete from agents`.execute(ro.db).then(() => 'written', (e: Error) => e.message);
      expect(written).toMatch(/read-only transaction/);
      expect((await f.store.listAgents()).length).toBe(3);
    } finally {
      await ro.close();
    }
  });
});

describe('query listener lifecycle', () => {
  const setup = async (queryPort: number) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mcpw-query-listener-'));
    const config = loadConfig({ overrides: { dataDir, tls: 'off', queryPort, adminToken: ADMIN_TOKEN } });
    return { dataDir, dbFile: join(dataDir, SQLITE_FILE), app: await buildApp(config, { ca: loadCaForTests(), logger: false }) };
  };

  test('close stops the worker: its port is free and no descriptor of the database is left, the worker\'s included', async () => {
    const queryPort = await freePort();
    const s = await setup(queryPort);
    await s.app.listen({ host: '127.0.0.1', port: 0 });
    expect((await http(queryPort, '/v1/servers')).status).toBe(200);
    expect(openFds(s.dbFile).length).toBeGreaterThan(0);

    await s.app.close();

    expect(await refused(queryPort)).toBe(true);
    expect(openFds(s.dbFile)).toEqual([]);
  });

  test('embedded TLS: the query port serves the main port\'s certificate chain, and the renewed certificate once it is renewed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mcpw-query-tls-'));
    const queryPort = await freePort();
    const config = loadConfig({ overrides: { dataDir, tls: 'embedded', queryPort, adminToken: ADMIN_TOKEN } });
    const ca = loadCaForTests();
    const app = await buildApp(config, { ca, logger: false });
    try {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const mainPort = (app.server.address() as { port: number }).port;
      const onMain = await getTrustingCa(mainPort, ca.certificatePem, '/v1/servers');
      expect(onMain.chain).toContain(ca.fingerprint);
      expect(await getTrustingCa(queryPort, ca.certificatePem, '/v1/servers')).toEqual(onMain);

      // 17 days left on the certificate in the data dir: renewed in place on both ports.
      const paths = serverPaths(dataDir);
      writeFileSync(paths.cert, ca.issueServerCertificate(config.serverNames, new Date(Date.now() - 380 * 86_400_000), readFileSync(paths.key, 'utf8')).certificatePem);
      expect(refreshServerCertificate(app, config)).toBe('renewed');
      const renewed = (await getTrustingCa(mainPort, ca.certificatePem, '/v1/servers')).leaf;
      expect(renewed).not.toBe(onMain.leaf);
      await waitFor('the query port to serve the renewed certificate', async () => (await getTrustingCa(queryPort, ca.certificatePem, '/v1/servers')).leaf === renewed);
    } finally {
      await app.close();
    }
  });

  test('a query port already taken: the collector refuses to start, says which port and why, and leaves the database closed', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const queryPort = (taken.address() as { port: number }).port;
    const dataDir = mkdtempSync(join(tmpdir(), 'mcpw-query-taken-'));
    const lines: string[] = [];
    try {
      const code = await collectorMain(['--data-dir', dataDir, '--listen', '127.0.0.1:0', '--tls', 'off', '--query-port', String(queryPort), '--log-level', 'silent'], {
        env: { MCPWATCH_ADMIN_TOKEN: ADMIN_TOKEN },
        stderr: (l) => lines.push(l),
        signals: { once: () => process, removeListener: () => process } as never,
      });
      expect(code).toBe(1);
      expect(lines.join('\n')).toMatch(new RegExp(`cannot start: EADDRINUSE: query listener: cannot listen on 127\\.0\\.0\\.1:${queryPort}: .*EADDRINUSE`));
      expect(lines.join('\n')).not.toMatch(/listening on/);
      expect(openFds(join(dataDir, SQLITE_FILE))).toEqual([]);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  test('a process that builds the app with a query port, serves a query and closes it exits by itself (no thread or handle left)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpw-query-bare-'));
    const script = join(dir, 'serve-and-close.mjs');
    writeFileSync(
      script,
      `
import { request } from 'node:http';
const { buildApp, loadConfig } = await import(process.argv[2]);
const queryPort = Number(process.argv[4]);
const app = await buildApp(loadConfig({ overrides: { dataDir: process.argv[3], tls: 'off', queryPort, logLevel: 'silent' } }));
await app.listen({ host: '127.0.0.1', port: 0 });
const status = await new Promise((resolve, reject) => request({ host: '127.0.0.1', port: queryPort, path: '/v1/servers', agent: false }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); }).on('error', reject).end());
await app.close();
console.log('closed after ' + status);
`,
    );
    const queryPort = await freePort();
    // The timeout only ends a hung child (the bug this test is about) so the test can fail on it.
    const res = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [script, pathToFileURL(join(DIST, 'index.js')).href, join(dir, 'data'), String(queryPort)], { encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
      });
    });
    expect({ code: res.code, stdout: res.stdout.trim(), stderr: res.code === 0 ? '' : res.stderr }).toEqual({ code: 0, stdout: 'closed after 401', stderr: '' });
  });
});
