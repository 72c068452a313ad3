/**
 * Agents and enrollment, and the API tokens: enroll secrets (by hash), agent rows (enrollment keeps
 * a re-enrolling machine's endpoint and flags a clone), revocation, and API tokens with their
 * scope. Part of the store (kysely-store.ts composes it); both engines, same SQL.
 * Failure contract: the store's (reachability -> MCPW_ERR_STORE_UNAVAILABLE), through `run`.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './db-schema.js';
import { upsertUsers } from './projection-writer.js';
import { upsertRows, type AnyTrx, type InsertShapes } from './sql-shapes.js';
import type { AgentRow, ApiTokenRow, EnrollInput, EnrollOutcome, EnrollSecretRow, TokenScope } from './types.js';

export interface AgentStoreOptions {
  db: Kysely<Database>;
  shapes: InsertShapes;
  now: () => Date;
  /** Runs a database call, mapping reachability failures to MCPW_ERR_STORE_UNAVAILABLE. */
  run: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Throws when the store must refuse writes (SQLite file deleted or replaced). */
  assertWritable: () => void;
  /**
   * A read-only store (the query listener's): who records an API token's use when it is due,
   * instead of this store writing last_used_at (see KyselyStoreOptions.recordTokenUse).
   */
  recordTokenUse?: (tokenHash: string) => void;
}

function toAgentRow(r: Database['agents']): AgentRow {
  return {
    agentId: r.agent_id,
    endpointId: r.endpoint_id,
    hardwareUuid: r.hardware_uuid,
    hostname: r.hostname,
    certFingerprint: r.cert_fingerprint,
    publicKeyPem: r.public_key_pem,
    certNotAfter: r.cert_not_after,
    enrolledAt: r.enrolled_at,
    revokedAt: r.revoked_at,
    enrollSecretName: r.enroll_secret_name,
    lastSeq: Number(r.last_seq),
    lastHash: r.last_hash,
    duplicateOf: r.duplicate_of,
  };
}

function toTokenRow(r: Database['api_tokens']): ApiTokenRow {
  return {
    tokenId: r.token_id,
    name: r.name,
    scope: r.scope as TokenScope,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
    lastUsedAt: r.last_used_at,
  };
}

export class AgentStore {
  readonly db: Kysely<Database>;
  readonly #shapes: InsertShapes;
  readonly #now: () => Date;
  readonly #run: <T>(fn: () => Promise<T>) => Promise<T>;
  readonly #assertFileIntact: () => void;
  readonly #recordTokenUse: ((tokenHash: string) => void) | undefined;

  constructor(o: AgentStoreOptions) {
    this.db = o.db;
    this.#shapes = o.shapes;
    this.#now = o.now;
    this.#run = o.run;
    this.#assertFileIntact = o.assertWritable;
    this.#recordTokenUse = o.recordTokenUse;
  }

