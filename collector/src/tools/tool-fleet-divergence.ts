/**
 * `tool-fleet-divergence` (issue 12, collector side): the same MCP server, at the same version,
 * exposes a different tool (description, input schema or annotations hash) on some endpoints than
 * on most of the fleet. A tool changed for a few machines only is the shape of a targeted rug pull
 * (or of a tampered local copy); the agents cannot see it, each knows only its own tools.
 *
 * Terms:
 * - fleet group: one tool of one server release, `[server identity, version, tool name]` (JSON
 *   text). The identity is the server fingerprint; a socket server nobody configured
 *   (`listener:<bind>:<port>`) is grouped by the name it gave in `initialize` (a port number says
 *   nothing across machines), and not at all when it gave none. A null version is a value of its
 *   own ("unknown").
 * - variant: the tool's `descriptionSha256|inputSchemaSha256|annotationsSha256` on an endpoint.
 * - majority: the variant held by more endpoints than any other variant, when at least two hold
 *   it. A tie has no majority (nobody can say which side diverges) and raises nothing.
 * - divergent: an endpoint exposing the group's tool with a variant other than the majority.
 *
 * Incremental (no fleet scan per batch): `endpoint_tools` rows carry their group and variant;
 * `tool_fleet_variants` counts endpoints per (group, variant) and `tool_fleet_groups` holds each
 * group's majority; `tool_fleet_findings` lists the endpoints whose divergence finding is open.
 * A batch adjusts the counts of the groups its tool events touched, in group order; only when a
 * group's majority moves are all its endpoints reconciled (one indexed range read of the group),
 * otherwise only the batch's endpoint. PostgreSQL: the group row is locked (upsert) before its
 * counts are read, so two collectors projecting the same group serialize on it (a deadlock between
 * them is a retryable store error: the projection transaction is retried whole).
 *
 * Every raise and resolve is a `finding.raised` / `finding.resolved` event of the divergent
 * endpoint (its agent, its latest batch seq), a `findings` row (collector-owned: a snapshot of the
 * agent neither resolves nor reconciles it, see COLLECTOR_RULE_IDS) and outbox rows for the sinks
 * of the batch that caused it, so the store, the file sink, Kinesis, Security Hub and the webhook
 * all get it the way they get the agents' findings. A finding names the tool, the hashes (the
 * endpoint's and the majority's) and the counts; never a description.
 * Throws what the database throws (the projection transaction rolls back whole).
 */
import { stableId, type Finding } from '@mcpwatch/shared';
import { severityRank } from '@mcpwatch/shared/protocol';
import type { Kysely } from 'kysely';
import { findingTransitionId } from '../store/projection.js';
import { OUTBOX_ROW_MAX_EVENTS } from '../store/projection-writer.js';
import { sinkWantsEvent } from '../store/sink-routing.js';
import { ANALYTICS_RULES } from '../tool-calls/tool-call-analytics.js';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const TOOL_FLEET_DIVERGENCE_RULE = 'tool-fleet-divergence';

/** Rules whose findings the collector raises and resolves itself (agents' snapshots leave them alone). */
export const COLLECTOR_RULE_IDS: readonly string[] = [TOOL_FLEET_DIVERGENCE_RULE, ...ANALYTICS_RULES];

const RATIONALE =
  'Endpoints running the same MCP server at the same version should be offered the same tool. On this endpoint ' +
  'the tool\'s description, input schema or annotations hash differs from what most of the fleet is offered. ' +
  'A definition changed for a few machines only is the pattern of a targeted "rug pull" (a server, proxy or ' +
  'local copy telling some models something else), or of a locally modified install. Compare the definition on ' +
  'this endpoint with the fleet\'s and find out which side changed before trusting either.';

/** What the projection of one batch knows (a batch-log entry has all of it). */
export interface ToolBatchContext {
  agentId: string;
  endpointId: string;
  seq: number;
  receivedAt: string;
  certFingerprint: string;
  sinks: readonly string[];
}

/** Net endpoint-count change per variant, per group, caused by one batch. */
export type FleetDeltas = Map<string, Map<string, number>>;

/** The fleet group of a tool, or null when it has no fleet-wide identity. */
export function fleetGroupOf(t: { serverId: string; serverName: string | null; serverVersion: string | null; name: string }): string | null {
  let identity: string | null = t.serverId;
  if (t.serverId.startsWith('listener:')) identity = t.serverName ? `mcp-server-name:${t.serverName}` : null;
  return identity === null ? null : JSON.stringify([identity, t.serverVersion, t.name]);
}

/** The variant text of a tool's hashes. */
export function variantOf(t: { descriptionSha256: string | null; inputSchemaSha256: string | null; annotationsSha256: string | null }): string {
  return `${t.descriptionSha256 ?? ''}|${t.inputSchemaSha256 ?? ''}|${t.annotationsSha256 ?? ''}`;
}

