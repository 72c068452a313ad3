/**
 * GET /v1/admin/verify-history[?endpoint=ID&since=T] (bearer token, scope admin): re-verifies the
 * stored batch log against the agents' signatures and the hash chain (store/history-verifier.ts)
 * and answers {checked, problems: [{agentId, seq, endpointId, receivedAt, problem, detail}],
 * truncated}. Read-only; it reads the whole selected log, so it is an operator's tool, not a
 * dashboard call. `mcpwatch verify-history` prints it.
 * Errors: 400 MCPW_ERR_SCHEMA, 401, 403, 503.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { requireScope } from '../auth.js';
import { ErrorReply, TimeParam, rejectUnknownFields } from './api-schemas.js';

const VerifyQuery = Type.Object(
  { endpoint: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })), since: Type.Optional(TimeParam) },
  { additionalProperties: false },
);
const Problem = Type.Object({
  agentId: Type.String(),
  seq: Type.Integer(),
  endpointId: Type.String(),
  receivedAt: Type.String(),
  problem: Type.String(),
  detail: Type.String(),
});
const Report = Type.Object({ checked: Type.Integer(), problems: Type.Array(Problem), truncated: Type.Boolean() });

export const historyRoutes: FastifyPluginAsync = async (app) => {
  const { store, config } = app.collector;
  app.addHook('preValidation', rejectUnknownFields);
  app.addHook('onRequest', requireScope(store, config.adminToken, 'admin'));
  app.get<{ Querystring: Static<typeof VerifyQuery> }>(
    '/v1/admin/verify-history',
    {
      schema: {
        tags: ['admin'],
        summary: 'Re-verify the stored batch log (signatures, body hashes, hash chain); lists the rows that do not verify',
        querystring: VerifyQuery,
        security: [{ bearer: [] }],
        response: { 200: Report, 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 503: ErrorReply },
      },
    },
    async (req) =>
      store.verifyHistory({
        ...(req.query.endpoint !== undefined ? { endpointId: req.query.endpoint } : {}),
        ...(req.query.since !== undefined ? { since: new Date(req.query.since).toISOString() } : {}),
      }),
  );
};
