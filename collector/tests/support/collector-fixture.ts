/**
 * Test fixture: a collector app over a real store (SQLite in a temp dir; PostgreSQL in a fresh
 * schema when `engine: 'postgres'`, dropped on close), with an injectable clock, and test agents
 * enrolled through `inject()`.
 *
 * Read-your-writes for tests: the fixture's transport waits, after each accepted batch (200 from
 * POST /v1/batches), until the store's projector has applied it, so a test can query what it
 * just sent. (The collector itself acks on the durable append and projects behind it; tests of
 * that asynchrony use the app's own `inject()` or a store opened with `project: false`.)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDeps } from '../../src/app.js';
import { loadCaForTests } from './ca-cache.js';
import { loadConfig, type ConfigKey } from '../../src/config.js';
import { openTestStore } from './test-store.js';
import type { EngineName } from './pg.js';
import type { Store } from '../../src/store/types.js';
import { injectTransport, pooledKeyPair, TestAgent, type Transport } from '@mcpwatch/testkit';

export const ENROLL_SECRET = 'fleet-secret-0123456789';

export interface Fixture {
  app: FastifyInstance;
  store: Store;
  transport: Transport;
  dataDir: string;
  clock: { nowMs: number };
  enroll(host?: Parameters<typeof TestAgent.enroll>[1]['host']): Promise<TestAgent>;
  close(): Promise<void>;
}

/** Builds an app on a fresh store. `overrides` are config values by key (raw, as in env/file). */
export async function makeFixture(
  opts: { overrides?: Partial<Record<ConfigKey, unknown>>; engine?: EngineName; wrapStore?: (s: Store) => Store; deps?: AppDeps } = {},
): Promise<Fixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mcpw-collector-'));
  const clock = { nowMs: Date.parse('2026-06-01T12:00:00Z') };
  const now = (): number => clock.nowMs;
  const config = loadConfig({
    overrides: { dataDir, tls: 'off', enrollSecrets: `fleet:${ENROLL_SECRET}`, ...(opts.overrides ?? {}) },
  });
  const opened = await openTestStore(opts.engine ?? 'sqlite', { now: () => new Date(now()) });
  const real = opened.store;
  const store = opts.wrapStore ? opts.wrapStore(real) : real;
  const app = await buildApp(config, { store, now, logger: false, ca: loadCaForTests(), ...(opts.deps ?? {}) });
  await app.ready();
  const inject = injectTransport(app);
  const awaitProjection = (real as { awaitProjection?: () => Promise<void> }).awaitProjection?.bind(real);
  const transport: Transport = async (req) => {
    const res = await inject(req);
    if (req.path === '/v1/batches' && res.status === 200) await awaitProjection?.().catch(() => undefined);
    return res;
  };
  let enrolled = 0;
  return {
    app,
    store,
    transport,
    dataDir,
    clock,
    enroll: (host) => TestAgent.enroll(transport, { enrollSecret: ENROLL_SECRET, now, keys: pooledKeyPair(enrolled++ % 4), ...(host ? { host } : {}) }),
    close: async () => {
      await app.close();
      await opened.cleanup();
    },
  };
}

/**
 * One fixture for a describe block: made in beforeAll, closed in afterAll. The object returned is
 * filled in by beforeAll (the fixture's fields are copied onto it), so tests use it directly.
 */
export function useFixture(opts: Parameters<typeof makeFixture>[0] = {}): Fixture {
  const fx = {} as Fixture;
  beforeAll(async () => {
    Object.assign(fx, await makeFixture(opts));
  });
  afterAll(async () => fx.close?.());
  return fx;
}

/** A store whose chosen methods fail like an unreachable database (for 503 tests). */
export function failing(store: Store, methods: ReadonlyArray<keyof Store>, error: () => unknown): Store & { healthy: boolean } {
  const state = { healthy: false };
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'healthy') return state.healthy;
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      if (!state.healthy && (methods as readonly PropertyKey[]).includes(prop)) {
        return async () => {
          throw error();
        };
      }
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
    set(_t, prop, value) {
      if (prop === 'healthy') {
        state.healthy = value as boolean;
        return true;
      }
      return false;
    },
  }) as Store & { healthy: boolean };
}
