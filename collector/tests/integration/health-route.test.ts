import { failing, makeFixture } from '../support/collector-fixture.js';

describe('health, readiness and metrics', () => {
  test('/healthz, /readyz and /metrics on a healthy store', async () => {
    const fx = await makeFixture();
    try {
      const agent = await fx.enroll();
      expect((await agent.sendEvents(7)).status).toBe(200);
      expect((await fx.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
      const ready = await fx.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toEqual({ status: 'ready', store: 'sqlite', projection: { lagBatches: 0, lagSeconds: 0, completeUpTo: '2026-06-01T12:00:00.000Z' } });
      const metrics = await fx.app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(metrics.body).toContain('mcpwatch_batches_accepted_total 1');
      expect(metrics.body).toContain('mcpwatch_events_accepted_total 7');
      expect(metrics.body).toMatch(/mcpwatch_outbox_depth\{sink="file"\} 7/);
      expect(metrics.body).toContain('mcpwatch_store_up 1');
      expect(metrics.body).toContain('mcpwatch_projection_lag_seconds 0');
      expect(metrics.body).toContain('mcpwatch_projection_lag_batches 0');
      expect(metrics.body).toMatch(/mcpwatch_batch_duration_seconds_bucket\{le="\+Inf"\} 1/);
    } finally {
      await fx.close();
    }
  });

  test('/readyz is 503 and /metrics reports the store down when the store does not answer', async () => {
    const fx = await makeFixture({
      wrapStore: (s) => failing(s, ['ping', 'outboxDepth'], () => new Error('connection terminated')),
    });
    try {
      const ready = await fx.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({ code: 'MCPW_ERR_STORE_UNAVAILABLE' });
      expect(ready.headers['retry-after']).toBe('5');
      const metrics = await fx.app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.statusCode).toBe(200);
      expect(metrics.body).toContain('mcpwatch_store_up 0');
    } finally {
      await fx.close();
    }
  });

  test('unknown routes get a coded 404', async () => {
    const fx = await makeFixture();
    try {
      const res = await fx.app.inject({ method: 'GET', url: '/v1/nothing?x=1' });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ statusCode: 404, code: 'MCPW_ERR_NOT_FOUND', message: 'no route GET /v1/nothing' });
    } finally {
      await fx.close();
    }
  });
});