export interface VariantHashes {
  descriptionSha256: string | null;
  inputSchemaSha256: string | null;
  annotationsSha256: string | null;
}

export function parseVariant(v: string): VariantHashes {
  const [d, s, a] = v.split('|');
  return { descriptionSha256: d || null, inputSchemaSha256: s || null, annotationsSha256: a || null };
}

export function parseGroup(g: string): { identity: string; serverVersion: string | null; name: string } {
  const [identity, serverVersion, name] = JSON.parse(g) as [string, string | null, string];
  return { identity, serverVersion, name };
}

/** Adds `delta` endpoints to (group, variant). */
export function addDelta(deltas: FleetDeltas, group: string | null, variant: string | null, delta: number): void {
  if (group === null || variant === null) return;
  const g = deltas.get(group) ?? new Map<string, number>();
  g.set(variant, (g.get(variant) ?? 0) + delta);
  deltas.set(group, g);
}

/** The majority variant of counts (variant -> endpoints): unique top, held by at least two endpoints. */
export function majorityOf(counts: ReadonlyMap<string, number>): string | null {
  let top: string | null = null;
  let best = 0;
  let tie = false;
  for (const [v, n] of counts) {
    if (n > best) {
      top = v;
      best = n;
      tie = false;
    } else if (n === best) tie = true;
  }
  return top !== null && !tie && best >= 2 ? top : null;
}

interface GroupState {
  group: string;
  majority: string | null;
  counts: Map<string, number>;
  total: number;
}

interface Divergent {
  endpointId: string;
  variant: string;
  serverKey: string | null;
  serverName: string | null;
}

interface Transition {
  type: 'finding.raised' | 'finding.resolved';
  endpointId: string;
  findingId: string;
  dataJson: string;
  /** raised: the tool_fleet_findings row to write. */
  open?: { group: string; variant: string; majority: string };
}

const short = (h: string | null) => h ?? 'none';

/** The finding an endpoint with `d` gets in group state `s` (majority set). */
export function divergenceFinding(s: { group: string; majority: string; counts: ReadonlyMap<string, number>; total: number }, d: Divergent): Finding {
  const { identity, serverVersion, name } = parseGroup(s.group);
  const mine = parseVariant(d.variant);
  const major = parseVariant(s.majority);
  const parts: string[] = [];
  if (mine.descriptionSha256 !== major.descriptionSha256) parts.push('description');
  if (mine.inputSchemaSha256 !== major.inputSchemaSha256) parts.push('inputSchema');
  if (mine.annotationsSha256 !== major.annotationsSha256) parts.push('annotations');
  const serverName = d.serverName ?? identity;
  const hashes = (h: VariantHashes) => `description ${short(h.descriptionSha256)}, inputSchema ${short(h.inputSchemaSha256)}, annotations ${short(h.annotationsSha256)}`;
  const detail =
    `server ${identity} version ${serverVersion ?? 'unknown'}: this endpoint's definition (on ${s.counts.get(d.variant) ?? 1} of ${s.total} endpoints) has ${hashes(mine)}; ` +
    `the fleet majority (${s.counts.get(s.majority) ?? 0} of ${s.total} endpoints, ${s.counts.size} definitions) has ${hashes(major)}`;
  return {
    id: stableId(['finding/v1', TOOL_FLEET_DIVERGENCE_RULE, s.group]),
    ruleId: TOOL_FLEET_DIVERGENCE_RULE,
    // A changed description or schema changes what the model is told or sends; annotations only hint.
    severity: parts.some((p) => p !== 'annotations') ? 'high' : 'medium',
    title: `Tool ${name} of ${serverName} ${serverVersion ?? '(unknown version)'} differs from the rest of the fleet`.slice(0, 512),
    description: RATIONALE,
    subject: { serverKey: d.serverKey, serverName: serverName.slice(0, 512) },
    evidence: { field: `tool.${name}`.slice(0, 1024), kind: parts.join('+'), detail: detail.slice(0, 1024) },
  };
}

/**
 * Applies one batch's count changes (`deltas`, from projectToolEvents) and raises / resolves the
 * divergence findings they cause. Groups are handled in key order (a stable lock order).
 */
