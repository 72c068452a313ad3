/**
 * The webhook sink end to end: a collector with MCPWATCH_WEBHOOK_URL set, a real agent batch, the
 * outbox drainer, and a local HTTP receiver. Findings at or above the severity and containment
 * results arrive (Slack-compatible and generic JSON forms); lower findings and other events do not;
 * a receiver that answers 500 then 200 gets the rows again (durable, retried); 429 with Retry-After
 * is honoured; posts are rate-limited.
 */
import { makeEvent } from '@mcpwatch/shared';
import { makeServerEntry, waitFor } from '@mcpwatch/testkit';
import { makeFixture, type Fixture } from '../../support/collector-fixture.js';
import { webhookReceiver } from '../../support/webhook-receiver.js';
import { WebhookSink } from '../../../src/sinks/webhook-sink.js';

const receiver = webhookReceiver;

const shell = makeServerEntry('shell');
const finding = (id: string, severity: 'low' | 'high' | 'critical') => ({
  id,
  ruleId: `rule-${severity}`,
  severity,
  title: `<!channel> ${severity} finding`,
  description: 'd',
  subject: { serverName: 'shell', client: 'claude-desktop' },
  evidence: { field: 'env.TOKEN', kind: 'github-token' },
});

describe('webhook sink', () => {
  let fx: Fixture | undefined;
  let rx: Awaited<ReturnType<typeof receiver>> | undefined;
  afterEach(async () => {
    await fx?.close();
    await rx?.close();
    fx = undefined;
    rx = undefined;
  });

  async function sendFleetEvents(f: Fixture) {
    const agent = await f.enroll();
    const at = new Date(f.clock.nowMs);
    const res = await agent.sendEvents([
      makeEvent('server.added', agent.endpointId, shell, at),
      makeEvent('finding.raised', agent.endpointId, finding('f-low', 'low') as never, at),
      makeEvent('finding.raised', agent.endpointId, finding('f-high', 'high') as never, at),
      makeEvent('server.quarantined', agent.endpointId, { commandId: 'cmd_1', serverKey: shell.serverKey }, at),
    ]);
    expect(res.status).toBe(200);
    return agent;
  }

  test('slack form: findings at or above the severity and containment results, escaped', async () => {
    rx = await receiver(() => ({ status: 200 }));
    fx = await makeFixture({ overrides: { webhookUrl: rx.url, webhookMinSeverity: 'high', outboxPollMs: 50 } });
    await sendFleetEvents(fx);
    const r = rx;
    await waitFor('two notifications at the receiver', () => r.got.flatMap((g) => (g.body.blocks as unknown[]).slice(1)).length >= 2);
    const lines = r.got.flatMap((g) => (g.body.blocks as Array<{ text: { text: string } }>).slice(1).map((b) => b.text.text));
    expect(lines).toHaveLength(2);
    expect(lines.find((l) => l.includes('rule-high'))).toContain('&lt;!channel&gt; high finding');
    expect(lines.some((l) => l.includes('MCP server quarantined'))).toBe(true);
    expect(lines.some((l) => l.includes('rule-low'))).toBe(false);
    expect(typeof r.got[0]!.body.text).toBe('string');
  });

  test('json form, durable: 500 then 429 Retry-After then 200 delivers every notification once accepted', async () => {
    rx = await receiver((n) => (n === 0 ? { status: 500 } : n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }));
    fx = await makeFixture({ overrides: { webhookUrl: rx.url, webhookFormat: 'json', webhookMinSeverity: 'low', outboxPollMs: 50 } });
    const f = fx;
    await sendFleetEvents(f);
    const r = rx;
    // The store's clock is the fixture's: move it on so released rows come due again.
    const tick = setInterval(() => (f.clock.nowMs += 1000), 100);
    try {
      await waitFor('notifications after the retries', () => r.got.flatMap((g) => g.body.notifications as unknown[]).length >= 3);
    } finally {
      clearInterval(tick);
    }
    const all = r.got.flatMap((g) => g.body.notifications as Array<{ kind: string; type: string; ruleId?: string; eventId: string }>);
    expect(r.got[0]!.body.source).toBe('mcpwatch');
    expect(all.map((n) => n.ruleId ?? n.type).sort()).toEqual(['rule-high', 'rule-low', 'server.quarantined']);
    expect(new Set(all.map((n) => n.eventId)).size).toBe(3);
  });

  test('rate limit: posts beyond the burst wait for tokens', async () => {
    rx = await receiver(() => ({ status: 200 }));
    const sink = new WebhookSink({ url: rx.url, format: 'json', minSeverity: 'info', ratePerS: 5, burst: 1, maxPerMessage: 1 });
    const rows = [0, 1, 2].map((i) => ({
      id: `e${i}:webhook`,
      sink: 'webhook',
      endpointId: 'ep',
      agentId: 'ag',
      batchSeq: 1,
      certFingerprint: 'x',
      attempts: 0,
      createdAt: new Date().toISOString(),
      event: makeEvent('finding.raised', 'ep', finding(`f${i}`, 'critical') as never),
    }));
    const started = Date.now();
    expect(await sink.send(rows as never)).toEqual({ ok: true });
    expect(rx.got).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(350); // 2 posts waited ~200 ms each
    await sink.shutdown();
  });
});
