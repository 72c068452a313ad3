/**
 * Queries over `containment_commands` (containment-migration.ts), for both engines through
 * Kysely. Kept apart from the inventory store: the containment service owns these rows.
 * Every method may reject with the database's error; callers map it (routes: 503).
 */
import { sql, type Kysely } from 'kysely';
import type { CommandAction, SignedCommand } from '@mcpwatch/shared';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** `dry-run`: recorded by auto-containment in dry-run mode (auto-containment.ts); never delivered. */
export type CommandStatus = 'queued' | 'delivered' | 'succeeded' | 'failed' | 'expired' | 'dry-run';

/** One row of the audit trail. */
export interface ContainmentRecord {
  commandId: string;
  endpointId: string;
  serverKey: string;
  action: CommandAction;
  reason: string;
  actor: { tokenId: string; name: string };
  requestedAt: string;
  expiresAt: string;
  status: CommandStatus;
  deliveredAt: string | null;
  resultAt: string | null;
  resultDetail: string | null;
}

const PENDING: CommandStatus[] = ['queued', 'delivered'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function toRecord(r: any): ContainmentRecord {
  return {
    commandId: r.command_id,
    endpointId: r.endpoint_id,
    serverKey: r.server_key,
    action: r.action,
    reason: r.reason,
    actor: { tokenId: r.actor_token_id, name: r.actor_name },
    requestedAt: r.requested_at,
    expiresAt: r.expires_at,
    status: r.status,
    deliveredAt: r.delivered_at ?? null,
    resultAt: r.result_at ?? null,
    resultDetail: r.result_detail ?? null,
  };
}

const RECORD_COLUMNS = [
  'command_id',
  'endpoint_id',
  'server_key',
  'action',
  'reason',
  'actor_token_id',
  'actor_name',
  'requested_at',
  'expires_at',
  'status',
  'delivered_at',
  'result_at',
  'result_detail',
] as const;

export class ContainmentStore {
  constructor(private readonly db: AnyDb) {}

  async insert(rec: ContainmentRecord, signed: SignedCommand): Promise<void> {
    await this.db
      .insertInto('containment_commands')
      .values({
        command_id: rec.commandId,
        endpoint_id: rec.endpointId,
        server_key: rec.serverKey,
        action: rec.action,
        reason: rec.reason,
        actor_token_id: rec.actor.tokenId,
        actor_name: rec.actor.name,
        requested_at: rec.requestedAt,
        expires_at: rec.expiresAt,
        status: rec.status,
        signed_command: JSON.stringify(signed),
      })
      .execute();
  }

  /** The audit trail, newest first; filters by endpoint and server; `before` pages by requestedAt. */
  async list(filter: { endpointId?: string; serverKey?: string; limit: number; before?: string }): Promise<ContainmentRecord[]> {
    let q = this.db.selectFrom('containment_commands').select([...RECORD_COLUMNS]);
    if (filter.endpointId) q = q.where('endpoint_id', '=', filter.endpointId);
    if (filter.serverKey) q = q.where('server_key', '=', filter.serverKey);
    if (filter.before) q = q.where('requested_at', '<', filter.before);
    const rows = await q.orderBy('requested_at', 'desc').orderBy('command_id', 'desc').limit(filter.limit).execute();
    return rows.map(toRecord);
  }

  async get(commandId: string): Promise<ContainmentRecord | null> {
    const r = await this.db.selectFrom('containment_commands').select([...RECORD_COLUMNS]).where('command_id', '=', commandId).executeTakeFirst();
    return r ? toRecord(r) : null;
  }

  /**
   * Signed commands for `endpointId` not yet answered and not expired at `nowIso`, oldest first;
   * `statuses` narrows them (the long-poll takes only `queued` ones: never handed out yet).
   */
  async pendingFor(
    endpointId: string,
    nowIso: string,
    limit: number,
    statuses: readonly CommandStatus[] = PENDING,
  ): Promise<Array<{ commandId: string; status: CommandStatus; signed: SignedCommand }>> {
    const rows = await this.db
      .selectFrom('containment_commands')
      .select(['command_id', 'status', 'signed_command'])
      .where('endpoint_id', '=', endpointId)
      .where('status', 'in', [...statuses])
      .where('expires_at', '>', nowIso)
      .orderBy('requested_at', 'asc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ commandId: r.command_id, status: r.status, signed: JSON.parse(r.signed_command) as SignedCommand }));
  }

  async markDelivered(commandIds: string[], nowIso: string): Promise<void> {
    if (commandIds.length === 0) return;
    await this.db.updateTable('containment_commands').set({ status: 'delivered', delivered_at: nowIso }).where('command_id', 'in', commandIds).where('status', '=', 'queued').execute();
  }

  /**
   * Puts commands a long-poll took but could not hand over (its client had hung up) back to
   * `queued`, so the next wait hands them out: only rows still `delivered` at `deliveredAtIso`,
   * the mark that wait set (an answer or a later delivery is left alone).
   */
  async unmarkDelivered(commandIds: string[], deliveredAtIso: string): Promise<void> {
    if (commandIds.length === 0) return;
    await this.db
      .updateTable('containment_commands')
      .set({ status: 'queued', delivered_at: null })
      .where('command_id', 'in', commandIds)
      .where('status', '=', 'delivered')
      .where('delivered_at', '=', deliveredAtIso)
      .execute();
  }

  /** Records the agent's answer; true when a pending command of this endpoint took it. */
  async recordResult(commandId: string, endpointId: string, status: 'succeeded' | 'failed', detail: string, nowIso: string): Promise<boolean> {
    const r = await this.db
      .updateTable('containment_commands')
      .set({ status, result_at: nowIso, result_detail: detail })
      .where('command_id', '=', commandId)
      .where('endpoint_id', '=', endpointId)
      .where('status', 'in', [...PENDING, 'expired'])
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Marks pending commands past their expiry as expired; returns how many. */
  async expire(nowIso: string): Promise<number> {
    const r = await this.db.updateTable('containment_commands').set({ status: 'expired', result_at: nowIso }).where('status', 'in', PENDING).where('expires_at', '<=', nowIso).executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** Endpoints with at least one pending command (the ack path asks the database only for these). */
  async endpointsWithPending(nowIso: string): Promise<string[]> {
    const rows = await this.db.selectFrom('containment_commands').select('endpoint_id').distinct().where('status', 'in', PENDING).where('expires_at', '>', nowIso).execute();
    return rows.map((r) => r.endpoint_id as string);
  }

  /** Which of `endpointIds` have a queued (never handed out), unexpired command: one query. */
  async endpointsWithQueued(endpointIds: readonly string[], nowIso: string): Promise<string[]> {
    if (endpointIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('containment_commands')
      .select('endpoint_id')
      .distinct()
      .where('endpoint_id', 'in', [...endpointIds])
      .where('status', '=', 'queued')
      .where('expires_at', '>', nowIso)
      .execute();
    return rows.map((r) => r.endpoint_id as string);
  }

  /**
   * The commands of the servers of `endpointIds` with one of `statuses` (default: pending or
   * succeeded, what the effective state is made of), oldest first.
   */
  async states(endpointIds: string[], statuses: readonly CommandStatus[] = ['queued', 'delivered', 'succeeded']): Promise<ContainmentRecord[]> {
    if (endpointIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('containment_commands')
      .select([...RECORD_COLUMNS])
      .where('endpoint_id', 'in', endpointIds)
      .where('status', 'in', [...statuses])
      .orderBy('requested_at', 'asc')
      .orderBy('command_id', 'asc') // ids rise within a millisecond (ULIDs)
      .execute();
    return rows.map(toRecord);
  }

  /**
   * Claims the signed (timestamp, seq) of an agent's command wait: true when it is later than the
   * agent's mark (a later timestamp, or the same one with a higher seq; the mark moves to it),
   * false when it is not (a replay, or a request signed before one already accepted). Atomic on
   * both engines (one conditional upsert), so two collectors sharing PostgreSQL cannot both take
   * the same request.
   */
  async claimWaitMark(agentId: string, signedAtMs: number, seq: number): Promise<boolean> {
    const r = await this.db
      .insertInto('command_wait_marks')
      .values({ agent_id: agentId, signed_at_ms: signedAtMs, seq })
      .onConflict((oc) =>
        oc
          .column('agent_id')
          .doUpdateSet({ signed_at_ms: sql`excluded.signed_at_ms`, seq: sql`excluded.seq` })
          .where((eb) =>
            eb.or([
              eb('command_wait_marks.signed_at_ms', '<', sql<number>`excluded.signed_at_ms`),
              eb.and([eb('command_wait_marks.signed_at_ms', '=', sql<number>`excluded.signed_at_ms`), eb('command_wait_marks.seq', '<', sql<number>`excluded.seq`)]),
            ]),
          ),
      )
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /**
   * Commands (with `statuses`) of the server entries whose fingerprint is one of `fingerprints`,
   * across the fleet, oldest first, each with that fingerprint. Read through the inventory's
   * `servers` rows, present or not (a quarantined entry is gone from its config, so from the
   * current inventory, but its row remains).
   */
  async statesByFingerprint(fingerprints: readonly string[], statuses: readonly CommandStatus[]): Promise<Array<ContainmentRecord & { fingerprint: string }>> {
    if (fingerprints.length === 0) return [];
    // From the commands (few) to their server rows (by key), never the other way round: a popular
    // fingerprint has a row per endpoint (100,000 at fleet scale). SQLite keeps a CROSS JOIN's order.
    const rows = await this.db
      .selectFrom('containment_commands as c')
      .crossJoin('servers as s')
      .whereRef('s.endpoint_id', '=', 'c.endpoint_id')
      .whereRef('s.server_key', '=', 'c.server_key')
      .select([...RECORD_COLUMNS.map((c) => `c.${c}` as const), 's.fingerprint'])
      .where('s.fingerprint', 'in', [...fingerprints])
      .where('c.status', 'in', [...statuses])
      .orderBy('c.requested_at', 'asc')
      .orderBy('c.command_id', 'asc')
      .limit(100_000)
      .execute();
    return rows.map((r) => ({ ...toRecord(r), fingerprint: r.fingerprint as string }));
  }

  /** Name, client and config path of server entries of `endpointId`, present or not (the latest row of each key). */
  async serverNames(endpointId: string, serverKeys: readonly string[]): Promise<Map<string, { name: string; client: string; configPath: string }>> {
    const out = new Map<string, { name: string; client: string; configPath: string }>();
    if (serverKeys.length === 0) return out;
    const rows = await this.db
      .selectFrom('servers')
      .select(['server_key', 'name', 'client', 'config_path'])
      .where('endpoint_id', '=', endpointId)
      .where('server_key', 'in', [...serverKeys])
      .execute();
    for (const r of rows) out.set(r.server_key, { name: r.name, client: r.client, configPath: r.config_path });
    return out;
  }
}