export async function applyFleetDeltas(trx: AnyDb, ctx: ToolBatchContext, deltas: FleetDeltas): Promise<void> {
  const transitions: Transition[] = [];
  for (const group of [...deltas.keys()].sort()) {
    const changed = [...deltas.get(group)!].filter(([, n]) => n !== 0);
    if (changed.length === 0) continue;
    const { identity, serverVersion, name } = parseGroup(group);
    // Lock the group row (and read the majority it had) before reading its counts.
    const locked = await trx
      .insertInto('tool_fleet_groups')
      .values({ fleet_group: group, server_id: identity, server_version: serverVersion, name, majority: null, endpoints: 0, updated_at: ctx.receivedAt })
      .onConflict((oc) => oc.column('fleet_group').doUpdateSet({ updated_at: ctx.receivedAt }))
      .returning(['majority'])
      .executeTakeFirstOrThrow();
    const before = (locked.majority as string | null) ?? null;
    for (const [variant, n] of changed.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      await trx
        .insertInto('tool_fleet_variants')
        .values({ fleet_group: group, variant, endpoints: n })
        .onConflict((oc) => oc.columns(['fleet_group', 'variant']).doUpdateSet((eb) => ({ endpoints: eb('tool_fleet_variants.endpoints', '+', n) })))
        .execute();
    }
    await trx.deleteFrom('tool_fleet_variants').where('fleet_group', '=', group).where('endpoints', '<=', 0).execute();
    const rows = await trx.selectFrom('tool_fleet_variants').select(['variant', 'endpoints']).where('fleet_group', '=', group).execute();
    const counts = new Map<string, number>(rows.map((r) => [r.variant as string, Number(r.endpoints)]));
    const state: GroupState = { group, majority: majorityOf(counts), counts, total: [...counts.values()].reduce((a, b) => a + b, 0) };
    if (state.total === 0) await trx.deleteFrom('tool_fleet_groups').where('fleet_group', '=', group).execute();
    else await trx.updateTable('tool_fleet_groups').set({ majority: state.majority, endpoints: state.total }).where('fleet_group', '=', group).execute();
    // A moved majority changes the verdict of every endpoint of the group; otherwise only this one's.
    transitions.push(...(await reconcileGroup(trx, state, state.majority === before ? ctx.endpointId : null)));
  }
  if (transitions.length > 0) await publish(trx, ctx, transitions);
}

/** Raises / resolves the group's findings: for one endpoint, or (null) all of the group. */
async function reconcileGroup(trx: AnyDb, s: GroupState, endpointId: string | null): Promise<Transition[]> {
  const desired = new Map<string, Divergent>();
  if (s.majority !== null) {
    const m = s.majority;
    let q = trx.selectFrom('endpoint_tools').select(['endpoint_id', 'variant', 'server_key', 'server_name']).where('fleet_group', '=', s.group).where('present', '=', 1);
    // One endpoint: its own rows (primary key prefix). The whole group: only the rows off the
    // majority, as two ranges of the (fleet_group, variant) index (a `<>` would walk all of it).
    q = endpointId !== null ? q.where('endpoint_id', '=', endpointId) : q.where((eb) => eb.or([eb('variant', '<', m), eb('variant', '>', m)]));
    for (const r of await q.orderBy('endpoint_id').orderBy('variant').execute()) {
      if (r.variant === m || desired.has(r.endpoint_id)) continue;
      desired.set(r.endpoint_id, { endpointId: r.endpoint_id, variant: r.variant, serverKey: r.server_key ?? null, serverName: r.server_name ?? null });
    }
  }
  let cq = trx.selectFrom('tool_fleet_findings').select(['endpoint_id', 'variant', 'majority', 'finding_id', 'data']).where('fleet_group', '=', s.group);
  if (endpointId !== null) cq = cq.where('endpoint_id', '=', endpointId);
  const current = new Map((await cq.execute()).map((r) => [r.endpoint_id as string, r]));
  const out: Transition[] = [];
  for (const [ep, d] of desired) {
    const cur = current.get(ep);
    if (cur && cur.variant === d.variant && cur.majority === s.majority) continue;
    const f = divergenceFinding({ ...s, majority: s.majority! }, d);
    out.push({ type: 'finding.raised', endpointId: ep, findingId: f.id, dataJson: JSON.stringify(f), open: { group: s.group, variant: d.variant, majority: s.majority! } });
  }
  for (const [ep, cur] of current) {
    if (!desired.has(ep)) out.push({ type: 'finding.resolved', endpointId: ep, findingId: cur.finding_id, dataJson: cur.data });
  }
  return out;
}

interface AgentOf {
  agentId: string;
  certFingerprint: string;
  seq: number;
}

