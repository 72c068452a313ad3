/**
 * An agent's heartbeat with failing sources (issue 17): the batch route accepts the bounded
 * `sourceErrors` array, the store keeps the heartbeat as the endpoint's health as it always did,
 * and GET /v1/endpoints/:id shows it. Real signed batches through the app (inject), a real SQLite
 * store.
 */
import { makeEvent, type HeartbeatData } from '@mcpwatch/shared';
import type { TestAgent } from '@mcpwatch/testkit';
import { makeFixture, type Fixture } from '../support/collector-fixture.js';

const ADMIN = 'bootstrap-admin-token-0123456789';
const heartbeat = (extra: Record<string, unknown>): HeartbeatData => ({
  version: '0.1.0', uptimeS: 60, cpuPercent: 0.1, rssBytes: 50_000_000, spoolBytes: 0, spoolDepth: 0, droppedCount: 0,
  lastError: null, intervalsMs: { processPollMs: 5000 }, throttled: false, ...extra,
}) as HeartbeatData;
const sockets = { source: 'sockets', code: 'MCPW_ERR_SOCKET_SOURCE', reason: 'netstat -ano exited 1', since: '2026-06-01T11:50:00.000Z' };

let fx: Fixture;
let agent: TestAgent;
beforeAll(async () => {
  fx = await makeFixture({ overrides: { adminToken: ADMIN } });
  agent = await fx.enroll();
});
afterAll(async () => fx.close());

test('a heartbeat with sourceErrors is stored as the endpoint health and shown by GET /v1/endpoints/:id', async () => {
  const res = await agent.send(agent.prepare([makeEvent('agent.heartbeat', agent.endpointId, heartbeat({ sourceErrors: [sockets] }), new Date(fx.clock.nowMs))]));
  const view = await fx.app.inject({ method: 'GET', url: `/v1/endpoints/${agent.endpointId}`, headers: { authorization: `Bearer ${ADMIN}` } });

  expect(res.status).toBe(200);
  expect(view.statusCode).toBe(200);
  expect(view.json().endpoint.health).toMatchObject({ sourceErrors: [sockets] });
});
