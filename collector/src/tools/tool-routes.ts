/**
 * The tools query API (bearer token, scope read), over the `endpoint_tools` projection:
 *
 *   GET /v1/tools                          fleet-wide tools with prevalence; filters name, server, capability,
 *                                          minEndpoints / maxEndpoints, order=most|least; pages (cursor)
 *   GET /v1/tools/divergence               same server fingerprint + version, different tool hashes on some endpoints
 *   GET /v1/tools/definitions              fleet-wide pins: per fingerprint + version + tool, each definition's endpoints (?server=&name=)
 *   GET /v1/tools/:name/endpoints          which endpoints expose tool X now (?server=&version=&descriptionSha256=); pages
 *   GET /v1/endpoints/:endpointId/tools    one endpoint's current tools
 *
 * Needs a Kysely-backed store (`store.db`); with another store every route answers 503
 * MCPW_ERR_STORE_UNAVAILABLE. Filters are bound values. Errors: 400 (schema, a cursor not ours), 401,
 * 403, 503.
 * Registered by the main app (`toolRoutes`, over app.collector) and by the query listener's worker
 * (`toolRoutesOver` its read-only store: query-listener/query-app.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { ReadApiContext } from '../collector-context.js';
import type { Kysely } from 'kysely';
import { TOOL_CAPABILITIES } from '@mcpwatch/shared';
import { requireScope } from '../auth.js';
import { Errors, isCollectorError } from '../errors.js';
import { ErrorReply } from '../routes/api-schemas.js';
import { exposingPage, fleetDivergence, toolDefinitions, toolsOfEndpoint, toolsPage } from './tool-queries.js';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const Filter = (description: string) => Type.Optional(Type.String({ minLength: 1, maxLength: 512, description }));
const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 }));
const Cursor = Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'nextCursor of the previous page' }));
const Count = (description: string) => Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000_000, description }));
const ToolsQuery = Type.Object(
  {
    name: Filter('tool name'),
    server: Filter('server fingerprint / listener id, or server name'),
    capability: Type.Optional(Type.Union(TOOL_CAPABILITIES.map((c) => Type.Literal(c)))),
    minEndpoints: Count('prevalence: exposed on at least this many endpoints'),
    maxEndpoints: Count('prevalence: exposed on at most this many endpoints (1: tools only one endpoint has)'),
    order: Type.Optional(Type.Union([Type.Literal('most'), Type.Literal('least')], { description: 'most prevalent (default) or rarest first' })),
    limit: Limit,
    cursor: Cursor,
  },
  { additionalProperties: false },
);
const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }) });
const EndpointParams = Type.Object({ endpointId: Type.String({ minLength: 1, maxLength: 128 }) });
const ExposingQuery = Type.Object(
  {
    server: Filter('server fingerprint / listener id, or server name'),
    version: Filter('server version'),
    descriptionSha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 (hex) of the description' })),
    limit: Limit,
    cursor: Cursor,
  },
  { additionalProperties: false },
);
const LimitQuery = Type.Object({ limit: Limit }, { additionalProperties: false });
const DefinitionsQuery = Type.Object(
  { server: Filter('server fingerprint (mcp-server-name:<name> for an unconfigured socket server)'), name: Filter('tool name'), limit: Limit, cursor: Cursor },
  { additionalProperties: false },
);
const errors = { 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 503: ErrorReply };
const security = [{ bearer: [] }];

/** The tool routes over `read`'s store and tokens (registered by the main app and by the query listener). */
export const toolRoutesOver = (read: ReadApiContext): FastifyPluginAsync => async (app) => {
  const { store, config } = read;
  const db = (store as unknown as { db?: AnyDb }).db ?? null;
  app.addHook('onRequest', requireScope(store, config.adminToken, 'read'));
  const run = async <T>(fn: (db: AnyDb) => Promise<T>): Promise<T> => {
    if (!db) throw Errors.storeUnavailable('this store has no tool projection');
    try {
      return await fn(db);
    } catch (e) {
      if (isCollectorError(e)) throw e;
      throw Errors.storeUnavailable(`tool query failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
  };

  app.get<{ Querystring: Static<typeof ToolsQuery> }>(
    '/v1/tools',
    { schema: { tags: ['query'], summary: 'Tools across the fleet, with prevalence', querystring: ToolsQuery, security, response: errors } },
    async (req) => run((d) => toolsPage(d, req.query)),
  );
  app.get<{ Querystring: Static<typeof LimitQuery> }>(
    '/v1/tools/divergence',
    { schema: { tags: ['query'], summary: 'Tools whose hashes differ across endpoints running the same server version', querystring: LimitQuery, security, response: errors } },
    async (req) => ({ items: await run((d) => fleetDivergence(d, req.query.limit)) }),
  );
  app.get<{ Querystring: Static<typeof DefinitionsQuery> }>(
    '/v1/tools/definitions',
    { schema: { tags: ['query'], summary: 'Fleet-wide tool definitions (hashes) per server fingerprint and version, with counts and the majority', querystring: DefinitionsQuery, security, response: errors } },
    async (req) => run((d) => toolDefinitions(d, req.query)),
  );
  app.get<{ Params: Static<typeof NameParams>; Querystring: Static<typeof ExposingQuery> }>(
    '/v1/tools/:name/endpoints',
    { schema: { tags: ['query'], summary: 'Endpoints exposing a tool (with host names)', params: NameParams, querystring: ExposingQuery, security, response: errors } },
    async (req) => run((d) => exposingPage(d, req.params.name, req.query)),
  );
  app.get<{ Params: Static<typeof EndpointParams>; Querystring: Static<typeof LimitQuery> }>(
    '/v1/endpoints/:endpointId/tools',
    { schema: { tags: ['query'], summary: "An endpoint's current tools", params: EndpointParams, querystring: LimitQuery, security, response: errors } },
    async (req) => ({ items: await run((d) => toolsOfEndpoint(d, req.params.endpointId, req.query.limit)) }),
  );
};

/** The main app's plugin: the tool routes over app.collector. */
export const toolRoutes: FastifyPluginAsync = async (app, opts) => toolRoutesOver(app.collector)(app, opts);
