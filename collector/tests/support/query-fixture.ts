/**
 * A collector app over a real test store (either engine) for query/admin route tests, with a
 * small fleet ingested through the store: three endpoints, shared and private servers, findings.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig, type ConfigKey } from '../../src/config.js';
import type { Store } from '../../src/store/types.js';
import { loadCaForTests } from './ca-cache.js';
import type { EngineName } from './pg.js';
import { enrolled, event, finding, hostInfo, serverEntry, snapshot } from './store-fixtures.js';
import { openTestStore, type TestStore } from './test-store.js';

export const ADMIN_TOKEN = 'bootstrap-admin-token-0123456789';

export interface QueryFixture {
  app: FastifyInstance;
  store: Store;
  t: TestStore;
  fleet: Awaited<ReturnType<typeof seedFleet>>;
  get(url: string, token?: string | null): Promise<LightMyRequestResponse>;
  post(url: string, body?: unknown, token?: string | null): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** Three endpoints: mac-alice (github + shell, high finding), linux-bob (github), win%_x (private server). */
export async function seedFleet(store: Store) {
  const github = serverEntry('github', { pkg: '@modelcontextprotocol/server-github' });
  const shell = serverEntry('shell', { pkg: 'shell-mcp', transport: 'stdio' });
  const remote = { ...serverEntry('remote-docs'), transport: 'http' as const, command: null, args: [], url: 'https://docs.example.com/mcp', package: null, client: 'claude-desktop' };
  const a = await enrolled(store, hostInfo({ hostname: 'mac-alice', platform: 'darwin', osName: 'macOS', users: ['alice'] }));
  const highFinding = finding('shell-exec', 'high', shell);
  await a.sender.send([snapshot(a.agent.endpointId, a.host, { servers: [github, shell], findings: [highFinding] })]);
  const b = await enrolled(store, hostInfo({ hostname: 'linux-bob', platform: 'linux', osName: 'Ubuntu', users: ['bob'] }));
  const lowFinding = finding('floating-version', 'low', github);
  await b.sender.send([snapshot(b.agent.endpointId, b.host, { servers: [{ ...github, user: 'bob' }], findings: [lowFinding] })]);
  const c = await enrolled(store, hostInfo({ hostname: "win%_x'", platform: 'win32', osName: 'Windows 11', users: ['carol'] }));
  await c.sender.send([snapshot(c.agent.endpointId, c.host, { servers: [remote] }), event('config.error', c.agent.endpointId, { path: 'C:/x.json', code: 'parse', reason: 'bad' })]);
  return { a, b, c, github, shell, remote, highFinding, lowFinding };
}

/** `overrides`: more config values by key (raw, as in env/file), e.g. a queryPort. */
export async function makeQueryFixture(engine: EngineName, overrides: Partial<Record<ConfigKey, unknown>> = {}): Promise<QueryFixture> {
  const t = await openTestStore(engine);
  const config = loadConfig({ overrides: { dataDir: t.options.dataDir ?? mkdtempSync(join(tmpdir(), 'mcpw-query-')), tls: 'off', adminToken: ADMIN_TOKEN, ...overrides } });
  const app = await buildApp(config, { store: t.store, logger: false, ca: loadCaForTests() });
  await app.ready();
  const fleet = await seedFleet(t.store);
  const auth = (token: string | null | undefined) => (token === null ? {} : { authorization: `Bearer ${token ?? ADMIN_TOKEN}` });
  return {
    app,
    store: t.store,
    t,
    fleet,
    get: (url, token) => app.inject({ method: 'GET', url, headers: auth(token) }),
    post: (url, body, token) => app.inject({ method: 'POST', url, headers: auth(token), ...(body !== undefined ? { payload: body as object } : {}) }),
    close: async () => {
      await app.close();
      await t.cleanup();
    },
  };
}
