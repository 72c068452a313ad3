/**
 * Issue 10 item 14: every listener (plain HTTP and HTTPS) reaps idle connections, cuts a client
 * that dribbles its headers (slowloris), and caps concurrent connections; /healthz keeps answering.
 * Real collector on a real loopback port, real TCP sockets; every wait is on an event.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig, type ConfigKey } from '../../src/config.js';
import { loadCaForTests } from '../support/ca-cache.js';

const IDLE = 300;

async function listening(overrides: Partial<Record<ConfigKey, unknown>>): Promise<{ app: FastifyInstance; port: number; close(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mcpw-listen-'));
  const config = loadConfig({
    overrides: {
      dataDir,
      tls: 'off',
      listen: '127.0.0.1:0',
      httpIdleTimeoutMs: IDLE,
      httpKeepAliveTimeoutMs: IDLE,
      httpHeadersTimeoutMs: IDLE,
      httpRequestTimeoutMs: 2 * IDLE,
      ...overrides,
    },
  });
  const app = await buildApp(config, { logger: false, ca: loadCaForTests() });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    app,
    port,
    close: async () => {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Opens a raw TCP socket; resolves once connected. `closed` settles when the server hangs up. */
function rawSocket(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('error', () => undefined);
    // Flowing, so the server's FIN is read and the socket closes (a paused socket sits in CLOSE-WAIT).
    socket.resume();
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

async function healthz(port: number, tls = false): Promise<number> {
  if (!tls) return (await fetch(`http://127.0.0.1:${port}/healthz`)).status;
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('listener timeouts and caps', () => {
  test('plain HTTP: 300 idle sockets are closed by the server; /healthz answers meanwhile and after', async () => {
    const c = await listening({});
    try {
      const sockets = await Promise.all(Array.from({ length: 300 }, () => rawSocket(c.port)));
      expect(await healthz(c.port)).toBe(200);
      await Promise.all(sockets.map((s) => s.closed));
      expect(sockets.every((s) => s.socket.destroyed)).toBe(true);
      expect(await healthz(c.port)).toBe(200);
    } finally {
      await c.close();
    }
  }, 30_000);

  test('plain HTTP: a client dribbling its headers (slowloris) is cut although it is never idle', async () => {
    const c = await listening({ httpIdleTimeoutMs: 60_000 });
    try {
      const { socket, closed } = await rawSocket(c.port);
      socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      let n = 0;
      const drip = setInterval(() => {
        if (!socket.destroyed) socket.write(`X-Drip-${n++}: x\r\n`);
      }, 20);
      let received = '';
      socket.on('data', (d: Buffer) => (received += d.toString()));
      await closed;
      clearInterval(drip);
      expect(n).toBeGreaterThan(0);
      // Node answers 408 (or just hangs up); never the 200 of a completed request.
      expect(received).not.toMatch(/HTTP\/1\.1 200/);
      expect(await healthz(c.port)).toBe(200);
    } finally {
      await c.close();
    }
    // Bound: headersTimeout is 300 ms here; Node's defaults (60 s headers, checked every 30 s) never cut it within it.
  }, 15_000);

  test('plain HTTP: connections over httpMaxConnections are refused at accept', async () => {
    const c = await listening({ httpIdleTimeoutMs: 60_000, httpKeepAliveTimeoutMs: 60_000, httpHeadersTimeoutMs: 60_000, httpRequestTimeoutMs: 60_000, httpMaxConnections: 20 });
    try {
      expect(c.app.server.maxConnections).toBe(20);
      const sockets = await Promise.all(Array.from({ length: 30 }, () => rawSocket(c.port)));
      // The 10 over the cap are dropped by the server (wait for exactly those closes).
      let closedCount = 0;
      await new Promise<void>((resolve) => {
        for (const s of sockets) {
          void s.closed.then(() => {
            closedCount += 1;
            if (closedCount === 10) resolve();
          });
        }
      });
      expect(closedCount).toBe(10);
      for (const s of sockets) s.socket.destroy();
    } finally {
      await c.close();
    }
  }, 30_000);

  test('HTTPS (embedded TLS): idle sockets that never start a handshake are closed; /healthz answers', async () => {
    const c = await listening({ tls: 'embedded' });
    try {
      const sockets = await Promise.all(Array.from({ length: 100 }, () => rawSocket(c.port)));
      expect(await healthz(c.port, true)).toBe(200);
      await Promise.all(sockets.map((s) => s.closed));
      expect(await healthz(c.port, true)).toBe(200);
    } finally {
      await c.close();
    }
  }, 30_000);
});
