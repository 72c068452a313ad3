/**
 * The tool-call analytics (tool-call-analytics.ts: first-use-high-risk-tool,
 * tool-use-outside-usual-hours, tool-call-burst, blocked-tool-attempts) published as findings, the
 * way every other finding is: a `finding.raised` / `finding.resolved` event of the endpoint (its
 * agent, its latest batch seq), a `findings` row (collector-owned: an agent's snapshot neither
 * resolves nor reconciles it, COLLECTOR_RULE_IDS) and outbox rows for the configured sinks, so the
 * store, the file sink, Kinesis (OCSF), Security Hub (ASFF) and the webhook all get them.
 *
 * When: the projector marks an endpoint whose batch brought `tool.called` events
 * (markToolCallEndpoint, one upsert in the projection transaction); every intervalMs the service
 * analyses the marked endpoints (at most maxEndpointsPerRun, oldest mark first) over their calls of
 * the window and baseline (the same reading as GET /v1/tool-calls/analytics), and, every recheckMs,
 * the endpoints with an open analytics finding, so a finding whose call left the window resolves
 * even when no call comes. A mark is cleared only if no batch marked the endpoint again meanwhile.
 *
 * Deduplicated: a finding's id is stable (rule + endpoint + user + server + tool, plus the hour or
 * minute for the hour and burst rules); an open finding is re-raised only when its title or
 * severity changes (blocked-tool-attempts counts in doubling steps: 3+, 6+, 12+ ...), never for a
 * baseline that merely grew. Resolved: an open finding the analysis no longer gives (its call left
 * the window, or became baseline). Each finding's description says which baseline it measured.
 * Concurrency: the writes of one endpoint are one transaction; on PostgreSQL it takes an advisory
 * lock of the endpoint first, so two collectors never publish the same transition twice. Event
 * ids are deterministic per content, so a replay adds nothing.
 * Never throws out of its timer: failures go to reportError and the marks stay for the next run.
 */
import { sql, type Kysely } from 'kysely';
import { stableId, type Finding, type McpEvent, type Severity, type ToolCalledData } from '@mcpwatch/shared';
import { severityRank } from '@mcpwatch/shared/protocol';
import { findingTransitionId } from '../store/projection.js';
import { OUTBOX_ROW_MAX_EVENTS } from '../store/projection-writer.js';
import { sinkWantsEvent } from '../store/sink-routing.js';
import type { EventFilter, Page, StoredEvent } from '../store/types.js';
import { analyzeToolCalls, ANALYTICS_RULES, type AnalyticsFinding, type AnalyticsOptions, type ToolCallRow } from './tool-call-analytics.js';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Most calls one endpoint's analysis reads (baseline + window, newest first). */
export const MAX_ENDPOINT_CALLS = 50_000;

const RATIONALE: Record<AnalyticsFinding['rule'], string> = {
  'first-use-high-risk-tool':
    'A user called an MCP tool whose name marks it as high-risk (runs commands, deletes or writes, deploys, moves money, ' +
    'handles secrets or tokens) for the first time on this endpoint. A first use is how a new capability, a prompt ' +
    'injection steering the model to a dangerous tool, or a newly added server shows up. Confirm the user meant it.',
  'tool-use-outside-usual-hours':
    "MCP tools were called on this endpoint at an hour in which this user's calls never happened during the baseline " +
    '(nor in the hour before or after). Unattended agents, a stolen session or automation someone set up are the ' +
    'usual causes. Confirm the activity with the user.',
  'tool-call-burst':
    "Far more MCP tool calls in one minute than this user's busiest minute of the baseline. A runaway agent loop, " +
    'mass data access or exfiltration through a tool look like this. Look at which tools were called.',
  'blocked-tool-attempts':
    'The tool policy denies this tool (enforced, or a would-be deny in audit mode), and the user or their agent tried ' +
    'it again and again. Either the policy blocks something the user needs (change the policy) or something keeps ' +
    'trying to use a blocked capability (find out what).',
};

export interface ToolCallFindingsOptions {
  db: AnyDb;
  engine: 'sqlite' | 'postgres';
  /** The store's event reader (tool.called events, data included). */
  listEvents: (filter: EventFilter) => Promise<Page<StoredEvent>>;
  /** The sinks findings go to (the collector's configured outlets). */
  sinks: () => readonly string[];
  now: () => number;
  reportError: (e: unknown) => void;
  /** Default 60 s. */
  intervalMs?: number;
  /** The analysed window (default 24 h) and the baseline before it (default 30 days). */
  windowHours?: number;
  baselineDays?: number;
  /** Endpoints analysed per run at most (default 500; the rest wait for the next run). */
  maxEndpointsPerRun?: number;
  /** How often endpoints with open analytics findings are analysed without a new call (default 10 min). */
  recheckMs?: number;
  /** Thresholds (tool-call-analytics.ts AnalyticsOptions). */
  analytics?: Pick<AnalyticsOptions, 'minBaselineCalls' | 'minBurst' | 'burstFactor' | 'denyThreshold'>;
}

export interface ToolCallFindingsReport {
  endpoints: number;
  raised: number;
  resolved: number;
}

