/**
 * The containment feature as a Fastify plugin: decorates the root app with `containment` (the
 * service the batch route asks for commands and hands results to) and serves
 *
 *   POST /v1/admin/containment   {endpointId, serverKey, action: quarantine|restore, reason}   scope admin
 *        -> 200 the audit record (status queued); 404 unknown endpoint, or quarantine of a server
 *           the endpoint does not have
 *   GET  /v1/admin/containment   ?endpoint=&serverKey=&limit=&before=                           scope admin
 *        -> {items: audit records newest first, states: effective state per server}
 *   POST /v1/commands/wait   signed by the agent (command-wait-route.ts): the long-poll that hands
 *        an endpoint its queued commands as soon as they are issued
 *
 * Every issued command is also enqueued as a `command.issued` notification for the webhook sink
 * when it is configured (containment-notifier.ts).
 * Needs a Kysely-backed store (`store.db`); with any other store the decorator is null and the
 * routes answer 503. Errors: 400, 401, 403, 404, 503 (store).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Kysely } from 'kysely';
import { COMMAND_ACTIONS } from '@mcpwatch/shared';
import { requireScope } from '../auth.js';
import { Errors, isCollectorError } from '../errors.js';
import { ContainmentRecordView, ContainmentStateView, ErrorReply, rejectNulCharacters, rejectUnknownFields } from '../routes/api-schemas.js';
import { Containment } from './containment-service.js';
import { ContainmentStore } from './containment-store.js';
import { parseAutoContainmentRules } from './auto-containment.js';
import { commandWaitRoute } from './command-wait-route.js';
import { containmentNotifier } from './containment-notifier.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Containment commands (null when the store is not Kysely-backed). */
    containment: Containment | null;
  }
}

const Id = (description: string, maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: '^[^\\n\\r]+$', description });

const IssueBody = Type.Object(
  {
    endpointId: Id('the endpoint', 128),
    serverKey: Id('the server entry on that endpoint (serverKey from its inventory)', 256),
    action: Type.Union(COMMAND_ACTIONS.map((a) => Type.Literal(a))),
    reason: Type.String({ minLength: 1, maxLength: 1024, description: 'why (kept in the audit trail)' }),
  },
  { additionalProperties: false },
);
const StatusQuery = Type.Object(
  {
    endpoint: Type.Optional(Id('endpoint id', 128)),
    serverKey: Type.Optional(Id('server key', 256)),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    before: Type.Optional(Type.String({ format: 'date-time', description: 'page: records requested before this time' })),
  },
  { additionalProperties: false },
);

const errors = { 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 404: ErrorReply, 503: ErrorReply };
const security = [{ bearer: [] }];

function storeFailure(e: unknown): never {
  if (isCollectorError(e)) throw e;
  throw Errors.storeUnavailable(`containment store failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}

export const containmentPlugin: FastifyPluginAsync = async (app) => {
  const { store, ca, now, config } = app.collector;
  const db = (store as unknown as { db?: Kysely<unknown> }).db;
  const containment = db
    ? new Containment(new ContainmentStore(db as Kysely<any>), { // eslint-disable-line @typescript-eslint/no-explicit-any
        sign: (c) => ca.signCommand(c),
        now,
        reportError: (e) => app.log.warn({ err: e }, 'containment: background error'),
        // Several collectors may share PostgreSQL: held waits look for commands issued elsewhere.
        queuePollMs: store.engine === 'postgres' ? 1000 : 0,
        autoContainment: { rules: parseAutoContainmentRules(config.autoContainment), dryRun: config.autoContainmentDryRun === 'on' },
      })
    : null;
  app.decorate('containment', containment);
  if (containment) {
    containment.onNotice(
      containmentNotifier({
        db: db as Kysely<any>, // eslint-disable-line @typescript-eslint/no-explicit-any
        store,
        sinks: config.sinks,
        now,
        serverName: async (endpointId, serverKey) => (await containment.serverNames(endpointId, [serverKey])).get(serverKey)?.name ?? null,
      }),
    );
    await containment.start();
    app.addHook('onClose', async () => containment.shutdown());
  }
  const need = (): Containment => {
    if (!containment) throw Errors.storeUnavailable('containment needs the SQL store');
    return containment;
  };

  await app.register(commandWaitRoute(containment));

  await app.register(async (scope) => {
    scope.addHook('preValidation', rejectUnknownFields);
    scope.addHook('preValidation', rejectNulCharacters);

    scope.post<{ Body: Static<typeof IssueBody> }>(
      '/v1/admin/containment',
      {
        onRequest: requireScope(store, config.adminToken, 'admin'),
        schema: { tags: ['admin'], summary: 'Quarantine or restore a server on an endpoint: a signed command delivered in its next batch ack', body: IssueBody, security, response: { 200: ContainmentRecordView, ...errors } },
      },
      async (req) => {
        const c = need();
        const b = req.body;
        const detail = await store.getEndpoint(b.endpointId, 0).catch(storeFailure);
        if (!detail) throw Errors.notFound(`no endpoint ${b.endpointId}`);
        if (b.action === 'quarantine' && !detail.servers.some((s) => s.serverKey === b.serverKey)) {
          throw Errors.notFound(`endpoint ${b.endpointId} has no server with key ${b.serverKey}`);
        }
        const p = req.principal!;
        return c.issue({ ...b, actor: { tokenId: p.tokenId, name: p.name } }).catch(storeFailure);
      },
    );

    scope.get<{ Querystring: Static<typeof StatusQuery> }>(
      '/v1/admin/containment',
      {
        onRequest: requireScope(store, config.adminToken, 'admin'),
        schema: {
          tags: ['admin'],
          summary: 'Containment audit trail (who, when, why, result) and the effective state per server',
          querystring: StatusQuery,
          security,
          response: { 200: Type.Object({ items: Type.Array(ContainmentRecordView), states: Type.Array(ContainmentStateView) }), ...errors },
        },
      },
      async (req) => {
        const c = need();
        const q = req.query;
        const items = await c
          .list({ limit: q.limit ?? 100, ...(q.endpoint ? { endpointId: q.endpoint } : {}), ...(q.serverKey ? { serverKey: q.serverKey } : {}), ...(q.before ? { before: q.before } : {}) })
          .catch(storeFailure);
        const endpoints = q.endpoint ? [q.endpoint] : [...new Set(items.map((i) => i.endpointId))];
        const states = (await c.states(endpoints).catch(storeFailure)).filter((s) => !q.serverKey || s.serverKey === q.serverKey);
        return { items, states };
      },
    );
  });
};
// fastify-plugin's habit: run in the parent's scope, so `containment` is decorated on the root app
// (the batch route reads it); the routes above keep their hooks in their own child scope.
(containmentPlugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
