/**
 * The tool projection, fleet queries and the `tool-fleet-divergence` finding on both real engines:
 * SQLite (a file) and PostgreSQL (the local server, a fresh schema per run). Tool events go in as
 * agents send them (shared event builder, the store's ingest and projector), one enrolled agent
 * per endpoint; what comes out is read from the store's own query API, event history and outbox.
 */
import { createHash } from 'node:crypto';
import { makeEvent, type Finding, type McpEvent, type McpListenerRecord, type ToolRecord } from '@mcpwatch/shared';
import type { Kysely } from 'kysely';
import { endpointsExposing, fleetDivergence, listTools, toolsOfEndpoint } from '../../../src/tools/tool-queries.js';
import { fleetGroupOf, majorityOf, TOOL_FLEET_DIVERGENCE_RULE } from '../../../src/tools/tool-fleet-divergence.js';
import { engineCases } from '../../support/pg.js';
import { enrolled, hostInfo, snapshot } from '../../support/store-fixtures.js';
import { openTestStore, type TestStore } from '../../support/test-store.js';
import { createStore } from '../../../src/store/index.js';
import { projectToolEvents } from '../../../src/tools/tool-projection.js';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const H = (c: string) => c.repeat(64);
const SINKS = ['file', 'securityhub', 'kinesis', 'webhook'];

function tool(over: Partial<ToolRecord>): ToolRecord {
  return {
    serverId: 'fp-github', serverKey: 'sk1', serverName: 'github', serverVersion: '1.2.0', protocolVersion: '2025-06-18', source: 'probe', sourcePath: null,
    name: 'create_issue', title: null, descriptionSha256: H('a'), inputSchemaSha256: H('b'), annotationsSha256: null, annotations: {}, instructionsSha256: null, capabilities: [],
    ...over,
  };
}
const ev = (type: 'tool.added' | 'tool.removed', endpointId: string, t: ToolRecord): McpEvent => makeEvent(type, endpointId, t);
const changed = (endpointId: string, t: ToolRecord, previous: ToolRecord): McpEvent =>
  makeEvent('tool.changed', endpointId, { ...t, changedFields: ['description'], previousDescriptionSha256: previous.descriptionSha256, previousInputSchemaSha256: previous.inputSchemaSha256, previousServerVersion: previous.serverVersion ?? null });

const listener = (serverId: string): McpListenerRecord => ({
  serverId, port: 8931, bind: '127.0.0.1', allInterfaces: false, pid: 4242, user: 'alice', processName: 'node', serverKey: 'sk-docs', configured: true,
  transport: 'streamable-http', path: '/mcp', serverName: 'docs', serverVersion: '3.0.0', protocolVersion: '2025-06-18', authRequired: false,
});

describe('fleet majority', () => {
  it('is the unique top variant held by two endpoints or more; a tie or a lone endpoint has none', () => {
    expect(majorityOf(new Map([['x', 2], ['y', 1]]))).toBe('x');
    expect(majorityOf(new Map([['x', 3], ['y', 2], ['z', 2]]))).toBe('x');
    expect(majorityOf(new Map([['x', 1], ['y', 1]]))).toBeNull();
    expect(majorityOf(new Map([['x', 2], ['y', 2]]))).toBeNull();
    expect(majorityOf(new Map([['x', 1]]))).toBeNull();
    expect(majorityOf(new Map())).toBeNull();
  });

  it('groups by fingerprint, version and tool; an unconfigured listener by the name it gave, else not at all', () => {
    expect(fleetGroupOf(tool({}))).toBe(JSON.stringify(['fp-github', '1.2.0', 'create_issue']));
    expect(fleetGroupOf(tool({ serverVersion: null }))).toBe(JSON.stringify(['fp-github', null, 'create_issue']));
    expect(fleetGroupOf(tool({ serverId: 'listener:127.0.0.1:3000', serverName: 'facts' }))).toBe(JSON.stringify(['mcp-server-name:facts', '1.2.0', 'create_issue']));
    expect(fleetGroupOf(tool({ serverId: 'listener:127.0.0.1:3000', serverName: null }))).toBeNull();
  });
});

