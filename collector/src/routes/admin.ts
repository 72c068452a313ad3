/**
 * Admin API (bearer token, scope admin): agents, enroll secrets and API tokens.
 *
 *   GET  /v1/agents[?revoked=true|false&endpoint=ID]      POST /v1/agents/:agentId/revoke | /restore
 *   GET  /v1/enroll-secrets                               POST /v1/enroll-secrets {name, secret?}
 *                                                         POST /v1/enroll-secrets/:name/revoke
 *   GET  /v1/tokens                                       POST /v1/tokens {name, scope}
 *                                                         POST /v1/tokens/:tokenId/revoke
 *
 * Secrets and tokens are stored hashed; a created secret or token is shown once, in the reply
 * that creates it, and never again (lists carry names and dates only).
 * Errors: 400 MCPW_ERR_SCHEMA, 401, 403, 404 MCPW_ERR_NOT_FOUND, 409 MCPW_ERR_CONFLICT (name taken), 503.
 */
import { randomBytes } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { requireScope } from '../auth.js';
import { Errors } from '../errors.js';
import { hashSecret } from '../secret-hash.js';
import type { AgentRow } from '../store/types.js';
import { AgentView, ApiTokenView, EnrollSecretView, ErrorReply, NameParam, Scope, rejectUnknownFields } from './api-schemas.js';

/** A new random secret or token value (256 bits, URL-safe) with a recognisable prefix. */
export function newSecretValue(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

function agentView(a: AgentRow): Static<typeof AgentView> {
  return {
    agentId: a.agentId,
    endpointId: a.endpointId,
    hostname: a.hostname,
    hardwareUuid: a.hardwareUuid,
    certFingerprint: a.certFingerprint,
    certNotAfter: a.certNotAfter,
    enrolledAt: a.enrolledAt,
    revokedAt: a.revokedAt,
    enrollSecretName: a.enrollSecretName,
    lastSeq: a.lastSeq,
    duplicateOf: a.duplicateOf,
  };
}

const AgentsQuery = Type.Object(
  { revoked: Type.Optional(Type.Boolean()), endpoint: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })) },
  { additionalProperties: false },
);
const AgentParams = Type.Object({ agentId: Type.String({ minLength: 1, maxLength: 128 }) });
const SecretParams = Type.Object({ name: NameParam });
const TokenParams = Type.Object({ tokenId: Type.String({ minLength: 1, maxLength: 128 }) });
const CreateSecret = Type.Object(
  { name: NameParam, secret: Type.Optional(Type.String({ minLength: 16, maxLength: 512, description: 'omit to have one generated' })) },
  { additionalProperties: false },
);
const CreateToken = Type.Object({ name: NameParam, scope: Scope }, { additionalProperties: false });
const Ok = Type.Object({ ok: Type.Boolean() });

const errors = { 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 503: ErrorReply };
const security = [{ bearer: [] }];

