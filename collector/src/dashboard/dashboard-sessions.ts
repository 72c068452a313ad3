/**
 * Dashboard sessions: an API token (read or admin) is exchanged once for a random 256-bit session
 * id, which only ever lives in an HttpOnly cookie; the store keeps its SHA-256 hash, the token's
 * id, name and scope, and an expiry. A session ends at logout, at expiry, or when its token is
 * revoked (checked on every request). Expired rows are deleted as sessions are created.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Principal } from '../auth.js';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const hash = (id: string) => createHash('sha256').update(id).digest('hex');

export class DashboardSessions {
  constructor(
    private readonly db: AnyDb,
    private readonly now: () => number,
    readonly ttlMs: number,
  ) {}

  /** Opens a session for `p`; returns the session id (the cookie value). */
  async open(p: Principal): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    const nowIso = new Date(this.now()).toISOString();
    await this.db.deleteFrom('ui_sessions').where('expires_at', '<', nowIso).execute();
    await this.db
      .insertInto('ui_sessions')
      .values({ session_hash: hash(id), token_id: p.tokenId, name: p.name, scope: p.scope, created_at: nowIso, expires_at: new Date(this.now() + this.ttlMs).toISOString() })
      .execute();
    return id;
  }

  /** The principal of a live session, or null (unknown, expired, or its token revoked). */
  async principal(id: string | undefined): Promise<Principal | null> {
    if (!id || id.length > 128) return null;
    const row = await this.db.selectFrom('ui_sessions').selectAll().where('session_hash', '=', hash(id)).executeTakeFirst();
    if (!row || row.expires_at <= new Date(this.now()).toISOString()) return null;
    if (row.token_id !== 'bootstrap') {
      const token = await this.db.selectFrom('api_tokens').select(['revoked_at']).where('token_id', '=', row.token_id).executeTakeFirst();
      if (!token || token.revoked_at) return null;
    }
    return { tokenId: row.token_id, name: row.name, scope: row.scope };
  }

  async close(id: string | undefined): Promise<void> {
    if (id) await this.db.deleteFrom('ui_sessions').where('session_hash', '=', hash(id)).execute();
  }
}
