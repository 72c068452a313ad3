/**
 * POST /v1/enroll — an agent obtains its identity.
 *
 * Request: `Authorization: Bearer <enroll secret>` (the secret travels in the header, never the
 * body, so it cannot end up in a logged or stored body), `Content-Type: application/json`, body
 * EnrollRequest `{ csr, host, agentVersion }` (shared schema): a PEM PKCS#10 CSR over an RSA key of
 * at least 2048 bits, made with node-forge; host facts (hostname, platform, hardwareUuid, users).
 *
 * Reply 200 EnrollResponse `{ agentId, endpointId, certificate, caCertificate, settings }`: the
 * certificate's subject CN is the new agentId; the agent signs batches with the CSR's key.
 * Identity: each enrollment makes a new agent id; the store keeps the endpoint id when the same
 * machine (hardware UUID + hostname) enrolls again, and keeps two machines that claim the same
 * hardware UUID apart (the newcomer is flagged as a duplicate: counted and logged).
 *
 * Errors: 401 MCPW_ERR_ENROLL_SECRET (missing, unknown or revoked secret — indistinguishable on
 * purpose), 400 MCPW_ERR_CSR_INVALID (also a key outside 2048..4096 bits or with an odd exponent
 * over 2^32, refused before any crypto), 400 MCPW_ERR_SCHEMA, 409 MCPW_ERR_KEY_REUSED (the key is
 * enrolled under enrollMaxAgentsPerKey ids already), 429 MCPW_ERR_RATE_LIMITED + Retry-After (this
 * address failed the secret authFailureLimit times in the window — checked before the secret, and
 * before the body is read; or the secret / the collector is over its enrollment cap), 503 store
 * unavailable. (abuse-guard.ts)
 *
 * At startup the configured enroll secrets are added to the store (hashed) unless a secret of that
 * name already exists there: a secret revoked through the admin API stays revoked.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { EnrollRequest, EnrollResponse, newEventId, type AgentSettings } from '@mcpwatch/shared';
import type { NamedSecret } from '../config.js';
import { Errors } from '../errors.js';
import { replaceNulCharacters } from '../batch-validator.js';
import { toCollectorError } from '../http-errors.js';
import { hashSecret } from '../secret-hash.js';
import type { EnrollSecretRow, Store } from '../store/types.js';

/** Adds configured secrets the store does not know by name. Refuses a known name with a different secret. */
export async function seedEnrollSecrets(store: Store, secrets: readonly NamedSecret[]): Promise<void> {
  if (secrets.length === 0) return;
  const existing = new Map((await store.listEnrollSecrets()).map((r) => [r.name, r]));
  for (const s of secrets) {
    const hash = hashSecret(s.secret);
    const row = existing.get(s.name);
    if (!row) await store.addEnrollSecret(s.name, hash);
    else if (row.secretHash !== hash) {
      throw Errors.config(
        `invalid configuration: enrollSecrets: a different secret named "${s.name}" is already in the store; ` +
          'give the new secret a new name (and revoke the old one through the admin API)',
      );
    }
  }
}

/** The bearer credential of a request, or null. */
export function bearer(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? (m[1] as string) : null;
}

/** A new agent id: `ag_` + a lower-case ULID. */
export function newAgentId(nowMs: number): string {
  return `ag_${newEventId(nowMs).toLowerCase()}`;
}

declare module 'fastify' {
  interface FastifyRequest {
    enrollSecretRow?: EnrollSecretRow;
  }
}

export const enrollRoutes: FastifyPluginAsync = async (app) => {
  const { store, ca, config, metrics, now, agentCache } = app.collector;
  const guard = app.abuseGuard;
  await seedEnrollSecrets(store, config.enrollSecrets);
  app.decorateRequest('enrollSecretRow', undefined);

  /** The secret is checked first, before the body is read: a wrong guess costs a hash and a lookup. */
  const checkSecret = async (req: FastifyRequest): Promise<void> => {
    await guard.refuseIfOverFailureBudget(req, 'enroll');
    const secret = bearer(req.headers.authorization);
    const secretRow = secret ? await store.findEnrollSecret(hashSecret(secret)) : null;
    if (!secretRow || secretRow.revokedAt) {
      await guard.recordFailure(req, 'enroll');
      throw secret ? Errors.enrollSecretInvalid() : Errors.enrollSecretInvalid('missing Authorization: Bearer <enroll secret>');
    }
    req.enrollSecretRow = secretRow;
  };

  app.post<{ Body: EnrollRequest }>(
    '/v1/enroll',
    {
      bodyLimit: 256 * 1024,
      schema: { body: EnrollRequest, response: { 200: EnrollResponse } },
      onError: async (_req, _reply, err) => {
        metrics.enrollRejects.inc({ reason: toCollectorError(err).code });
      },
      onRequest: checkSecret,
      // After validation (closed schema, bounded depth): NUL characters become U+FFFD, as in batches
      // (PostgreSQL text cannot hold NUL; the insert failed as a 500).
      preHandler: async (req) => void replaceNulCharacters(req.body),
    },
    async (req) => {
      const secretRow = req.enrollSecretRow!;
      await guard.takeEnrollment(req, secretRow.name);
      const nowMs = now();
      const agentId = newAgentId(nowMs);
      const issued = ca.issueAgentCertificate(req.body.csr, agentId, config.agentCertValidityDays, new Date(nowMs));
      guard.takePublicKey(issued.publicKeyPem);
      const outcome = await store.enrollAgent({
        agentId,
        host: req.body.host,
        certFingerprint: issued.fingerprint,
        publicKeyPem: issued.publicKeyPem,
        certNotAfter: issued.notAfter,
        enrollSecretName: secretRow.name,
        agentVersion: req.body.agentVersion,
      });
      agentCache.invalidate(outcome.agentId);
      metrics.enrollments.inc({ outcome: outcome.flaggedDuplicate ? 'flagged-duplicate' : 'ok' });
      if (outcome.flaggedDuplicate) {
        req.log.warn(
          { agentId: outcome.agentId, endpointId: outcome.endpointId, hostname: req.body.host.hostname },
          'enroll: hardware UUID already claimed by another machine; enrolled as a separate endpoint and flagged',
        );
      }
      const response: EnrollResponse = {
        agentId: outcome.agentId,
        endpointId: outcome.endpointId,
        certificate: issued.certificatePem,
        caCertificate: ca.certificatePem,
        settings: config.agentSettings as AgentSettings,
      };
      return response;
    },
  );
};