export const adminRoutes: FastifyPluginAsync = async (app) => {
  const { store, config } = app.collector;
  app.addHook('preValidation', rejectUnknownFields);
  app.addHook('onRequest', requireScope(store, config.adminToken, 'admin'));

  app.get<{ Querystring: Static<typeof AgentsQuery> }>(
    '/v1/agents',
    { schema: { tags: ['admin'], summary: 'Enrolled agents', querystring: AgentsQuery, security, response: { 200: Type.Object({ items: Type.Array(AgentView) }), ...errors } } },
    async (req) => {
      const filter = { ...(req.query.revoked !== undefined ? { revoked: req.query.revoked } : {}), ...(req.query.endpoint ? { endpointId: req.query.endpoint } : {}) };
      return { items: (await store.listAgents(filter)).map(agentView) };
    },
  );

  for (const action of ['revoke', 'restore'] as const) {
    app.post<{ Params: Static<typeof AgentParams> }>(
      `/v1/agents/:agentId/${action}`,
      {
        schema: {
          tags: ['admin'],
          summary: action === 'revoke' ? 'Revoke an agent: its batches get 403' : 'Restore a revoked agent',
          params: AgentParams,
          security,
          response: { 200: AgentView, 404: ErrorReply, ...errors },
        },
      },
      async (req) => {
        if (!(await store.setAgentRevoked(req.params.agentId, action === 'revoke'))) throw Errors.notFound(`no agent ${req.params.agentId}`);
        // The batches route caches agents: make the change take effect at once in this process.
        app.collector.agentCache.invalidate(req.params.agentId);
        return agentView((await store.getAgent(req.params.agentId))!);
      },
    );
  }

  app.get(
    '/v1/enroll-secrets',
    { schema: { tags: ['admin'], summary: 'Enroll secrets (names and dates; never the secrets)', security, response: { 200: Type.Object({ items: Type.Array(EnrollSecretView) }), ...errors } } },
    async () => ({ items: (await store.listEnrollSecrets()).map((s) => ({ name: s.name, createdAt: s.createdAt, revokedAt: s.revokedAt })) }),
  );

  app.post<{ Body: Static<typeof CreateSecret> }>(
    '/v1/enroll-secrets',
    {
      schema: {
        tags: ['admin'],
        summary: 'Create a named enroll secret; the reply shows it once',
        body: CreateSecret,
        security,
        response: { 200: Type.Object({ name: Type.String(), secret: Type.String() }), 409: ErrorReply, ...errors },
      },
    },
    async (req) => {
      const secret = req.body.secret ?? newSecretValue('mcpw_enroll');
      await store.addEnrollSecret(req.body.name, hashSecret(secret)).catch((e: { code?: string }) => {
        throw e?.code === Errors.conflict.code ? Errors.conflict(`an enroll secret named ${req.body.name} (or with this value) exists`, { cause: e }) : e;
      });
      return { name: req.body.name, secret };
    },
  );

  app.post<{ Params: Static<typeof SecretParams> }>(
    '/v1/enroll-secrets/:name/revoke',
    { schema: { tags: ['admin'], summary: 'Revoke an enroll secret (enrolled agents keep working)', params: SecretParams, security, response: { 200: Ok, 404: ErrorReply, ...errors } } },
    async (req) => {
      if (!(await store.revokeEnrollSecret(req.params.name))) throw Errors.notFound(`no live enroll secret named ${req.params.name}`);
      return { ok: true };
    },
  );

  app.get(
    '/v1/tokens',
    { schema: { tags: ['admin'], summary: 'API tokens (never the token values)', security, response: { 200: Type.Object({ items: Type.Array(ApiTokenView) }), ...errors } } },
    async () => ({ items: await store.listApiTokens() }),
  );

  app.post<{ Body: Static<typeof CreateToken> }>(
    '/v1/tokens',
    {
      schema: {
        tags: ['admin'],
        summary: 'Create an API token with scope read or admin; the reply shows it once',
        body: CreateToken,
        security,
        response: { 200: Type.Object({ tokenId: Type.String(), name: Type.String(), scope: Scope, token: Type.String() }), ...errors },
      },
    },
    async (req) => {
      const token = newSecretValue('mcpw');
      const tokenId = `tok_${randomBytes(8).toString('hex')}`;
      await store.addApiToken({ tokenId, name: req.body.name, tokenHash: hashSecret(token), scope: req.body.scope });
      return { tokenId, name: req.body.name, scope: req.body.scope, token };
    },
  );

  app.post<{ Params: Static<typeof TokenParams> }>(
    '/v1/tokens/:tokenId/revoke',
    { schema: { tags: ['admin'], summary: 'Revoke an API token', params: TokenParams, security, response: { 200: Ok, 404: ErrorReply, ...errors } } },
    async (req) => {
      if (!(await store.revokeApiToken(req.params.tokenId))) throw Errors.notFound(`no live token ${req.params.tokenId}`);
      return { ok: true };
    },
  );
};