  #iso(): string {
    return this.#now().toISOString();
  }

  // ---- enroll secrets ----

  async addEnrollSecret(name: string, secretHash: string): Promise<void> {
    await this.#run(() =>
      this.db.insertInto('enroll_secrets').values({ name, secret_hash: secretHash, created_at: this.#iso(), revoked_at: null }).execute(),
    );
  }

  async listEnrollSecrets(): Promise<EnrollSecretRow[]> {
    const rows = await this.#run(() => this.db.selectFrom('enroll_secrets').selectAll().orderBy('name').execute());
    return rows.map((r) => ({ name: r.name, secretHash: r.secret_hash, createdAt: r.created_at, revokedAt: r.revoked_at }));
  }

  async revokeEnrollSecret(name: string): Promise<boolean> {
    const res = await this.#run(() =>
      this.db.updateTable('enroll_secrets').set({ revoked_at: this.#iso() }).where('name', '=', name).where('revoked_at', 'is', null).executeTakeFirst(),
    );
    return Number(res.numUpdatedRows) > 0;
  }

  async findEnrollSecret(secretHash: string): Promise<EnrollSecretRow | null> {
    const r = await this.#run(() =>
      this.db.selectFrom('enroll_secrets').selectAll().where('secret_hash', '=', secretHash).where('revoked_at', 'is', null).executeTakeFirst(),
    );
    return r ? { name: r.name, secretHash: r.secret_hash, createdAt: r.created_at, revokedAt: r.revoked_at } : null;
  }

  // ---- agents ----

  async enrollAgent(input: EnrollInput): Promise<EnrollOutcome> {
    this.#assertFileIntact();
    return this.#run(() =>
      this.db.transaction().execute(async (trx) => {
        const now = this.#iso();
        const hw = input.host.hardwareUuid ?? null;
        let endpointId: string | null = null;
        let duplicateOf: string | null = null;
        if (hw) {
          const prior = await trx
            .selectFrom('agents')
            .select(['endpoint_id', 'hostname', 'duplicate_of'])
            .where('hardware_uuid', '=', hw)
            .orderBy('enrolled_at', 'desc')
            .execute();
          // Same hardware UUID and hostname: the same machine enrolling again keeps its endpoint.
          // Same UUID, other hostname: a cloned image; kept apart and flagged.
          const same = prior.find((p) => p.hostname === input.host.hostname);
          if (same) {
            endpointId = same.endpoint_id;
            duplicateOf = same.duplicate_of;
          } else if (prior.length > 0) {
            duplicateOf = prior[prior.length - 1]!.endpoint_id;
          }
        }
        endpointId ??= randomUUID();
        await trx
          .insertInto('agents')
          .values({
            agent_id: input.agentId,
            endpoint_id: endpointId,
            hardware_uuid: hw,
            hostname: input.host.hostname,
            cert_fingerprint: input.certFingerprint,
            public_key_pem: input.publicKeyPem,
            cert_not_after: input.certNotAfter,
            enrolled_at: now,
            revoked_at: null,
            enroll_secret_name: input.enrollSecretName,
            agent_version: input.agentVersion,
            last_seq: 0,
            last_hash: '',
            last_batch_at: null,
            duplicate_of: duplicateOf,
          })
          .execute();
        const host = input.host;
        await upsertRows(this.#shapes, trx as AnyTrx, 'endpoints', ['endpoint_id'], [
          {
            endpoint_id: endpointId,
            hostname: host.hostname,
            platform: host.platform,
            os_name: host.osName ?? null,
            os_release: host.osRelease ?? null,
            arch: host.arch ?? null,
            hardware_uuid: hw,
            agent_id: input.agentId,
            agent_version: input.agentVersion,
            first_seen: now,
            last_seen: now,
            duplicate_of: duplicateOf,
          },
        ]);
        await upsertUsers(this.#shapes, trx as AnyTrx, endpointId, host.users, now);
        return { agentId: input.agentId, endpointId, flaggedDuplicate: duplicateOf !== null };
      }),
    );
  }

  /** Read on every signed agent request whose cached row expired (agent-cache.ts): SQL compiled once (sql-shapes.ts). */
  async getAgent(agentId: string): Promise<AgentRow | null> {
    const db = this.db as unknown as AnyTrx;
    const [r] = await this.#run(() => this.#shapes.run<Database['agents']>(db, 'agent:get', [agentId], () => db.selectFrom('agents').selectAll().where('agent_id', '=', agentId)));
    return r ? toAgentRow(r) : null;
  }

  async setAgentRevoked(agentId: string, revoked: boolean): Promise<boolean> {
    const res = await this.#run(() =>
      this.db.updateTable('agents').set({ revoked_at: revoked ? this.#iso() : null }).where('agent_id', '=', agentId).executeTakeFirst(),
    );
    return Number(res.numUpdatedRows) > 0;
  }

  async listAgents(filter: { revoked?: boolean; endpointId?: string } = {}): Promise<AgentRow[]> {
    const rows = await this.#run(() => {
      let q = this.db.selectFrom('agents').selectAll();
      if (filter.revoked === true) q = q.where('revoked_at', 'is not', null);
      if (filter.revoked === false) q = q.where('revoked_at', 'is', null);
      if (filter.endpointId !== undefined) q = q.where('endpoint_id', '=', filter.endpointId);
      return q.orderBy('enrolled_at').orderBy('agent_id').limit(10000).execute();
    });
    return rows.map(toAgentRow);
  }

  // ---- API tokens ----

  async addApiToken(input: { tokenId: string; name: string; tokenHash: string; scope: TokenScope }): Promise<void> {
    await this.#run(() =>
      this.db
        .insertInto('api_tokens')
        .values({ token_id: input.tokenId, name: input.name, token_hash: input.tokenHash, scope: input.scope, created_at: this.#iso(), revoked_at: null, last_used_at: null })
        .execute(),
    );
  }

  async findApiToken(tokenHash: string): Promise<ApiTokenRow | null> {
    return this.#run(async () => {
      const r = await this.db.selectFrom('api_tokens').selectAll().where('token_hash', '=', tokenHash).where('revoked_at', 'is', null).executeTakeFirst();
      if (!r) return null;
      // Record use at most once a minute: a busy API client must not turn reads into writes.
      const nowMs = this.#now().getTime();
      if (r.last_used_at !== null && nowMs - Date.parse(r.last_used_at) < 60_000) return toTokenRow(r);
      if (this.#recordTokenUse) {
        this.#recordTokenUse(tokenHash);
        return toTokenRow(r);
      }
      const now = new Date(nowMs).toISOString();
      await this.db.updateTable('api_tokens').set({ last_used_at: now }).where('token_id', '=', r.token_id).execute();
      return toTokenRow({ ...r, last_used_at: now });
    });
  }

  async listApiTokens(): Promise<ApiTokenRow[]> {
    const rows = await this.#run(() => this.db.selectFrom('api_tokens').selectAll().orderBy('created_at').orderBy('token_id').execute());
    return rows.map(toTokenRow);
  }

  async revokeApiToken(tokenId: string): Promise<boolean> {
    const res = await this.#run(() =>
      this.db.updateTable('api_tokens').set({ revoked_at: this.#iso() }).where('token_id', '=', tokenId).where('revoked_at', 'is', null).executeTakeFirst(),
    );
    return Number(res.numUpdatedRows) > 0;
  }
}