/** Marks the endpoint for analysis when `events` hold a tool call (called from the projection transaction). */
export async function markToolCallEndpoint(trx: AnyDb, endpointId: string, events: readonly McpEvent[], receivedAt: string): Promise<void> {
  if (!events.some((e) => e.type === 'tool.called')) return;
  await trx
    .insertInto('tool_call_dirty')
    .values({ endpoint_id: endpointId, marks: 1, marked_at: receivedAt })
    .onConflict((oc) => oc.column('endpoint_id').doUpdateSet({ marks: sql`tool_call_dirty.marks + 1`, marked_at: receivedAt }))
    .execute();
}

/** The published finding of one analytics result (stable id; title counts blocked attempts in doubling steps). */
export function toFinding(endpointId: string, a: AnalyticsFinding, denyThreshold = 3): Finding {
  const discriminator = a.rule === 'tool-use-outside-usual-hours' ? a.at.slice(0, 13) : a.rule === 'tool-call-burst' ? String(a.evidence.minute ?? a.at.slice(0, 16)) : '';
  let title = a.title;
  if (a.rule === 'blocked-tool-attempts') {
    const attempts = Number(a.evidence.attempts) || denyThreshold;
    let step = Math.max(1, denyThreshold);
    while (step * 2 <= attempts) step *= 2;
    title = `${step}+ attempts to call blocked tool ${a.server}/${a.tool} by ${a.user ?? 'a user'}`;
  }
  const client = typeof a.evidence.client === 'string' ? a.evidence.client : null;
  return {
    id: stableId(['finding/v1', 'tool-calls', a.rule, endpointId, a.user, a.server, a.tool, discriminator]),
    ruleId: a.rule,
    severity: a.severity as Severity,
    title: title.slice(0, 512),
    description: `${RATIONALE[a.rule]}\n\nMeasured against: ${a.baseline}\nFirst seen: ${a.at}${a.user ? ` (user ${a.user})` : ''}`.slice(0, 4096),
    subject: { serverName: a.server ? a.server.slice(0, 512) : null, client },
    evidence: { field: `tool-call:${a.server}/${a.tool ?? '*'}`.slice(0, 1024), kind: a.rule, detail: a.baseline.slice(0, 1024) },
  };
}

interface Transition {
  type: 'finding.raised' | 'finding.resolved';
  finding: Finding;
  dataJson: string;
}

