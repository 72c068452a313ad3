/**
 * Tool calls and tool-level policy (issue 13) as one Fastify plugin. Decorates the root app with
 * `toolPolicy` (the service the batch route reads for settings.toolPolicy in each ack) and serves
 *
 *   GET  /v1/admin/tool-policy            -> {policy, revision, updatedAt, updatedBy}         scope admin
 *   PUT  /v1/admin/tool-policy            {policy: ToolPolicy, reason} -> the new state        scope admin
 *   POST /v1/admin/tool-policy/clear      {reason} -> the state (policy null)                  scope admin
 *   GET  /v1/admin/tool-policy/audit      ?limit -> {items: changes newest first}              scope admin
 *   GET  /v1/tool-calls                   ?endpoint&since&until&server&tool&decision&client
 *                                          &limit&cursor -> {items, nextCursor}               scope read
 *   GET  /v1/tool-calls/analytics         ?endpoint&windowHours(24)&baselineDays(30) -> {items:
 *                                          findings with their baseline, calls, truncated}     scope read
 *
 * /v1/tool-calls reads the event index (type tool.called, newest first) through the store's
 * listEvents; endpoint/since/until/cursor/limit select pages there, and server/tool/decision/client
 * are matched within each page, so a page may hold fewer than `limit` items: walk nextCursor.
 * Analytics (tool-call-analytics.ts) read at most MAX_ANALYTICS_CALLS calls of baseline + window
 * (newest first); past that `truncated` is true and the oldest baseline is missing. The same
 * analytics are published as findings (store, outbox, every sink) by `toolCallFindings`
 * (tool-call-findings.ts), which runs every minute over the endpoints with new calls.
 * Needs a Kysely-backed store (`store.db`) for the policy; with another store the decorator is null,
 * the policy routes answer 503 and acks carry no tool policy. Errors: 400, 401, 403, 503.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { ToolPolicy, TOOL_DECISIONS, type ToolCalledData } from '@mcpwatch/shared';
import { requireScope } from '../auth.js';
import { Errors, isCollectorError } from '../errors.js';
import { ErrorReply, rejectNulCharacters, rejectUnknownFields } from '../routes/api-schemas.js';
import type { Page, StoredEvent } from '../store/types.js';
import { ToolPolicyService } from './tool-policy-service.js';
import { analyzeToolCalls, type ToolCallRow } from './tool-call-analytics.js';
import { ToolCallFindingsService } from './tool-call-findings.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The fleet's tool policy (null when the store is not Kysely-backed). */
    toolPolicy: ToolPolicyService | null;
    /** Publishes the tool-call analytics as findings (null when the store is not Kysely-backed). */
    toolCallFindings: ToolCallFindingsService | null;
  }
}

// The shared schema without its $id: it is embedded in more than one route schema here.
const { $id: _policyId, ...PolicySchema } = ToolPolicy;
void _policyId;

const Reason = Type.String({ minLength: 1, maxLength: 1024, description: 'why (kept in the audit trail)' });
const PutBody = Type.Object({ policy: PolicySchema as unknown as typeof ToolPolicy, reason: Reason }, { additionalProperties: false });
const ClearBody = Type.Object({ reason: Reason }, { additionalProperties: false });
const AuditQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })) }, { additionalProperties: false });
const Filter = (description: string, maxLength = 256) => Type.Optional(Type.String({ minLength: 1, maxLength, description }));
const CallsQuery = Type.Object(
  {
    endpoint: Filter('endpoint id', 128),
    since: Type.Optional(Type.String({ format: 'date-time', description: 'event time at or after' })),
    until: Type.Optional(Type.String({ format: 'date-time', description: 'event time before' })),
    server: Filter('server name as the client named it'),
    tool: Filter('tool name'),
    decision: Type.Optional(Type.Union(TOOL_DECISIONS.map((d) => Type.Literal(d)))),
    client: Filter('client id (claude-code, cursor, ...)', 64),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  },
  { additionalProperties: false },
);
const errors = { 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 503: ErrorReply };
const AnalyticsQuery = Type.Object(
  {
    endpoint: Filter('endpoint id', 128),
    windowHours: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 30, default: 24 })),
    baselineDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 365, default: 30 })),
  },
  { additionalProperties: false },
);
const MAX_ANALYTICS_CALLS = 50_000;

