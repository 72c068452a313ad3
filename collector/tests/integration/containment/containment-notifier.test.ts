/**
 * containment/containment-notifier.ts end to end, on both engines: a collector with a webhook
 * (generic JSON form, signing secret set) and a real local HTTP receiver. Issuing a quarantine
 * through the admin API posts a `command.issued` notification (who, what, why, the host and the
 * server's name) through the outbox; the agent's answer posts `server.quarantined` for the same
 * command id. Every delivery carries a signature the receiver verifies with the shared secret; a
 * changed body, another secret or an old timestamp does not verify. The issued command is in the
 * endpoint's event history, also without a webhook (then nothing is enqueued).
 */
import { makeEvent } from '@mcpwatch/shared';
import { makeServerEntry, waitFor } from '@mcpwatch/testkit';
import { makeFixture, type Fixture } from '../../support/collector-fixture.js';
import { engineCases } from '../../support/pg.js';
import { webhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.js';
import { WEBHOOK_SIGNATURE_HEADER, verifyWebhookSignature } from '../../../src/sinks/webhook-sink.js';

const ADMIN = 'bootstrap-admin-token-0123456789';
const SECRET = 'webhook-signing-secret-0123456789';
const auth = { authorization: `Bearer ${ADMIN}` };

interface Notification {
  kind: string;
  type: string;
  eventId: string;
  endpointId: string;
  hostname: string | null;
  title: string;
  server: string | null;
  detail: Record<string, unknown>;
}

describe.each(await engineCases())('containment notifications through the webhook (%s)', (engine) => {
  let fx: Fixture | undefined;
  let rx: WebhookReceiver | undefined;
  afterEach(async () => {
    await fx?.close();
    await rx?.close();
    fx = undefined;
    rx = undefined;
  });

  test('issued and confirmed commands reach a real receiver, signed; the issue is in the event history', async () => {
    rx = await webhookReceiver();
    const r = rx;
    fx = await makeFixture({ engine, overrides: { adminToken: ADMIN, webhookUrl: rx.url, webhookFormat: 'json', webhookMinSeverity: 'critical', webhookSecret: SECRET, outboxPollMs: 50 } });
    const f = fx;
    const agent = await f.enroll();
    const shell = makeServerEntry('shell');
    expect((await agent.sendEvents([makeEvent('server.added', agent.endpointId, shell, new Date(f.clock.nowMs))])).status).toBe(200);
    await waitFor('the server projected', async () => (await f.app.inject({ url: `/v1/endpoints/${agent.endpointId}`, headers: auth })).json().servers?.length === 1);

    const issued = await f.app.inject({ method: 'POST', url: '/v1/admin/containment', headers: auth, payload: { endpointId: agent.endpointId, serverKey: shell.serverKey, action: 'quarantine', reason: 'shell server on a finance laptop' } });
    expect(issued.statusCode).toBe(200);
    const commandId = (issued.json() as { commandId: string }).commandId;
    const notes = () => r.got.flatMap((g) => (g.body.notifications as Notification[] | undefined) ?? []);
    await waitFor('command.issued at the receiver', () => notes().some((n) => n.type === 'command.issued'));
    expect(notes().find((n) => n.type === 'command.issued')).toMatchObject({
      kind: 'containment',
      endpointId: agent.endpointId,
      hostname: agent.host.hostname,
      server: 'shell',
      title: 'Containment command issued: quarantine by bootstrap',
      detail: { commandId, action: 'quarantine', serverKey: shell.serverKey, reason: 'shell server on a finance laptop', issuedBy: 'bootstrap' },
    });

    // The agent's answer comes back in a batch: its notification names the same command.
    expect((await agent.sendEvents([makeEvent('server.quarantined', agent.endpointId, { commandId, serverKey: shell.serverKey, configPath: shell.configPath }, new Date(f.clock.nowMs))])).status).toBe(200);
    await waitFor('server.quarantined at the receiver', () => notes().some((n) => n.type === 'server.quarantined'));
    expect(notes().find((n) => n.type === 'server.quarantined')).toMatchObject({ kind: 'containment', title: 'MCP server quarantined', detail: { commandId } });
    expect(notes().filter((n) => n.type === 'command.issued')).toHaveLength(1);

    // Every delivery is signed with the shared secret over the bytes as sent.
    const nowS = Math.floor(Date.now() / 1000);
    for (const post of r.got) {
      const sig = post.headers[WEBHOOK_SIGNATURE_HEADER] as string;
      expect(sig).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(verifyWebhookSignature(SECRET, sig, post.raw, nowS)).toBe(true);
      expect(verifyWebhookSignature(SECRET, sig, post.raw.replace('quarantine', 'restore'), nowS)).toBe(false);
      expect(verifyWebhookSignature('another-secret-0123456789abcdef', sig, post.raw, nowS)).toBe(false);
      expect(verifyWebhookSignature(SECRET, sig, post.raw, nowS + 3600)).toBe(false); // replayed an hour later
    }
    expect(JSON.stringify(r.got.map((g) => g.body))).not.toContain(SECRET);

    // The endpoint's timeline holds the issued command.
    const events = (await f.app.inject({ url: `/v1/events?endpoint=${agent.endpointId}&type=command.issued`, headers: auth })).json();
    expect(events.items).toHaveLength(1);
    expect(events.items[0]).toMatchObject({ type: 'command.issued', endpointId: agent.endpointId, data: { commandId, action: 'quarantine', issuedBy: { name: 'bootstrap' } } });
  });

  test('without a webhook, the issued command is in the timeline and nothing is enqueued', async () => {
    fx = await makeFixture({ engine, overrides: { adminToken: ADMIN } });
    const f = fx;
    const agent = await f.enroll();
    const shell = makeServerEntry('shell');
    expect((await agent.sendEvents([makeEvent('server.added', agent.endpointId, shell, new Date(f.clock.nowMs))])).status).toBe(200);
    await waitFor('the server projected', async () => (await f.app.inject({ url: `/v1/endpoints/${agent.endpointId}`, headers: auth })).json().servers?.length === 1);
    const issued = await f.app.inject({ method: 'POST', url: '/v1/admin/containment', headers: auth, payload: { endpointId: agent.endpointId, serverKey: shell.serverKey, action: 'quarantine', reason: 'r' } });
    expect(issued.statusCode).toBe(200);
    const events = (await f.app.inject({ url: `/v1/events?type=command.issued`, headers: auth })).json().items;
    expect(events.map((e: { data: { commandId: string } }) => e.data.commandId)).toEqual([(issued.json() as { commandId: string }).commandId]);
    expect((await f.store.outboxDepth()).webhook ?? 0).toBe(0);
  });
});