describe.each(await engineCases())('tool projection, queries and fleet divergence (%s)', (engine) => {
  let t: TestStore;
  let db: AnyDb;
  let eps: Array<Awaited<ReturnType<typeof enrolled>>>;
  const id = (i: number) => eps[i]!.agent.endpointId;
  const send = (i: number, events: (endpointId: string) => McpEvent[]) => eps[i]!.sender.send(events(id(i)));
  const divergence = async (status?: 'open' | 'resolved') =>
    (await t.store.listFindings({ rule: TOOL_FLEET_DIVERGENCE_RULE, ...(status ? { status } : {}), limit: 100 })).items;
  const openOn = async () => (await divergence('open')).map((f) => f.endpointId).sort();

  beforeAll(async () => {
    t = await openTestStore(engine);
    db = (t.store as unknown as { db: AnyDb }).db;
    eps = [];
    for (const h of ['tools-1', 'tools-2', 'tools-3', 'tools-4']) eps.push(await enrolled(t.store, hostInfo({ hostname: h }), SINKS));
  });
  afterAll(async () => t.cleanup());

  it('projects added/removed tools and answers by name, server, capability, prevalence and endpoint', async () => {
    for (const i of [0, 1, 2]) await send(i, (ep) => [ev('tool.added', ep, tool({}))]);
    await send(0, (ep) => [
      ev('tool.added', ep, tool({ serverId: 'listener:0.0.0.0:8080', serverName: 'shell', serverVersion: null, name: 'run_command', capabilities: ['shell-exec'], description: 'Run a shell command' })),
      ev('tool.added', ep, tool({ name: 'delete_repo', capabilities: ['file-write'] })),
      ev('tool.removed', ep, tool({ name: 'delete_repo', capabilities: ['file-write'] })),
    ]);
    const all = await listTools(db);
    expect(all[0]).toMatchObject({ serverId: 'fp-github', name: 'create_issue', endpoints: 3, descriptionVariants: 1 });
    expect(all.map((x) => x.name)).not.toContain('delete_repo');
    expect(await listTools(db, { capability: 'shell-exec' })).toEqual([{ serverId: 'listener:0.0.0.0:8080', serverName: 'shell', name: 'run_command', endpoints: 1, descriptionVariants: 1, capabilities: ['shell-exec'] }]);
    expect((await listTools(db, { server: 'github' })).map((x) => x.name)).toEqual(['create_issue']);
    expect((await endpointsExposing(db, 'create_issue')).map((r) => r.endpointId)).toEqual([id(0), id(1), id(2)].sort());
    const ep1 = await toolsOfEndpoint(db, id(0));
    expect(ep1.map((x) => x.name)).toEqual(['create_issue', 'run_command']);
    expect(ep1.find((x) => x.name === 'run_command')).toMatchObject({ description: 'Run a shell command', annotations: {}, serverVersion: null });
    expect(ep1.find((x) => x.name === 'create_issue')?.description).toBeUndefined();
    expect(await divergence()).toEqual([]);
  });

  it('raises tool-fleet-divergence on the endpoint whose tool differs from the majority, through the event history and every sink\'s outbox', async () => {
    await send(2, (ep) => [changed(ep, tool({ descriptionSha256: H('f'), description: 'CANARY-description-never-in-a-finding' }), tool({}))]);
    const [f] = await divergence('open');
    expect(f).toMatchObject({ endpointId: id(2), ruleId: TOOL_FLEET_DIVERGENCE_RULE, severity: 'high', serverKey: 'sk1', serverName: 'github', status: 'open' });
    const finding: Finding = f!.finding;
    expect(finding.evidence).toMatchObject({ field: 'tool.create_issue', kind: 'description' });
    expect(finding.evidence!.detail).toContain(`description ${H('f')}`);
    expect(finding.evidence!.detail).toContain(`description ${H('a')}`);
    expect(finding.evidence!.detail).toContain('2 of 3 endpoints');
    expect(finding.title).toBe('Tool create_issue of github 1.2.0 differs from the rest of the fleet');
    expect(finding.description).toMatch(/same MCP server at the same version/);
    expect(JSON.stringify(finding)).not.toContain('CANARY');
    // The finding.raised event is the divergent endpoint's, under its agent; every sink has it queued.
    const raised = (await t.store.listEvents({ endpointId: id(2), type: 'finding.raised', limit: 10 })).items;
    expect(raised.map((e) => (e.data as Finding).id)).toEqual([finding.id]);
    const outbox = await db.selectFrom('outbox').select(['sink', 'agent_id', 'endpoint_id', 'event_ids']).where('event_ids', 'like', `%${raised[0]!.id}%`).execute();
    expect(outbox.map((r) => r.sink).sort()).toEqual([...SINKS].sort());
    for (const r of outbox) expect(r).toMatchObject({ agent_id: eps[2]!.agent.agentId, endpoint_id: id(2) });
    // GET /v1/tools/divergence reads the same state.
    expect(await fleetDivergence(db)).toEqual([{
      serverId: 'fp-github', serverName: 'github', serverVersion: '1.2.0', name: 'create_issue',
      majority: { descriptionSha256: H('a'), inputSchemaSha256: H('b'), annotationsSha256: null, endpoints: 2 },
      endpoints: 3,
      divergent: [{ endpointId: id(2), findingId: finding.id, descriptionSha256: H('f'), inputSchemaSha256: H('b'), annotationsSha256: null }],
    }]);
    expect((await listTools(db, { name: 'create_issue' }))[0]).toMatchObject({ endpoints: 3, descriptionVariants: 2 });
  });

  it('keeps the collector\'s finding open across the agent\'s snapshots (they reconcile only the agent\'s findings)', async () => {
    await eps[2]!.sender.send([snapshot(id(2), eps[2]!.host, {})]);
    expect(await openOn()).toEqual([id(2)]);
    expect((await t.store.listEvents({ endpointId: id(2), type: 'finding.resolved', limit: 10 })).items).toEqual([]);
  });

  it('re-judges the whole group when the majority moves: the old holdout is raised from another endpoint\'s batch', async () => {
    // A 4th endpoint takes the new definition: 2 (a) vs 2 (f) is a tie, nobody is divergent.
    await send(3, (ep) => [ev('tool.added', ep, tool({ descriptionSha256: H('f') }))]);
    expect(await openOn()).toEqual([]);
    const resolved = (await t.store.listEvents({ endpointId: id(2), type: 'finding.resolved', limit: 10 })).items;
    expect(resolved).toHaveLength(1);
    // Endpoint 2 moves to f: f holds 3 of 4, endpoint 1 (untouched) is now the one that differs.
    await send(1, (ep) => [changed(ep, tool({ descriptionSha256: H('f') }), tool({}))]);
    expect(await openOn()).toEqual([id(0)]);
    const raised = (await t.store.listEvents({ endpointId: id(0), type: 'finding.raised', limit: 10 })).items;
    expect(raised).toHaveLength(1);
    const rows = await db.selectFrom('outbox').select(['sink', 'agent_id', 'endpoint_id', 'cert_fingerprint']).where('event_ids', 'like', `%${raised[0]!.id}%`).execute();
    expect(rows.map((r) => r.sink).sort()).toEqual([...SINKS].sort());
    for (const r of rows) expect(r).toMatchObject({ agent_id: eps[0]!.agent.agentId, endpoint_id: id(0), cert_fingerprint: eps[0]!.agent.certFingerprint });
  });

  it('resolves when the endpoint converges, when the tool goes, and when the server moves to another version', async () => {
    await send(0, (ep) => [changed(ep, tool({ descriptionSha256: H('f') }), tool({}))]);
    expect(await openOn()).toEqual([]);
    // A schema-only difference on one endpoint, then the tool is removed there.
    await send(1, (ep) => [changed(ep, tool({ descriptionSha256: H('f'), inputSchemaSha256: H('e') }), tool({ descriptionSha256: H('f') }))]);
    expect(await openOn()).toEqual([id(1)]);
    expect((await divergence('open'))[0]!.finding.evidence!.kind).toBe('inputSchema');
    await send(1, (ep) => [ev('tool.removed', ep, tool({ descriptionSha256: H('f'), inputSchemaSha256: H('e') }))]);
    expect(await openOn()).toEqual([]);
    // An annotations-only difference is medium; an upgrade of the server leaves the group.
    await send(3, (ep) => [changed(ep, tool({ descriptionSha256: H('f'), annotationsSha256: H('c') }), tool({ descriptionSha256: H('f') }))]);
    expect((await divergence('open')).map((f) => [f.endpointId, f.severity])).toEqual([[id(3), 'medium']]);
    await send(3, (ep) => [changed(ep, tool({ descriptionSha256: H('f'), annotationsSha256: H('c'), serverVersion: '1.3.0' }), tool({ descriptionSha256: H('f') }))]);
    expect(await openOn()).toEqual([]);
    expect(await fleetDivergence(db)).toEqual([]);
  });

  it('hides the tools of a socket server that stopped (the agent sends no tool.removed) and shows them again when it returns', async () => {
    const docs = (d: string) => tool({ serverId: 'fp-docs', serverKey: 'sk-docs', serverName: 'docs', serverVersion: '3.0.0', name: 'search', descriptionSha256: H(d) });
    for (const i of [0, 1]) await send(i, (ep) => [makeEvent('mcp-listener.added', ep, listener('fp-docs')), ev('tool.added', ep, docs('a'))]);
    await send(2, (ep) => [makeEvent('mcp-listener.added', ep, listener('fp-docs')), ev('tool.added', ep, docs('d'))]);
    expect(await openOn()).toEqual([id(2)]);
    await send(2, (ep) => [makeEvent('mcp-listener.removed', ep, listener('fp-docs'))]);
    expect(await openOn()).toEqual([]);
    expect((await listTools(db, { name: 'search' }))[0]).toMatchObject({ endpoints: 2, descriptionVariants: 1 });
    expect((await toolsOfEndpoint(db, id(2))).map((x) => x.name)).not.toContain('search');
    // Back with the same tools (the agent announces the listener, not the unchanged tools).
    await send(2, (ep) => [makeEvent('mcp-listener.added', ep, listener('fp-docs'))]);
    expect(await openOn()).toEqual([id(2)]);
    expect((await listTools(db, { name: 'search' }))[0]).toMatchObject({ endpoints: 3, descriptionVariants: 2 });
    // A listener event of a server with no hidden tools changes nothing.
    await send(0, (ep) => [makeEvent('mcp-listener.changed', ep, listener('fp-docs'))]);
    expect((await listTools(db, { name: 'search' }))[0]).toMatchObject({ endpoints: 3 });
  });
});