/**
 * Fastify's validator drops unknown properties instead of refusing them, and rejectUnknownFields
 * looks at the top level only: a misspelt policy key (`blockedServer`) would silently become "no
 * rule". Refuse unknown keys inside the policy and its patterns: 400 MCPW_ERR_SCHEMA.
 */
async function rejectUnknownPolicyFields(req: FastifyRequest): Promise<void> {
  const policy = (req.body as { policy?: unknown } | undefined)?.policy;
  if (policy === null || typeof policy !== 'object' || Array.isArray(policy)) return;
  const known = Object.keys(PolicySchema.properties);
  const unknown = Object.keys(policy).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw Errors.schema(`unknown policy field ${unknown.map((k) => JSON.stringify(k.slice(0, 64))).join(', ')}; a tool policy takes ${known.join(', ')}`);
  for (const list of ['blockedTools', 'askTools'] as const) {
    const entries = (policy as Record<string, unknown>)[list];
    if (!Array.isArray(entries)) continue;
    for (const e of entries) {
      const extra = e && typeof e === 'object' ? Object.keys(e).filter((k) => k !== 'server' && k !== 'tool') : [];
      if (extra.length > 0) throw Errors.schema(`unknown field ${extra.map((k) => JSON.stringify(k.slice(0, 64))).join(', ')} in ${list}; a pattern takes server, tool`);
    }
  }
}
const security = [{ bearer: [] }];