export class ToolCallFindingsService {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<ToolCallFindingsReport> | null = null;
  private lastRecheckMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly o: ToolCallFindingsOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.runOnce().catch((e) => this.o.reportError(e)), this.o.intervalMs ?? 60_000);
    this.timer.unref();
  }

  shutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One run (see the module comment); concurrent callers share it. */
  runOnce(): Promise<ToolCallFindingsReport> {
    this.running ??= this.pass().finally(() => (this.running = null));
    return this.running;
  }

  private async pass(): Promise<ToolCallFindingsReport> {
    const { db } = this.o;
    const nowMs = this.o.now();
    const max = this.o.maxEndpointsPerRun ?? 500;
    const todo = new Map<string, number | null>();
    const marked = await db.selectFrom('tool_call_dirty').select(['endpoint_id', 'marks']).orderBy('marked_at').orderBy('endpoint_id').limit(max).execute();
    for (const r of marked) todo.set(r.endpoint_id as string, Number(r.marks));
    if (nowMs - this.lastRecheckMs >= (this.o.recheckMs ?? 10 * 60_000)) {
      this.lastRecheckMs = nowMs;
      const open = await db.selectFrom('findings').select('endpoint_id').distinct().where('rule_id', 'in', [...ANALYTICS_RULES]).where('status', '=', 'open').orderBy('endpoint_id').limit(max).execute();
      for (const r of open) if (!todo.has(r.endpoint_id as string)) todo.set(r.endpoint_id as string, null);
    }
    const report: ToolCallFindingsReport = { endpoints: 0, raised: 0, resolved: 0 };
    for (const [endpointId, marks] of todo) {
      try {
        const r = await this.analyseEndpoint(endpointId, marks, nowMs);
        report.endpoints++;
        report.raised += r.raised;
        report.resolved += r.resolved;
      } catch (e) {
        this.o.reportError(e); // the mark stays: the next run tries again
      }
    }
    return report;
  }

  private async readCalls(endpointId: string, since: string): Promise<ToolCallRow[]> {
    const calls: ToolCallRow[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<StoredEvent> = await this.o.listEvents({ type: 'tool.called', endpointId, since, limit: 1000, ...(cursor ? { cursor } : {}) });
      for (const e of page.items) if (e.type === 'tool.called') calls.push({ ...(e.data as ToolCalledData), endpointId: e.endpointId, time: e.time });
      cursor = page.nextCursor;
    } while (cursor && calls.length < MAX_ENDPOINT_CALLS);
    return calls;
  }

  private async analyseEndpoint(endpointId: string, marks: number | null, nowMs: number): Promise<{ raised: number; resolved: number }> {
    const windowStart = new Date(nowMs - (this.o.windowHours ?? 24) * 3600_000).toISOString();
    const baselineStart = new Date(Date.parse(windowStart) - (this.o.baselineDays ?? 30) * 86_400_000).toISOString();
    const calls = await this.readCalls(endpointId, baselineStart);
    const desired = new Map<string, Finding>();
    for (const a of analyzeToolCalls(calls, { windowStart, baselineStart, ...this.o.analytics })) {
      const f = toFinding(endpointId, a, this.o.analytics?.denyThreshold);
      if (!desired.has(f.id)) desired.set(f.id, f);
    }
    const at = new Date(nowMs).toISOString();
    return this.o.db.transaction().execute(async (trx) => {
      if (this.o.engine === 'postgres') await sql`select pg_advisory_xact_lock(hashtext(${`mcpwatch.tool-call-findings:${endpointId}`}))`.execute(trx);
      const open = await trx
        .selectFrom('findings')
        .select(['finding_id', 'data'])
        .where('endpoint_id', '=', endpointId)
        .where('status', '=', 'open')
        .where('rule_id', 'in', [...ANALYTICS_RULES])
        .execute();
      const openById = new Map(open.map((r: { finding_id: string; data: string }) => [r.finding_id, JSON.parse(r.data) as Finding]));
      const transitions: Transition[] = [];
      for (const [id, f] of desired) {
        const was = openById.get(id);
        if (was && was.title === f.title && was.severity === f.severity) continue;
        transitions.push({ type: 'finding.raised', finding: f, dataJson: JSON.stringify(f) });
      }
      for (const [id, f] of openById) if (!desired.has(id)) transitions.push({ type: 'finding.resolved', finding: f, dataJson: JSON.stringify(f) });
      await this.publish(trx, endpointId, transitions, at);
      if (marks !== null) await trx.deleteFrom('tool_call_dirty').where('endpoint_id', '=', endpointId).where('marks', '=', marks).execute();
      return { raised: transitions.filter((t) => t.type === 'finding.raised').length, resolved: transitions.filter((t) => t.type === 'finding.resolved').length };
    });
  }

  /** Events, findings rows and outbox rows per sink for one endpoint's transitions. */
  private async publish(trx: AnyDb, endpointId: string, transitions: Transition[], at: string): Promise<void> {
    if (transitions.length === 0) return;
    const agent = await trx
      .selectFrom('endpoints')
      .innerJoin('agents', 'agents.agent_id', 'endpoints.agent_id')
      .select(['agents.agent_id as agent_id', 'agents.cert_fingerprint as cert_fingerprint', 'agents.last_seq as last_seq'])
      .where('endpoints.endpoint_id', '=', endpointId)
      .executeTakeFirst();
    if (!agent) return; // an endpoint without an agent row sends no calls; nothing to publish under
    const seq = Number(agent.last_seq);
    const ids: Array<{ id: string; type: string }> = [];
    for (const t of transitions) {
      const f = t.finding;
      const id = findingTransitionId(endpointId, `tool-calls:${t.type}:${stableId(t.dataJson)}`, at, t.type, f.id);
      const inserted = await trx
        .insertInto('events')
        .values({ id, endpoint_id: endpointId, agent_id: agent.agent_id, type: t.type, time: at, received_at: at, batch_seq: seq, data: t.dataJson })
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .execute();
      if (t.type === 'finding.raised') {
        const row = {
          endpoint_id: endpointId, finding_id: f.id, rule_id: f.ruleId, severity: f.severity, severity_rank: Math.max(0, severityRank(f.severity)), title: f.title,
          server_key: null, server_name: f.subject.serverName ?? null, client: f.subject.client ?? null, status: 'open', first_seen: at, last_seen: at, resolved_at: null, data: t.dataJson,
        };
        const { endpoint_id: _e, finding_id: _f, first_seen: _first, ...update } = row;
        void _e; void _f; void _first;
        await trx.insertInto('findings').values(row).onConflict((oc) => oc.columns(['endpoint_id', 'finding_id']).doUpdateSet(update)).execute();
      } else {
        await trx.updateTable('findings').set({ status: 'resolved', resolved_at: at, last_seen: at }).where('endpoint_id', '=', endpointId).where('finding_id', '=', f.id).execute();
      }
      if (inserted.length > 0) ids.push({ id, type: t.type });
    }
    const outbox = [];
    for (const sink of this.o.sinks()) {
      const wanted = ids.filter((e) => sinkWantsEvent(sink, e.type)).map((e) => e.id);
      for (let i = 0; i < wanted.length; i += OUTBOX_ROW_MAX_EVENTS) {
        const part = wanted.slice(i, i + OUTBOX_ROW_MAX_EVENTS);
        outbox.push({
          id: part[0]!, sink, agent_id: agent.agent_id, endpoint_id: endpointId, batch_seq: seq, cert_fingerprint: agent.cert_fingerprint,
          event_ids: JSON.stringify(part), event_count: part.length, attempts: 0, created_at: at, available_at: at, lease_owner: null, lease_until: null, last_error: null,
        });
      }
    }
    if (outbox.length > 0) await trx.insertInto('outbox').values(outbox).onConflict((oc) => oc.columns(['sink', 'id']).doNothing()).execute();
  }
}
