/**
 * containment/command-wait-route.ts (POST /v1/commands/wait, the containment long-poll) against a
 * real store and a test agent's real key: a wait is held until a command for its endpoint is
 * queued and then answers with it (signed with the CA the agent pinned, marked delivered); it
 * answers empty after the hold; a delivered, unanswered command does not end a wait; bad
 * signatures, unknown agents and skewed clocks get 401; a second concurrent wait of the same agent
 * is refused (429) while the first is kept; a captured wait sent again (or one signed before an
 * accepted wait) is refused with 409 MCPW_ERR_REPLAYED while batch retries stay idempotent; and a command queued by another collector sharing the
 * database reaches a held wait through the bounded queue poll.
 */
import { makeEvent, batchHeaders, verifyCommand, type SignedCommand } from '@mcpwatch/shared';
import { makeServerEntry, waitFor, type TestAgent } from '@mcpwatch/testkit';
import type { Kysely } from 'kysely';
import { makeFixture, type Fixture } from '../../support/collector-fixture.js';
import { engineCases } from '../../support/pg.js';
import { Containment } from '../../../src/containment/containment-service.js';
import { ContainmentStore } from '../../../src/containment/containment-store.js';

const ADMIN = 'bootstrap-admin-token-0123456789';

describe.each(await engineCases())('POST /v1/commands/wait (%s)', (engine) => {
  let fx: Fixture;
  afterEach(async () => fx.close());
  let seq = 0;

  const waitRequest = (agent: TestAgent, over: { maxWaitMs?: number; timestampMs?: number; body?: string; agentId?: string; tamper?: boolean } = {}) => {
    const body = Buffer.from(over.body ?? JSON.stringify({ kind: 'commands.wait', maxWaitMs: over.maxWaitMs ?? 20_000 }));
    const headers = batchHeaders(agent.keys.privateKey, over.agentId ?? agent.agentId, ++seq, over.timestampMs ?? fx.clock.nowMs, body);
    if (over.tamper) headers['x-mcpwatch-signature'] = batchHeaders(agent.keys.privateKey, agent.agentId, seq, fx.clock.nowMs, Buffer.from('another body'))['x-mcpwatch-signature']!;
    return fx.app.inject({ method: 'POST', url: '/v1/commands/wait', headers: { ...headers, 'content-type': 'application/json' }, payload: body });
  };
  const quarantine = async (agent: TestAgent, serverKey: string) => {
    const r = await fx.app.inject({
      method: 'POST',
      url: '/v1/admin/containment',
      headers: { authorization: `Bearer ${ADMIN}` },
      payload: { endpointId: agent.endpointId, serverKey, action: 'quarantine', reason: 'long-poll test' },
    });
    expect(r.statusCode).toBe(200);
    return r.json() as { commandId: string };
  };
  const audit = async (agent: TestAgent) =>
    (await fx.app.inject({ method: 'GET', url: `/v1/admin/containment?endpoint=${agent.endpointId}`, headers: { authorization: `Bearer ${ADMIN}` } })).json() as {
      items: Array<{ commandId: string; status: string; deliveredAt: string | null }>;
    };
  async function agentWithServer(): Promise<{ agent: TestAgent; serverKey: string }> {
    const agent = await fx.enroll();
    const server = makeServerEntry('shell');
    expect((await agent.sendEvents([makeEvent('server.added', agent.endpointId, server, new Date(fx.clock.nowMs))])).status).toBe(200);
    return { agent, serverKey: server.serverKey };
  }
  const held = () => fx.app.containment!.heldWaits;

  test('held until a command is queued, then answers with it signed and marks it delivered', async () => {
    fx = await makeFixture({ engine, overrides: { adminToken: ADMIN } });
    const { agent, serverKey } = await agentWithServer();
    const pending = waitRequest(agent);
    await waitFor('the wait held', () => held() === 1);
    const issued = await quarantine(agent, serverKey);
    const res = await pending;
    expect(res.statusCode).toBe(200);
    const commands = (res.json() as { commands: SignedCommand[] }).commands;
    expect(commands.map((c) => [c.id, c.action, c.serverKey])).toEqual([[issued.commandId, 'quarantine', serverKey]]);
    expect(verifyCommand(agent.caCertificate, commands[0]!, agent.endpointId, fx.clock.nowMs)).toEqual({ ok: true });
    expect((await audit(agent)).items[0]).toMatchObject({ commandId: issued.commandId, status: 'delivered' });
    expect(held()).toBe(0);
  });

  test('answers empty after the hold; a command already queued is answered at once; a delivered one does not end the next wait', async () => {
    fx = await makeFixture({ engine, overrides: { adminToken: ADMIN, commandWaitHoldMs: 300 } });
    const { agent, serverKey } = await agentWithServer();
    const empty = await waitRequest(agent);
    expect(empty.statusCode).toBe(200);
    expect(empty.json()).toEqual({ commands: [] });

    const issued = await quarantine(agent, serverKey);
    const first = await waitRequest(agent);
    expect((first.json() as { commands: SignedCommand[] }).commands.map((c) => c.id)).toEqual([issued.commandId]);
    // Handed out, not answered yet: it rides in acks, the long-poll does not hand it out again.
    expect((await waitRequest(agent)).json()).toEqual({ commands: [] });
    const ack = await agent.sendEvents(1);
    expect(((ack.json as { commands?: SignedCommand[] }).commands ?? []).map((c) => c.id)).toEqual([issued.commandId]);
  });

  test('auth failures: bad signature, unknown agent and a skewed clock are 401; a bad body is 400', async () => {
    fx = await makeFixture({ engine, overrides: { adminToken: ADMIN } });
    const { agent } = await agentWithServer();
    const forged = await waitRequest(agent, { tamper: true });
    expect(forged.statusCode).toBe(401);
    expect(forged.json()).toMatchObject({ code: 'MCPW_ERR_SIGNATURE_INVALID' });
    const unknown = await waitRequest(agent, { agentId: 'ag_nobody' });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json()).toMatchObject({ code: 'MCPW_ERR_UNKNOWN_AGENT' });
    const skewed = await waitRequest(agent, { timestampMs: fx.clock.nowMs - 3600_000 });
    expect(skewed.statusCode).toBe(401);
    expect(skewed.json()).toMatchObject({ code: 'MCPW_ERR_TIMESTAMP_SKEW' });
    // Signed, but a batch-shaped body is not a wait.
    const notAWait = await waitRequest(agent, { body: JSON.stringify({ agentId: agent.agentId, seq: 1, events: [] }) });
    expect(notAWait.statusCode).toBe(400);
    expect(held()).toBe(0);
  });

  test('a captured wait sent again is refused (409 MCPW_ERR_REPLAYED), also while the original is held; so is one signed before an accepted wait; fresh waits and batch retries still pass', async () => {
    fx = await makeFixture({ engine, overrides: { adminToken: ADMIN, commandWaitHoldMs: 20_000 } });
    const { agent, serverKey } = await agentWithServer();
    const send = (c: { headers: Record<string, string>; body: Buffer }) =>
      fx.app.inject({ method: 'POST', url: '/v1/commands/wait', headers: c.headers, payload: c.body });
    const capture = (seqNo: number, timestampMs: number, maxWaitMs = 20_000) => {
      const body = Buffer.from(JSON.stringify({ kind: 'commands.wait', maxWaitMs }));
      return { body, headers: { ...batchHeaders(agent.keys.privateKey, agent.agentId, seqNo, timestampMs, body), 'content-type': 'application/json' } };
    };
    // The original is held; its replay (same bytes, same signature) is refused, not queued behind it.
    const original = capture(1, fx.clock.nowMs);
    const held1 = send(original);
    await waitFor('the original held', () => held() === 1);
    const replayWhileHeld = await send(original);
    expect(replayWhileHeld.statusCode).toBe(409);
    expect(replayWhileHeld.json()).toMatchObject({ code: 'MCPW_ERR_REPLAYED' });
    const issued = await quarantine(agent, serverKey);
    expect(((await held1).json() as { commands: SignedCommand[] }).commands.map((c) => c.id)).toEqual([issued.commandId]);

    // Sent again after it was answered: refused, and the command it carried is not handed out again.
    const replayAfter = await send(original);
    expect(replayAfter.statusCode).toBe(409);
    expect(replayAfter.json()).toMatchObject({ code: 'MCPW_ERR_REPLAYED' });
    // A wait signed earlier than an accepted one (an older capture) is refused too.
    const older = await send(capture(7, fx.clock.nowMs - 1000));
    expect(older.statusCode).toBe(409);
    expect(older.json()).toMatchObject({ code: 'MCPW_ERR_REPLAYED' });
    // The agent's next waits pass: same millisecond with a higher seq (seq rises), or a later
    // timestamp with seq back at 1 (an agent restarted).
    expect((await send(capture(2, fx.clock.nowMs, 0))).json()).toEqual({ commands: [] });
    fx.clock.nowMs += 1500;
    expect((await send(capture(1, fx.clock.nowMs, 0))).json()).toEqual({ commands: [] });

    // The guard is the wait's alone: a batch re-sent as is (a retry after a lost ack) is still
    // answered with the same ack, every time, signed at the same millisecond as accepted waits.
    const batch = agent.prepare(agent.events(1));
    const first = await agent.send(batch);
    const retry1 = await agent.send(batch);
    const retry2 = await agent.send(batch);
    expect([first.status, retry1.status, retry2.status]).toEqual([200, 200, 200]);
    expect((retry1.json as { acked: number }).acked).toBe(batch.seq);
    expect((retry2.json as { acked: number }).acked).toBe(batch.seq);
    expect(held()).toBe(0);
  });

  test('a second concurrent wait from the same agent is refused (429); the first is kept and still answered', async () => {
    fx = await makeFixture({ engine, overrides: { adminToken: ADMIN } });
    const { agent, serverKey } = await agentWithServer();
    const other = await agentWithServer();
    const first = waitRequest(agent);
    await waitFor('the first wait held', () => held() === 1);
    const second = await waitRequest(agent);
    expect(second.statusCode).toBe(429);
    expect(second.json()).toMatchObject({ code: 'MCPW_ERR_RATE_LIMITED' });
    expect(second.headers['retry-after']).toBeDefined();
    // Another agent is not affected by this agent's slot.
    const otherWait = waitRequest(other.agent);
    await waitFor('both agents held', () => held() === 2);
    const issued = await quarantine(agent, serverKey);
    expect(((await first).json() as { commands: SignedCommand[] }).commands.map((c) => c.id)).toEqual([issued.commandId]);
    expect(held()).toBe(1);
    await quarantine(other.agent, other.serverKey);
    expect(((await otherWait).json() as { commands: SignedCommand[] }).commands).toHaveLength(1);
  });

  test('a command queued by another collector sharing the database wakes a held wait through the queue poll', async () => {
    fx = await makeFixture({ engine, overrides: { adminToken: ADMIN } });
    const { agent, serverKey } = await agentWithServer();
    const db = (fx.store as unknown as { db: Kysely<unknown> }).db as Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    // "This" collector: polls the queue every 50 ms while a wait is held; "the other" issues.
    const here = new Containment(new ContainmentStore(db), { sign: (c) => ({ ...c, signature: 'test' }), now: () => fx.clock.nowMs, queuePollMs: 50 });
    const there = new Containment(new ContainmentStore(db), { sign: (c) => ({ ...c, signature: 'test' }), now: () => fx.clock.nowMs });
    const ctl = new AbortController();
    const waiting = here.waitForCommands(agent.endpointId, 60_000, ctl.signal);
    await waitFor('the wait held', () => here.heldWaits === 1);
    const rec = await there.issue({ endpointId: agent.endpointId, serverKey, action: 'quarantine', reason: 'elsewhere', actor: { tokenId: 't', name: 'other collector' } });
    expect((await waiting).map((c) => c.id)).toEqual([rec.commandId]);
    expect(here.heldWaits).toBe(0);
    // Shutdown answers a held wait empty.
    const last = here.waitForCommands(agent.endpointId, 60_000, ctl.signal);
    await waitFor('held again', () => here.heldWaits === 1);
    here.shutdown();
    expect(await last).toEqual([]);
  });

  test('a wait whose client has gone hands the commands it took back to the queue; the next wait gets them', async () => {
    fx = await makeFixture({ engine, overrides: { adminToken: ADMIN } });
    const { agent, serverKey } = await agentWithServer();
    const db = (fx.store as unknown as { db: Kysely<unknown> }).db as Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const store = new ContainmentStore(db);
    const here = new Containment(store, { sign: (c) => ({ ...c, signature: 'test' }), now: () => fx.clock.nowMs });
    // A wait held for a connection that closed before the route could notice (its 'close' had
    // already fired): woken by the command, it must not swallow it.
    let gone = false;
    const stale = here.waitForCommands(agent.endpointId, 60_000, new AbortController().signal, () => gone);
    await waitFor('the stale wait held', () => here.heldWaits === 1);
    gone = true;
    const rec = await here.issue({ endpointId: agent.endpointId, serverKey, action: 'restore', reason: 'reviewed', actor: { tokenId: 't', name: 'admin' } });
    expect(await stale).toEqual([]);
    expect((await store.pendingFor(agent.endpointId, new Date(fx.clock.nowMs).toISOString(), 10)).map((r) => [r.commandId, r.status])).toEqual([[rec.commandId, 'queued']]);
    // The agent's next wait (a new connection) is answered with it at once, and it is delivered.
    const next = await here.waitForCommands(agent.endpointId, 60_000, new AbortController().signal, () => false);
    expect(next.map((c) => c.id)).toEqual([rec.commandId]);
    expect((await store.pendingFor(agent.endpointId, new Date(fx.clock.nowMs).toISOString(), 10)).map((r) => r.status)).toEqual(['delivered']);
    here.shutdown();
  });
});
