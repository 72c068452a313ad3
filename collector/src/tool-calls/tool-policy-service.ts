/**
 * The fleet's tool policy (what the clients' hooks enforce, DESIGN.md "Runtime"): read, replaced
 * or cleared by an admin with a reason, every change audited in the same transaction, and served
 * to agents in each batch ack (settings.toolPolicy).
 *
 * current() is what the ack reads: an in-memory copy, refreshed from the store every refreshMs
 * (default 5 s) so collectors sharing PostgreSQL converge, and at once after a change made here.
 * current() never throws and never waits on the store; a failed refresh keeps the last copy and is
 * reported. A policy is stamped with a fresh revision (`tp_` + time + random) on every change.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ToolPolicy } from '@mcpwatch/shared';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface PolicyActor {
  tokenId: string;
  name: string;
}

export interface ToolPolicyState {
  policy: ToolPolicy | null;
  revision: string | null;
  updatedAt: string | null;
  updatedBy: string | null;
}

export interface ToolPolicyAuditRecord {
  revision: string;
  at: string;
  actor: PolicyActor;
  action: 'set' | 'clear';
  reason: string;
  before: ToolPolicy | null;
  after: ToolPolicy | null;
}

export interface ToolPolicyServiceOptions {
  now: () => number;
  reportError: (e: unknown) => void;
  refreshMs?: number;
}

/** The next audit sequence number, inside the change's transaction (a concurrent change conflicts on the key and fails whole). */
async function nextSeq(trx: AnyDb): Promise<number> {
  const r = await trx.selectFrom('tool_policy_audit').select((eb) => eb.fn.max('seq').as('m')).executeTakeFirst();
  return Number(r?.m ?? 0) + 1;
}

const parse = (s: string | null | undefined): ToolPolicy | null => (s ? (JSON.parse(s) as ToolPolicy) : null);

export class ToolPolicyService {
  private state: ToolPolicyState = { policy: null, revision: null, updatedAt: null, updatedBy: null };
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly db: AnyDb, private readonly o: ToolPolicyServiceOptions) {}

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh().catch((e) => this.o.reportError(e)), this.o.refreshMs ?? 5000);
    this.timer.unref();
  }

  shutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The policy agents get in their next ack (null: none). */
  current(): ToolPolicy | null {
    return this.state.policy;
  }

  async get(): Promise<ToolPolicyState> {
    await this.refresh();
    return this.state;
  }

  private async refresh(): Promise<void> {
    const row = await this.db.selectFrom('tool_policy').selectAll().where('id', '=', 1).executeTakeFirst();
    this.state = row
      ? { policy: parse(row.policy as string), revision: row.revision as string, updatedAt: row.updated_at as string, updatedBy: row.updated_by as string }
      : { policy: null, revision: null, updatedAt: null, updatedBy: null };
  }

  private newRevision(at: number): string {
    return `tp_${at.toString(36)}_${randomBytes(6).toString('hex')}`;
  }

  /** Replaces the policy (its `revision` is set here). */
  async set(policy: ToolPolicy, actor: PolicyActor, reason: string): Promise<ToolPolicyState> {
    const atMs = this.o.now();
    const at = new Date(atMs).toISOString();
    const revision = this.newRevision(atMs);
    const stamped: ToolPolicy = { ...policy, revision };
    await this.db.transaction().execute(async (trx) => {
      const before = await trx.selectFrom('tool_policy').select('policy').where('id', '=', 1).executeTakeFirst();
      const values = { policy: JSON.stringify(stamped), revision, updated_at: at, updated_by: actor.name };
      if (before) await trx.updateTable('tool_policy').set(values).where('id', '=', 1).execute();
      else await trx.insertInto('tool_policy').values({ id: 1, ...values }).execute();
      await trx.insertInto('tool_policy_audit').values({ seq: await nextSeq(trx), revision, at, actor_token_id: actor.tokenId, actor_name: actor.name, action: 'set', reason, before: (before?.policy as string | undefined) ?? null, after: JSON.stringify(stamped) }).execute();
    });
    await this.refresh();
    return this.state;
  }

  /** Removes the policy: agents drop their cached copy and their hooks audit only. */
  async clear(actor: PolicyActor, reason: string): Promise<ToolPolicyState> {
    const atMs = this.o.now();
    const at = new Date(atMs).toISOString();
    await this.db.transaction().execute(async (trx) => {
      const before = await trx.selectFrom('tool_policy').select('policy').where('id', '=', 1).executeTakeFirst();
      await trx.deleteFrom('tool_policy').where('id', '=', 1).execute();
      await trx.insertInto('tool_policy_audit').values({ seq: await nextSeq(trx), revision: this.newRevision(atMs), at, actor_token_id: actor.tokenId, actor_name: actor.name, action: 'clear', reason, before: (before?.policy as string | undefined) ?? null, after: null }).execute();
    });
    await this.refresh();
    return this.state;
  }

  /** Changes, newest first. */
  async audit(limit: number): Promise<ToolPolicyAuditRecord[]> {
    const rows = await this.db.selectFrom('tool_policy_audit').selectAll().orderBy('seq', 'desc').limit(limit).execute();
    return rows.map((r) => ({
      revision: r.revision as string,
      at: r.at as string,
      actor: { tokenId: r.actor_token_id as string, name: r.actor_name as string },
      action: r.action as 'set' | 'clear',
      reason: r.reason as string,
      before: parse(r.before as string | null),
      after: parse(r.after as string | null),
    }));
  }
}