/**
 * Two collectors sharing PostgreSQL project batches of one fleet group at the same time, each on
 * its own connection (READ COMMITTED). Without the group lock taken before the counts are read,
 * two endpoints moving together each see the other's old definition (write skew) and the counts,
 * the majority or the findings go wrong. After every round the stored state must equal what the
 * endpoint_tools rows say.
 */
describe.each((await engineCases()).filter((e) => e === 'postgres'))('fleet divergence under concurrent projection (%s)', (engine) => {
  let t: TestStore;
  let second: Awaited<ReturnType<typeof createStore>>;
  afterAll(async () => {
    await second?.close();
    await t?.cleanup();
  });

  it('keeps counts, majority and findings equal to the rows after concurrent batches of the same group', async () => {
    t = await openTestStore(engine);
    second = await createStore(t.options);
    const dbs = [(t.store as unknown as { db: AnyDb }).db, (second as unknown as { db: AnyDb }).db];
    const eps: Array<Awaited<ReturnType<typeof enrolled>>> = [];
    for (let i = 0; i < 5; i++) eps.push(await enrolled(t.store, hostInfo({ hostname: `race-${i}` }), ['file']));
    for (const e of eps) await e.sender.send([ev('tool.added', e.agent.endpointId, tool({}))]);
    let seq = 1000;
    const batch = (i: number, d: string) => {
      const e = eps[i]!;
      const ctx = { agentId: e.agent.agentId, endpointId: e.agent.endpointId, seq: ++seq, receivedAt: new Date().toISOString(), certFingerprint: e.agent.certFingerprint, sinks: ['file'] };
      const event = changed(ctx.endpointId, tool({ descriptionSha256: createHash('sha256').update(d).digest('hex') }), tool({}));
      return dbs[i % 2]!.transaction().execute((trx) => projectToolEvents(trx, ctx, [event]));
    };
    const group = fleetGroupOf(tool({}))!;
    for (let round = 0; round < 25; round++) {
      // Every endpoint takes a new definition at once, half of them through each collector: X, Y,
      // X, Y, Y (Y the majority). The two moves to X and the three to Y touch disjoint count rows,
      // so only the group lock keeps one batch from judging the group without the others' moves.
      const defs = ['X', 'Y', 'X', 'Y', 'Y'].map((d) => `${round}:${d}`);
      const results = await Promise.allSettled(defs.map((d, i) => batch(i, d)));
      // A deadlock between the two is a retryable store error; the projector retries such a batch.
      for (const [i, r] of results.entries()) if (r.status === 'rejected') await batch(i, defs[i]!);
      const db = dbs[0]!;
      const rows = await db.selectFrom('endpoint_tools').select(['endpoint_id', 'variant']).where('fleet_group', '=', group).where('present', '=', 1).execute();
      const actual = new Map<string, number>();
      for (const r of rows) actual.set(r.variant, (actual.get(r.variant) ?? 0) + 1);
      const counted = new Map((await db.selectFrom('tool_fleet_variants').select(['variant', 'endpoints']).where('fleet_group', '=', group).execute()).map((r) => [r.variant as string, Number(r.endpoints)]));
      expect(counted).toEqual(actual);
      const majority = majorityOf(actual);
      const g = await db.selectFrom('tool_fleet_groups').select('majority').where('fleet_group', '=', group).executeTakeFirstOrThrow();
      expect(g.majority ?? null).toBe(majority);
      const divergent = majority === null ? [] : rows.filter((r) => r.variant !== majority).map((r) => r.endpoint_id).sort();
      const open = (await db.selectFrom('tool_fleet_findings').select('endpoint_id').where('fleet_group', '=', group).execute()).map((r) => r.endpoint_id).sort();
      expect([round, open]).toEqual([round, divergent]);
      const stored = await db.selectFrom('findings').select('endpoint_id').where('rule_id', '=', TOOL_FLEET_DIVERGENCE_RULE).where('status', '=', 'open').execute();
      expect(stored.map((r) => r.endpoint_id).sort()).toEqual(divergent);
    }
  }, 120_000);
});
