/**
 * POST /v1/batches with hostile content, through the real route with batches signed by a really
 * enrolled test agent, on both engines: properties the shared schemas do not name (batch envelope,
 * event envelope, anywhere in event data) and strings/arrays/records over their bounds are a coded
 * 400 and store nothing; deeply nested extras are a 400, never a retryable 503; a real-sized
 * inventory (2,000 servers) still passes.
 */
import { makeEvent, type McpEvent, type ServerEntry } from '@mcpwatch/shared';
import { makeFixture, type Fixture } from '../support/collector-fixture.js';
import { engineCases } from '../support/pg.js';
import { makeServerEntry, type TestAgent, type WireResponse } from '@mcpwatch/testkit';

/** Placeholder replaced in the JSON text by a deeply nested value. */
const DEEP = '__DEEP_VALUE__';
/** Nesting far past any stack: JSON.stringify of it overflows. */
const DEPTH = 200_000;
const deepObject = (): string => `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`;
const deepArray = (): string => `${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}`;

function codeOf(res: WireResponse): { status: number; code: string | undefined } {
  return { status: res.status, code: (res.json as { code?: string } | null)?.code };
}

function snapshotEvent(agent: TestAgent, servers: ServerEntry[], clients = 1): McpEvent {
  return makeEvent('inventory.snapshot', agent.endpointId, {
    host: agent.host,
    clients: Array.from({ length: clients }, (_, i) => ({ client: `client-${i}`, displayName: `Client ${i}`, user: 'alice', configPaths: [`/home/alice/.c${i}/mcp.json`], serverCount: 0 })),
    servers,
    processes: [],
    sockets: [],
    findings: [],
    errors: [],
  }, new Date(agent.now()));
}

/** The four generated event types (server.added, process.started, finding.raised, agent.heartbeat) + a snapshot. */
function sampleEvents(agent: TestAgent): McpEvent[] {
  return [...agent.events(4), snapshotEvent(agent, [makeServerEntry('snap')])];
}

type Mutation = (events: McpEvent[], batch: Record<string, unknown>) => void;
const data = (events: McpEvent[], type: string): Record<string, unknown> => events.find((e) => e.type === type)!.data as unknown as Record<string, unknown>;

/** Batch JSON text after `mutate`, with DEEP placeholders replaced by `deep` (when given). */
function batchText(agent: TestAgent, mutate: Mutation, deep?: () => string): string {
  const events = structuredClone(sampleEvents(agent));
  const batch: Record<string, unknown> = { agentId: agent.agentId, seq: agent.nextSeq, prevHash: agent.prevHash, sentAt: new Date(agent.now()).toISOString(), events };
  mutate(events, batch);
  const text = JSON.stringify(batch);
  return deep ? text.split(JSON.stringify(DEEP)).join(deep()) : text;
}

/** Where an unknown property can hide: every level of a batch. */
const UNKNOWN_PLACES: Array<[string, (v: unknown) => Mutation]> = [
  ['the batch envelope', (v) => (_e, b) => void (b.junk = v)],
  ['an event envelope', (v) => (e) => void ((e[1] as unknown as Record<string, unknown>).junk = v)],
  ['server.added data', (v) => (e) => void (data(e, 'server.added').junk = v)],
  ['a server package identity', (v) => (e) => void ((data(e, 'server.added').package as Record<string, unknown>).junk = v)],
  ['process.started data', (v) => (e) => void (data(e, 'process.started').junk = v)],
  ['a finding subject', (v) => (e) => void ((data(e, 'finding.raised').subject as Record<string, unknown>).junk = v)],
  ['a finding evidence', (v) => (e) => void ((data(e, 'finding.raised').evidence as Record<string, unknown>).junk = v)],
  ['heartbeat data', (v) => (e) => void (data(e, 'agent.heartbeat').junk = v)],
  ['a snapshot host', (v) => (e) => void ((data(e, 'inventory.snapshot').host as Record<string, unknown>).junk = v)],
  ['a snapshot server entry', (v) => (e) => void ((data(e, 'inventory.snapshot').servers as Record<string, unknown>[])[0]!.junk = v)],
  ['a snapshot client record', (v) => (e) => void ((data(e, 'inventory.snapshot').clients as Record<string, unknown>[])[0]!.junk = v)],
];

/** Values over the schema's bounds. */
const OVERSIZED: Array<[string, Mutation]> = [
  ['a server name of 513 characters', (e) => void (data(e, 'server.added').name = 'n'.repeat(513))],
  ['a 1 MiB finding description', (e) => void (data(e, 'finding.raised').description = 'd'.repeat(1024 * 1024))],
  ['513 server args', (e) => void (data(e, 'server.added').args = Array.from({ length: 513 }, () => 'a'))],
  ['513 env var names', (e) => void (data(e, 'server.added').envKeys = Array.from({ length: 513 }, (_, i) => `K${i}`))],
  ['a heartbeat interval record of 65 entries', (e) => void (data(e, 'agent.heartbeat').intervalsMs = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`i${i}`, 1000])))],
  ['a heartbeat interval name of 65 characters', (e) => void (data(e, 'agent.heartbeat').intervalsMs = { ['k'.repeat(65)]: 1000 })],
  ['a snapshot of 2,001 clients', (e) => void (data(e, 'inventory.snapshot').clients = Array.from({ length: 2001 }, (_, i) => ({ client: `c${i}`, displayName: 'C', configPaths: [], serverCount: 0 })))],
  ['a host with a 257-character hostname', (e) => void ((data(e, 'inventory.snapshot').host as Record<string, unknown>).hostname = 'h'.repeat(257))],
  ['a 65-character sentAt', (_e, b) => void (b.sentAt = 's'.repeat(65))],
];