/** The agent (and its latest batch seq) of each endpoint; the batch's own for its endpoint. */
async function agentsOf(trx: AnyDb, ctx: ToolBatchContext, endpointIds: string[]): Promise<Map<string, AgentOf>> {
  const out = new Map<string, AgentOf>([[ctx.endpointId, { agentId: ctx.agentId, certFingerprint: ctx.certFingerprint, seq: ctx.seq }]]);
  const others = endpointIds.filter((e) => e !== ctx.endpointId);
  for (let i = 0; i < others.length; i += 500) {
    const rows = await trx
      .selectFrom('endpoints')
      .innerJoin('agents', 'agents.agent_id', 'endpoints.agent_id')
      .select(['endpoints.endpoint_id as endpoint_id', 'agents.agent_id as agent_id', 'agents.cert_fingerprint as cert_fingerprint', 'agents.last_seq as last_seq'])
      .where('endpoints.endpoint_id', 'in', others.slice(i, i + 500))
      .execute();
    for (const r of rows) out.set(r.endpoint_id, { agentId: r.agent_id, certFingerprint: r.cert_fingerprint, seq: Number(r.last_seq) });
  }
  return out;
}

/** Records the transitions: events, findings rows, open-finding index, outbox rows per sink. */
async function publish(trx: AnyDb, ctx: ToolBatchContext, transitions: Transition[]): Promise<void> {
  const at = ctx.receivedAt;
  const cause = `tool-fleet:${ctx.agentId}:${ctx.seq}`;
  const agents = await agentsOf(trx, ctx, [...new Set(transitions.map((t) => t.endpointId))]);
  const published = new Map<string, Array<{ id: string; type: string }>>();
  for (const t of transitions) {
    // An endpoint without a current agent (revoked, merged) still gets its row; events name the batch's agent.
    const agent = agents.get(t.endpointId) ?? { agentId: ctx.agentId, certFingerprint: ctx.certFingerprint, seq: ctx.seq };
    const id = findingTransitionId(t.endpointId, cause, at, t.type, t.findingId);
    const inserted = await trx
      .insertInto('events')
      .values({ id, endpoint_id: t.endpointId, agent_id: agent.agentId, type: t.type, time: at, received_at: at, batch_seq: agent.seq, data: t.dataJson })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .execute();
    if (t.open) {
      const f = JSON.parse(t.dataJson) as Finding;
      const row = {
        endpoint_id: t.endpointId, finding_id: f.id, rule_id: f.ruleId, severity: f.severity, severity_rank: Math.max(0, severityRank(f.severity)), title: f.title,
        server_key: f.subject.serverKey ?? null, server_name: f.subject.serverName ?? null, client: null, status: 'open', first_seen: at, last_seen: at, resolved_at: null, data: t.dataJson,
      };
      const { endpoint_id: _e, finding_id: _f, first_seen: _first, ...update } = row;
      void _e; void _f; void _first;
      await trx.insertInto('findings').values(row).onConflict((oc) => oc.columns(['endpoint_id', 'finding_id']).doUpdateSet(update)).execute();
      const open = { fleet_group: t.open.group, endpoint_id: t.endpointId, variant: t.open.variant, majority: t.open.majority, finding_id: f.id, data: t.dataJson, raised_at: at };
      await trx.insertInto('tool_fleet_findings').values(open).onConflict((oc) => oc.columns(['fleet_group', 'endpoint_id']).doUpdateSet({ variant: open.variant, majority: open.majority, finding_id: open.finding_id, data: open.data, raised_at: at })).execute();
    } else {
      await trx.updateTable('findings').set({ status: 'resolved', resolved_at: at, last_seen: at }).where('endpoint_id', '=', t.endpointId).where('finding_id', '=', t.findingId).execute();
      await trx.deleteFrom('tool_fleet_findings').where('endpoint_id', '=', t.endpointId).where('finding_id', '=', t.findingId).execute();
    }
    if (inserted.length === 0) continue; // already published (a replayed cause)
    const list = published.get(t.endpointId) ?? [];
    list.push({ id, type: t.type });
    published.set(t.endpointId, list);
  }
  const outbox = [];
  for (const sink of ctx.sinks) {
    for (const [endpointId, events] of published) {
      const agent = agents.get(endpointId) ?? { agentId: ctx.agentId, certFingerprint: ctx.certFingerprint, seq: ctx.seq };
      const ids = events.filter((e) => sinkWantsEvent(sink, e.type)).map((e) => e.id);
      for (let i = 0; i < ids.length; i += OUTBOX_ROW_MAX_EVENTS) {
        const part = ids.slice(i, i + OUTBOX_ROW_MAX_EVENTS);
        outbox.push({
          id: part[0]!, sink, agent_id: agent.agentId, endpoint_id: endpointId, batch_seq: agent.seq, cert_fingerprint: agent.certFingerprint,
          event_ids: JSON.stringify(part), event_count: part.length, attempts: 0, created_at: at, available_at: at, lease_owner: null, lease_until: null, last_error: null,
        });
      }
    }
  }
  for (let i = 0; i < outbox.length; i += 50) {
    await trx.insertInto('outbox').values(outbox.slice(i, i + 50)).onConflict((oc) => oc.columns(['sink', 'id']).doNothing()).execute();
  }
}