function storeFailure(e: unknown): never {
  if (isCollectorError(e)) throw e;
  throw Errors.storeUnavailable(`tool policy store failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}

export const toolCallsPlugin: FastifyPluginAsync = async (app) => {
  const { store, config, now } = app.collector;
  const db = (store as unknown as { db?: Kysely<unknown> }).db;
  const service = db
    ? new ToolPolicyService(db as Kysely<any>, { now, reportError: (e) => app.log.warn({ err: e }, 'tool policy: refresh failed') }) // eslint-disable-line @typescript-eslint/no-explicit-any
    : null;
  app.decorate('toolPolicy', service);
  if (service) {
    await service.start();
    app.addHook('onClose', async () => service.shutdown());
  }
  // The analytics as findings (tool-call-findings.ts): published through the outbox like every finding.
  const engine = (store as unknown as { engine?: 'sqlite' | 'postgres' }).engine;
  const findings = db && engine
    ? new ToolCallFindingsService({
        db: db as Kysely<any>, // eslint-disable-line @typescript-eslint/no-explicit-any
        engine,
        listEvents: (f) => store.listEvents(f),
        sinks: () => config.sinks,
        now,
        reportError: (e) => app.log.warn({ err: e }, 'tool-call findings: run failed'),
      })
    : null;
  app.decorate('toolCallFindings', findings);
  if (findings) {
    findings.start();
    app.addHook('onClose', async () => findings.shutdown());
  }
  const need = (): ToolPolicyService => {
    if (!service) throw Errors.storeUnavailable('the tool policy needs the SQL store');
    return service;
  };

  await app.register(async (admin) => {
    admin.addHook('onRequest', requireScope(store, config.adminToken, 'admin'));
    admin.addHook('preValidation', rejectUnknownFields);
    admin.addHook('preValidation', rejectNulCharacters);
    admin.get('/v1/admin/tool-policy', { schema: { tags: ['admin'], summary: 'The tool policy served to agents', security, response: errors } }, async () => need().get().catch(storeFailure));
    admin.put<{ Body: Static<typeof PutBody> }>(
      '/v1/admin/tool-policy',
      { preValidation: rejectUnknownPolicyFields, schema: { tags: ['admin'], summary: 'Replace the tool policy (audited; agents apply it with their next ack)', body: PutBody, security, response: errors } },
      async (req) => {
        const p = req.principal!;
        return need().set(req.body.policy, { tokenId: p.tokenId, name: p.name }, req.body.reason).catch(storeFailure);
      },
    );
    admin.post<{ Body: Static<typeof ClearBody> }>(
      '/v1/admin/tool-policy/clear',
      { schema: { tags: ['admin'], summary: 'Remove the tool policy (audited; hooks fall back to audit mode)', body: ClearBody, security, response: errors } },
      async (req) => {
        const p = req.principal!;
        return need().clear({ tokenId: p.tokenId, name: p.name }, req.body.reason).catch(storeFailure);
      },
    );
    admin.get<{ Querystring: Static<typeof AuditQuery> }>(
      '/v1/admin/tool-policy/audit',
      { schema: { tags: ['admin'], summary: 'Tool policy changes, newest first', querystring: AuditQuery, security, response: errors } },
      async (req) => ({ items: await need().audit(req.query.limit ?? 100).catch(storeFailure) }),
    );
  });

  await app.register(async (read) => {
    read.addHook('onRequest', requireScope(store, config.adminToken, 'read'));
    read.addHook('preValidation', rejectNulCharacters);
    read.get<{ Querystring: Static<typeof AnalyticsQuery> }>(
      '/v1/tool-calls/analytics',
      { schema: { tags: ['query'], summary: 'Explainable tool-call findings (each names its baseline)', querystring: AnalyticsQuery, security, response: errors } },
      async (req) => {
        const q = req.query;
        const nowMs = now();
        const windowStart = new Date(nowMs - (q.windowHours ?? 24) * 3600_000).toISOString();
        const baselineStart = new Date(Date.parse(windowStart) - (q.baselineDays ?? 30) * 86_400_000).toISOString();
        const calls: ToolCallRow[] = [];
        let cursor: string | null = null;
        do {
          const page: Page<StoredEvent> = await store
            .listEvents({ type: 'tool.called', since: baselineStart, limit: 1000, ...(q.endpoint ? { endpointId: q.endpoint } : {}), ...(cursor ? { cursor } : {}) })
            .catch(storeFailure);
          for (const e of page.items) if (e.type === 'tool.called') calls.push({ ...(e.data as ToolCalledData), endpointId: e.endpointId, time: e.time });
          cursor = page.nextCursor;
        } while (cursor && calls.length < MAX_ANALYTICS_CALLS);
        return { items: analyzeToolCalls(calls, { windowStart, baselineStart }), windowStart, baselineStart, calls: calls.length, truncated: cursor !== null };
      },
    );
    read.get<{ Querystring: Static<typeof CallsQuery> }>(
      '/v1/tool-calls',
      { schema: { tags: ['query'], summary: 'MCP tool calls seen through client hooks, newest first', querystring: CallsQuery, security, response: errors } },
      async (req) => {
        const q = req.query;
        const page = await store
          .listEvents({ type: 'tool.called', limit: q.limit ?? 100, ...(q.endpoint ? { endpointId: q.endpoint } : {}), ...(q.since ? { since: q.since } : {}), ...(q.until ? { until: q.until } : {}), ...(q.cursor ? { cursor: q.cursor } : {}) })
          .catch(storeFailure);
        const items = page.items
          .filter((e) => e.type === 'tool.called')
          .map((e) => ({ id: e.id, endpointId: e.endpointId, time: e.time, ...(e.data as ToolCalledData) }))
          .filter((c) => (!q.server || c.server === q.server) && (!q.tool || c.tool === q.tool) && (!q.decision || c.decision === q.decision) && (!q.client || c.client === q.client));
        return { items, nextCursor: page.nextCursor };
      },
    );
  });
};
// fastify-plugin's habit: run in the parent's scope, so `toolPolicy` is decorated on the root app
// (the batch route reads it); the routes keep their hooks in their own child scopes.
(toolCallsPlugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