describe.each(await engineCases())('POST /v1/batches: unknown properties, bounds and nesting (%s store)', (engine) => {
  let fx: Fixture;
  let agent: TestAgent;
  const stored = async (): Promise<McpEvent[]> => (await fx.store.listEvents({ endpointId: agent.endpointId, limit: 1000 })).items as McpEvent[];

  beforeAll(async () => {
    fx = await makeFixture({ engine, overrides: { rateLimitPerAgentPerS: 1000, rateLimitBurst: 1000 } });
    agent = await fx.enroll();
  });
  afterAll(async () => fx.close());

  /** Sends `text` (signed, gzipped); expects a 400 with `code`, nothing stored, and the agent able to go on. */
  async function expectRefused(text: string, code: string, message?: RegExp): Promise<WireResponse> {
    const before = (await stored()).length;
    const seq = agent.nextSeq;
    const res = await agent.sendEvents(0, { jsonText: text });
    expect(codeOf(res)).toEqual({ status: 400, code });
    expect(res.headers['retry-after']).toBeUndefined();
    if (message) expect((res.json as { message: string }).message).toMatch(message);
    expect(agent.nextSeq).toBe(seq);
    expect((await stored()).length).toBe(before);
    return res;
  }

  test('the sample batch itself is accepted (every mutation below is the only change)', async () => {
    const res = await agent.sendEvents(0, { jsonText: batchText(agent, () => undefined) });
    expect(res.status).toBe(200);
    expect((await stored()).map((e) => e.type)).toEqual(expect.arrayContaining(['agent.heartbeat', 'finding.raised', 'inventory.snapshot', 'process.started', 'server.added']));
  });

  test.each(UNKNOWN_PLACES)('an unknown property on %s is 400 MCPW_ERR_SCHEMA naming it, and nothing is stored', async (_where, place) => {
    await expectRefused(batchText(agent, place('x'.repeat(64 * 1024))), 'MCPW_ERR_SCHEMA', /additional properties \(junk\)/);
  });

  test('megabytes of junk in event data are refused, not stored', async () => {
    const junk = Array.from({ length: 64 }, (_, i) => `${i}`.repeat(16 * 1024));
    await expectRefused(batchText(agent, (e) => void (data(e, 'server.added').notes = junk)), 'MCPW_ERR_SCHEMA', /notes/);
  });

  test.each(OVERSIZED)('%s is 400 MCPW_ERR_SCHEMA', async (_what, mutate) => {
    await expectRefused(batchText(agent, mutate), 'MCPW_ERR_SCHEMA');
  });

  test.each(UNKNOWN_PLACES)('a deeply nested extra object on %s is 400, not 503', async (_where, place) => {
    await expectRefused(batchText(agent, place(DEEP), deepObject), 'MCPW_ERR_SCHEMA');
  });

  test.each<[string, Mutation]>([
    ['as a server argument', (e) => void (data(e, 'server.added').args = [DEEP])],
    ['as a heartbeat interval', (e) => void (data(e, 'agent.heartbeat').intervalsMs = { deep: DEEP })],
    ['as a finding subject', (e) => void (data(e, 'finding.raised').subject = DEEP)],
    ['as the events array', (_e, b) => void (b.events = DEEP)],
  ])('a deeply nested array %s is 400, not 503', async (_where, mutate) => {
    await expectRefused(batchText(agent, mutate, deepArray), 'MCPW_ERR_SCHEMA');
  });

  test('NUL characters in strings (server name, hostname, finding title, user) are stored as U+FFFD on both engines, never a 503', async () => {
    const server = makeServerEntry('nul\u0000name', { args: ['--x', 'a\u0000b'] });
    const snap = snapshotEvent(agent, [server]);
    const host = (snap.data as { host: Record<string, unknown> }).host;
    host.hostname = 'host\u0000name';
    host.users = ['al\u0000ice'];
    const [, , finding] = agent.events(3);
    (finding!.data as { title: string }).title = 'title \u0000 here';
    const res = await agent.sendEvents([makeEvent('server.added', agent.endpointId, server, new Date(agent.now())), snap, finding!]);
    expect(codeOf(res)).toEqual({ status: 200, code: undefined });
    const text = JSON.stringify(await stored());
    expect(text).not.toContain('\\u0000');
    for (const s of ['nul\uFFFDname', 'a\uFFFDb', 'host\uFFFDname', 'al\uFFFDice', 'title \uFFFD here']) expect(text).toContain(s);
    const endpoint = await fx.store.getEndpoint(agent.endpointId);
    expect(endpoint?.endpoint.hostname).toBe('host\uFFFDname');
  });

  test('an escaped backslash before u0000 is text, not a NUL, and is stored as sent', async () => {
    const server = makeServerEntry('C:\\u0000dir');
    expect((await agent.sendEvents([makeEvent('server.added', agent.endpointId, server, new Date(agent.now()))])).status).toBe(200);
    expect(JSON.stringify(await stored())).toContain(JSON.stringify('C:\\u0000dir').slice(1, -1));
  });

  test('a snapshot of 2,000 servers (a large real inventory) is accepted and stored whole', async () => {
    const servers = Array.from({ length: 2000 }, (_, i) =>
      makeServerEntry(`server-${i}`, { configPath: `/home/alice/projects/p${i}/.mcp.json`, scope: 'project', projectPath: `/home/alice/projects/p${i}`, args: ['-y', `@example/server-${i}@1.0.${i}`, '--root', `/home/alice/projects/p${i}`] }),
    );
    const res = await agent.sendEvents([snapshotEvent(agent, servers, 40)]);
    expect(res.status).toBe(200);
    const snap = (await stored()).find((e) => e.type === 'inventory.snapshot' && (e.data as { servers: unknown[] }).servers.length === 2000);
    expect(snap).toBeDefined();
  });
});
