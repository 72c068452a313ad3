/**
 * The query API over the fleet's current inventory and history (bearer token, scope read):
 *
 *   GET /v1/endpoints                         filters os, hostname, user, client, server, severity, lastSeenAfter/Before
 *   GET /v1/endpoints/:endpointId             full current inventory + recent events (?events=N); each
 *                                             server with its containment and its tools, plus the
 *                                             tools of unconfigured servers (endpoint-detail-view.ts)
 *   GET /v1/servers                           grouped by fingerprint with prevalence; filters name, package, transport, client, risk, effective
 *   GET /v1/servers/:fingerprint/endpoints    which endpoints run this server (each entry with its containment)
 *   GET /v1/findings                          filters severity, rule, status, endpoint
 *   GET /v1/events                            filters since, until, endpoint, type
 *
 * Lists page with `limit` (1..1000, default 100) and an opaque `cursor` (the previous page's
 * `nextCursor`). Pages of stored JSON (events, findings, an endpoint's recent events) also stop
 * early at MAX_PAGE_BYTES (4 MiB) of it, with a `nextCursor` when more remain: a page may hold
 * fewer than `limit` items, so walk until `nextCursor` is null. Filters are matched as values,
 * never as SQL (see store/inventory-queries.ts).
 * Freshness: every answer carries `x-mcpwatch-complete-up-to` (ISO time: every batch received
 * before it is in the answer's data; batches after it may still be waiting for the projector) and
 * `x-mcpwatch-projection-lag-seconds`, read before the query runs (so never later than the truth).
 * Errors: 400 MCPW_ERR_SCHEMA / MCPW_ERR_MALFORMED (bad filter, a NUL character in any parameter,
 * or any cursor this API did not hand out: tampered, out of range, wrong type, not base64url,
 * over 1024 characters), 401, 403, 404, 503.
 * Two apps register these routes: the main app (`queryRoutes`, over app.collector) and the query
 * listener's worker (`queryRoutesOver` its read-only store: query-listener/query-app.ts); both
 * answer a request with the same bytes.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { ReadApiContext } from '../collector-context.js';
import { requireScope } from '../auth.js';
import { Errors } from '../errors.js';
import { attachContainment } from '../containment/containment-join.js';
import { loadEndpointDetailView } from './endpoint-detail-view.js';
import type { Severity } from '@mcpwatch/shared';
import {
  EndpointDetail,
  EndpointPage,
  ErrorReply,
  EventPage,
  FindingPage,
  PageQuery,
  ServerEndpointPage,
  ServerPage,
  SeverityParam,
  TimeParam,
  rejectNulCharacters,
  rejectUnknownFields,
} from './api-schemas.js';

/** Response headers: the time the data is complete up to, and the projection's lag. */
export const COMPLETE_UP_TO_HEADER = 'x-mcpwatch-complete-up-to';
export const PROJECTION_LAG_HEADER = 'x-mcpwatch-projection-lag-seconds';

const Filter = (description: string, maxLength = 512) => Type.Optional(Type.String({ minLength: 1, maxLength, description }));

const EndpointsQuery = Type.Object(
  {
    os: Filter('platform (darwin, win32, linux) or part of the OS name'),
    hostname: Filter('part of the hostname, case-insensitive'),
    user: Filter('an OS user on the endpoint'),
    client: Filter('an MCP client id present (cursor, claude-desktop, ...)'),
    server: Filter('a configured MCP server name'),
    severity: Type.Optional(SeverityParam),
    lastSeenAfter: Type.Optional(TimeParam),
    lastSeenBefore: Type.Optional(TimeParam),
    ...PageQuery,
  },
  { additionalProperties: false },
);
const EndpointParams = Type.Object({ endpointId: Type.String({ minLength: 1, maxLength: 128 }) });
const EndpointDetailQuery = Type.Object({ events: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, default: 50 })) }, { additionalProperties: false });
const ServersQuery = Type.Object(
  {
    name: Filter('server name as configured'),
    package: Filter('package name (npm, PyPI, OCI)'),
    transport: Type.Optional(Type.Union(['stdio', 'sse', 'http', 'ws', 'unknown'].map((t) => Type.Literal(t)))),
    client: Filter('MCP client id'),
    risk: Type.Optional(SeverityParam),
    effective: Type.Optional(Type.Union(['active', 'disabled', 'blocked-by-policy', 'shadowed', 'not-loaded'].map((t) => Type.Literal(t)))),
    ...PageQuery,
  },
  { additionalProperties: false },
);
const FingerprintParams = Type.Object({ fingerprint: Type.String({ minLength: 1, maxLength: 128 }) });
const PageOnly = Type.Object({ ...PageQuery }, { additionalProperties: false });
const FindingsQuery = Type.Object(
  {
    severity: Type.Optional(SeverityParam),
    rule: Filter('rule id'),
    status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('resolved')])),
    endpoint: Filter('endpoint id', 128),
    ...PageQuery,
  },
  { additionalProperties: false },
);
const EventsQuery = Type.Object(
  {
    since: Type.Optional(TimeParam),
    until: Type.Optional(TimeParam),
    endpoint: Filter('endpoint id', 128),
    type: Filter('event type (server.added, finding.raised, collector.seq_gap, ...)', 64),
    ...PageQuery,
  },
  { additionalProperties: false },
);

