/**
 * The tool-call analytics published as findings, through a real collector (SQLite, and PostgreSQL
 * when it is up): an agent's tool.called batches mark its endpoint; a run of the publisher raises
 * first-use-high-risk-tool and blocked-tool-attempts as findings (GET /v1/findings, the event
 * history, and the outlets: the file sink's OCSF and ASFF renderings and a real webhook receiver);
 * a second run adds nothing (deduplicated); more denied attempts re-raise the same finding once the
 * count doubles; an agent snapshot leaves them open (collector-owned); once their calls leave the
 * window they are resolved (finding.resolved, ARCHIVED in the ASFF rendering). Each finding says
 * which baseline it was measured against.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeEvent, type Finding, type McpEvent, type ToolCalledData } from '@mcpwatch/shared';
import { makeFixture, type Fixture } from '../../support/collector-fixture.js';
import { engineCases } from '../../support/pg.js';
import { webhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.js';

const ADMIN = 'bootstrap-admin-token-0123456789';
const DAY = 86_400_000;

const call = (data: Partial<ToolCalledData>): ToolCalledData => ({
  client: 'claude-code', user: 'alice', sessionHash: 'a'.repeat(32), phase: 'pre', server: 'github', tool: 'search_issues', argumentNames: ['q'],
  decision: 'allow', enforced: true, mode: 'enforce', rule: 'default', calledAt: '2026-06-01T12:00:00.000Z', ...data,
});

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.each(await engineCases())('tool-call findings (%s)', (engine) => {
  let fx: Fixture;
  let hook: WebhookReceiver;
  beforeEach(async () => {
    hook = await webhookReceiver();
    fx = await makeFixture({ engine, overrides: { adminToken: ADMIN, sinks: 'file,webhook', webhookUrl: hook.url, webhookFormat: 'json', webhookMinSeverity: 'low', outboxPollMs: 20 } });
  });
  afterEach(async () => {
    await fx.close();
    await hook.close();
  });

  const get = (url: string) => fx.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${ADMIN}` } }).then((r) => r.json());
  // GET /v1/findings items: the finding as published, with its state.
  const analyticsFindings = async (endpointId: string): Promise<Array<Finding & { status: string }>> =>
    (await get(`/v1/findings?endpoint=${endpointId}&limit=100`)).items
      .filter((f: { ruleId: string }) => f.ruleId === 'first-use-high-risk-tool' || f.ruleId === 'blocked-tool-attempts')
      .map((f: { finding: Finding; status: string; serverName: string | null; client: string | null }) => ({ ...f.finding, status: f.status, row: { serverName: f.serverName, client: f.client } }));
  const findingEvents = async (type: string): Promise<McpEvent[]> => (await get(`/v1/events?type=${type}&limit=100`)).items;

  test('raised through the finding path, deduplicated, kept by snapshots, resolved when the calls leave the window', async () => {
    const agent = await fx.enroll();
    const ep = agent.endpointId;
    const at = (ms: number) => new Date(fx.clock.nowMs + ms);
    // Baseline: 10 days ago Alice searched issues; today: a first delete_repo, and three denied export_rows calls.
    await agent.sendEvents([1, 2, 3].map((i) => makeEvent('tool.called', ep, call({}), at(-10 * DAY + i * 1000))));
    await agent.sendEvents([
      makeEvent('tool.called', ep, call({ tool: 'delete_repo' }), at(-3600_000)),
      ...[1, 2, 3].map((i) => makeEvent('tool.called', ep, call({ server: 'db', tool: 'export_rows', decision: 'deny', rule: 'blocked-tool' }), at(-1800_000 + i * 1000))),
    ]);
    const svc = fx.app.toolCallFindings!;
    expect(await svc.runOnce()).toEqual({ endpoints: 1, raised: 2, resolved: 0 });

    const open = await analyticsFindings(ep);
    expect(open.map((f) => f.ruleId).sort()).toEqual(['blocked-tool-attempts', 'first-use-high-risk-tool']);
    const firstUse = open.find((f) => f.ruleId === 'first-use-high-risk-tool')!;
    expect(firstUse).toMatchObject({ severity: 'medium', status: 'open', subject: { serverName: 'github', client: 'claude-code' }, row: { serverName: 'github', client: 'claude-code' } });
    expect(firstUse.description).toMatch(/Measured against: no call of github\/delete_repo by alice@/);
    const blocked = open.find((f) => f.ruleId === 'blocked-tool-attempts')!;
    expect(blocked).toMatchObject({ severity: 'high', title: '3+ attempts to call blocked tool db/export_rows by alice' });

    // Deduplicated: nothing new on the next run, nor for a baseline that merely grew.
    await agent.sendEvents([makeEvent('tool.called', ep, call({}), at(-60_000))]);
    expect(await svc.runOnce()).toMatchObject({ raised: 0, resolved: 0 });
    expect((await findingEvents('finding.raised')).filter((e) => e.endpointId === ep)).toHaveLength(2);

    // Every outlet: the file sink's Kinesis (OCSF) and Security Hub (ASFF) renderings, and the webhook.
    const outlets = join(fx.dataDir, 'outlets');
    const asff = await until('both findings in securityhub.jsonl', () => {
      if (!existsSync(join(outlets, 'securityhub.jsonl'))) return undefined;
      // Whole lines only: the sink may be mid-write.
      const lines = readFileSync(join(outlets, 'securityhub.jsonl'), 'utf8').split('\n').slice(0, -1).map((l) => JSON.parse(l));
      return lines.filter((l) => ['first-use-high-risk-tool', 'blocked-tool-attempts'].includes(l.GeneratorId)).length >= 2 ? lines : undefined;
    });
    expect(asff.find((l) => l.GeneratorId === 'blocked-tool-attempts')).toMatchObject({ RecordState: 'ACTIVE', Severity: { Label: 'HIGH' } });
    const ocsf = await until('the findings in kinesis.jsonl', () => {
      const text = existsSync(join(outlets, 'kinesis.jsonl')) ? readFileSync(join(outlets, 'kinesis.jsonl'), 'utf8') : '';
      return text.includes('blocked-tool-attempts') && text.includes('first-use-high-risk-tool') ? text : undefined;
    });
    expect(ocsf).toContain(ep);
    await until('the webhook notification', () => (hook.got.some((p) => p.raw.includes('export_rows')) ? true : undefined));

    // More denied attempts: the same finding (same id) re-raised once the count doubles, not per call.
    await agent.sendEvents([4, 5].map((i) => makeEvent('tool.called', ep, call({ server: 'db', tool: 'export_rows', decision: 'deny', rule: 'blocked-tool' }), at(-1800_000 + i * 1000))));
    expect(await svc.runOnce()).toMatchObject({ raised: 0 });
    await agent.sendEvents([makeEvent('tool.called', ep, call({ server: 'db', tool: 'export_rows', decision: 'deny', rule: 'blocked-tool' }), at(-1000))]);
    expect(await svc.runOnce()).toMatchObject({ raised: 1 });
    const reraised = (await analyticsFindings(ep)).find((f) => f.ruleId === 'blocked-tool-attempts')!;
    expect([reraised.id, reraised.title]).toEqual([blocked.id, '6+ attempts to call blocked tool db/export_rows by alice']);

    // An agent snapshot does not resolve collector-owned findings.
    await agent.sendEvents([makeEvent('inventory.snapshot', ep, { schema: 'mcpwatch.inventory/v1', generatedAt: at(0).toISOString(), host: { hostname: 'h', platform: 'linux', users: ['alice'] }, clients: [], servers: [], processes: [], sockets: [], findings: [], errors: [] } as never, at(0))]);
    expect((await analyticsFindings(ep)).every((f) => f.status === 'open')).toBe(true);

    // A day later the calls are out of the window: resolved at the next re-check, without new calls.
    fx.clock.nowMs += DAY + 3600_000;
    expect(await svc.runOnce()).toMatchObject({ endpoints: 1, raised: 0, resolved: 2 });
    expect((await analyticsFindings(ep)).map((f) => f.status)).toEqual(['resolved', 'resolved']);
    expect((await findingEvents('finding.resolved')).filter((e) => e.endpointId === ep).map((e) => (e.data as Finding).ruleId).sort()).toEqual(['blocked-tool-attempts', 'first-use-high-risk-tool']);
    await until('ARCHIVED in securityhub.jsonl', () => (readFileSync(join(outlets, 'securityhub.jsonl'), 'utf8').split('\n').some((l) => l.includes('blocked-tool-attempts') && l.includes('"ARCHIVED"')) ? true : undefined));
    expect(await svc.runOnce()).toMatchObject({ raised: 0, resolved: 0 });
  });

  test('an endpoint without tool calls is never analysed; a failing read keeps the mark for the next run', async () => {
    const quiet = await fx.enroll();
    await quiet.sendEvents(2);
    expect(await fx.app.toolCallFindings!.runOnce()).toEqual({ endpoints: 0, raised: 0, resolved: 0 });

    const agent = await fx.enroll();
    await agent.sendEvents([makeEvent('tool.called', agent.endpointId, call({ tool: 'exec_command' }), new Date(fx.clock.nowMs - 1000))]);
    const svc = fx.app.toolCallFindings!;
    const realList = (svc as unknown as { o: { listEvents: unknown } }).o.listEvents;
    (svc as unknown as { o: { listEvents: unknown } }).o.listEvents = async () => {
      throw new Error('store down');
    };
    expect(await svc.runOnce()).toEqual({ endpoints: 0, raised: 0, resolved: 0 });
    (svc as unknown as { o: { listEvents: unknown } }).o.listEvents = realList;
    expect(await svc.runOnce()).toEqual({ endpoints: 1, raised: 1, resolved: 0 });
  });
});
