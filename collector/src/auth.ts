/**
 * Bearer-token authorization of the query and admin API.
 *
 * A request carries `Authorization: Bearer <token>`. The token is hashed (secret-hash.ts) and
 * looked up among the API tokens in the store (created through the admin API, scope `read` or
 * `admin`); the bootstrap token from config (MCPWATCH_ADMIN_TOKEN) has scope `admin` and is
 * compared in constant time. `admin` may do everything `read` may. Token values are never stored,
 * logged or echoed.
 *
 * Errors: 401 MCPW_ERR_UNAUTHORIZED (missing, malformed, unknown or revoked token — one answer on
 * purpose), 403 MCPW_ERR_FORBIDDEN (valid token without the scope), 503 when the store is down,
 * 429 MCPW_ERR_RATE_LIMITED + Retry-After when the source address has failed authFailureLimit times
 * in the window (checked before the token is looked at; every 401 counts: abuse-guard.ts).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { Errors } from './errors.js';
import { hashSecret } from './secret-hash.js';
import type { Store, TokenScope } from './store/types.js';

/** Who made an authorized request. */
export interface Principal {
  /** `bootstrap` for the config token, else the token's id. */
  tokenId: string;
  name: string;
  scope: TokenScope;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

const BEARER = /^Bearer ([\x21-\x7e]{8,512})$/;

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Resolves the principal of a bearer token, or throws MCPW_ERR_UNAUTHORIZED. */
export async function authenticate(store: Store, bootstrapTokenHash: string | null, authorization: string | undefined): Promise<Principal> {
  const m = authorization ? BEARER.exec(authorization) : null;
  if (!m) throw Errors.unauthorized('missing or malformed bearer token: send Authorization: Bearer <token>');
  const hash = hashSecret(m[1]!);
  if (bootstrapTokenHash !== null && sameHash(hash, bootstrapTokenHash)) return { tokenId: 'bootstrap', name: 'bootstrap', scope: 'admin' };
  const row = await store.findApiToken(hash);
  if (!row) throw Errors.unauthorized('bearer token is unknown or revoked');
  return { tokenId: row.tokenId, name: row.name, scope: row.scope };
}

/**
 * An onRequest hook that admits requests whose token has `scope` (admin covers read); it runs
 * before anything else looks at the request.
 * `bootstrapToken` is the config's admin token ('' for none).
 */
export function requireScope(store: Store, bootstrapToken: string, scope: TokenScope): (req: FastifyRequest) => Promise<void> {
  const bootstrapHash = bootstrapToken ? hashSecret(bootstrapToken) : null;
  return async (req: FastifyRequest) => {
    // The guard is decorated on the root app by buildApp; an app assembled without it skips throttling.
    const guard = req.server.hasDecorator('abuseGuard') ? req.server.abuseGuard : undefined;
    await guard?.refuseIfOverFailureBudget(req, 'token');
    let principal: Principal;
    try {
      principal = await authenticate(store, bootstrapHash, req.headers.authorization);
    } catch (e) {
      if ((e as { code?: string }).code === Errors.unauthorized.code) await guard?.recordFailure(req, 'token');
      throw e;
    }
    if (scope === 'admin' && principal.scope !== 'admin') throw Errors.forbidden(`this route needs a token with scope admin; token "${principal.name}" has scope ${principal.scope}`);
    req.principal = principal;
  };
}