const errors = { 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 503: ErrorReply };
const security = [{ bearer: [] }];

/** Drops undefined members so optional filters stay absent. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The query routes over `read`'s store and tokens (registered by the main app and by the query listener). */
export const queryRoutesOver = (read: ReadApiContext): FastifyPluginAsync => async (app) => {
  const { store, config } = read;
  app.addHook('preValidation', rejectUnknownFields);
  app.addHook('preValidation', rejectNulCharacters);
  app.addHook('onRequest', requireScope(store, config.adminToken, 'read'));
  app.addHook('preHandler', async (_req, reply) => {
    const status = await store.projectionStatus();
    reply.header(COMPLETE_UP_TO_HEADER, status.completeUpTo);
    reply.header(PROJECTION_LAG_HEADER, String(status.lagSeconds));
  });

  app.get<{ Querystring: Static<typeof EndpointsQuery> }>(
    '/v1/endpoints',
    { schema: { tags: ['query'], summary: 'List endpoints', querystring: EndpointsQuery, security, response: { 200: EndpointPage, ...errors } } },
    async (req) => {
      const q = req.query;
      return store.listEndpoints(
        defined({
          os: q.os,
          hostname: q.hostname,
          user: q.user,
          client: q.client,
          serverName: q.server,
          findingSeverity: q.severity as Severity | undefined,
          lastSeenAfter: q.lastSeenAfter,
          lastSeenBefore: q.lastSeenBefore,
          cursor: q.cursor,
          limit: q.limit,
        }),
      );
    },
  );

  app.get<{ Params: Static<typeof EndpointParams>; Querystring: Static<typeof EndpointDetailQuery> }>(
    '/v1/endpoints/:endpointId',
    {
      schema: {
        tags: ['query'],
        summary: 'One endpoint: current inventory (each server with its containment state and tools) and recent events',
        params: EndpointParams,
        querystring: EndpointDetailQuery,
        security,
        response: { 200: EndpointDetail, 404: ErrorReply, ...errors },
      },
    },
    async (req) => {
      const detail = await store.getEndpoint(req.params.endpointId, req.query.events ?? 50);
      if (!detail) throw Errors.notFound(`no endpoint ${req.params.endpointId}`);
      return loadEndpointDetailView(app, detail, store);
    },
  );

  app.get<{ Querystring: Static<typeof ServersQuery> }>(
    '/v1/servers',
    { schema: { tags: ['query'], summary: 'MCP servers across the fleet, grouped by fingerprint, most prevalent first', querystring: ServersQuery, security, response: { 200: ServerPage, ...errors } } },
    async (req) => {
      const q = req.query;
      return store.listServers(defined({ name: q.name, package: q.package, transport: q.transport, client: q.client, effective: q.effective, risk: q.risk as Severity | undefined, cursor: q.cursor, limit: q.limit }));
    },
  );

  app.get<{ Params: Static<typeof FingerprintParams>; Querystring: Static<typeof PageOnly> }>(
    '/v1/servers/:fingerprint/endpoints',
    { schema: { tags: ['query'], summary: 'Endpoints where a server (by fingerprint) is configured', params: FingerprintParams, querystring: PageOnly, security, response: { 200: ServerEndpointPage, ...errors } } },
    async (req) => {
      const page = await store.serverEndpoints(req.params.fingerprint, defined({ cursor: req.query.cursor, limit: req.query.limit }));
      try {
        return { ...page, items: await attachContainment(app.hasDecorator('containment') ? app.containment : null, page.items) };
      } catch (e) {
        throw Errors.storeUnavailable(`containment unavailable: ${(e as Error)?.message ?? String(e)}`, { cause: e });
      }
    },
  );

  app.get<{ Querystring: Static<typeof FindingsQuery> }>(
    '/v1/findings',
    { schema: { tags: ['query'], summary: 'Findings, most severe first', querystring: FindingsQuery, security, response: { 200: FindingPage, ...errors } } },
    async (req) => {
      const q = req.query;
      return store.listFindings(defined({ severity: q.severity as Severity | undefined, rule: q.rule, status: q.status, endpointId: q.endpoint, cursor: q.cursor, limit: q.limit }));
    },
  );

  app.get<{ Querystring: Static<typeof EventsQuery> }>(
    '/v1/events',
    { schema: { tags: ['query'], summary: 'Event history, newest first', querystring: EventsQuery, security, response: { 200: EventPage, ...errors } } },
    async (req) => {
      const q = req.query;
      return store.listEvents(defined({ since: q.since, until: q.until, endpointId: q.endpoint, type: q.type, cursor: q.cursor, limit: q.limit }));
    },
  );
};

/** The main app's plugin: the query routes over app.collector. */
export const queryRoutes: FastifyPluginAsync = async (app, opts) => queryRoutesOver(app.collector)(app, opts);
