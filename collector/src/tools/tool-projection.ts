/**
 * Projects `tool.added|changed|removed` events into `endpoint_tools` (tool-migration.ts), inside
 * the projector's transaction (one call per batch, events in batch order). Deterministic: an
 * added/changed tool is upserted with its latest hashes, a removed one marked not present. Each
 * row carries its fleet group and variant; the endpoint counts they move are applied after the
 * batch's events, raising and resolving `tool-fleet-divergence` findings (tool-fleet-divergence.ts).
 * The fleet summary (tool-summary.ts) counts endpoints per tool definition for GET /v1/tools.
 * `mcp-listener.removed|added|changed` hide and show again the probed tools of a socket server
 * that stopped and came back (listenerMoved).
 * Throws what the database throws (the caller's transaction rolls back whole). Other event types
 * are ignored.
 */
import type { Kysely } from 'kysely';
import type { McpEvent, McpListenerRecord, ToolRecord } from '@mcpwatch/shared';
import { addDelta, applyFleetDeltas, fleetGroupOf, variantOf, type FleetDeltas, type ToolBatchContext } from './tool-fleet-divergence.js';
import { addSummaryDelta, applySummaryDeltas, type SummaryDeltas } from './tool-summary.js';

export { COLLECTOR_RULE_IDS, type ToolBatchContext } from './tool-fleet-divergence.js';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const TOOL_EVENT_TYPES: ReadonlySet<string> = new Set(['tool.added', 'tool.changed', 'tool.removed']);
const LISTENER_EVENT_TYPES: ReadonlySet<string> = new Set(['mcp-listener.added', 'mcp-listener.changed', 'mcp-listener.removed']);

function row(endpointId: string, t: ToolRecord, at: string, present: boolean) {
  return {
    endpoint_id: endpointId,
    server_id: t.serverId,
    name: t.name,
    server_key: t.serverKey ?? null,
    server_name: t.serverName,
    server_version: t.serverVersion,
    source: t.source,
    title: t.title ?? null,
    description_sha256: t.descriptionSha256,
    input_schema_sha256: t.inputSchemaSha256,
    annotations_sha256: t.annotationsSha256,
    instructions_sha256: t.instructionsSha256,
    annotations: JSON.stringify(t.annotations),
    capabilities: `,${t.capabilities.join(',')},`,
    description: t.description ?? null,
    present: present ? 1 : 0,
    listener_gone: 0,
    fleet_group: fleetGroupOf(t),
    variant: variantOf(t),
    first_seen: at,
    last_seen: at,
  };
}

/** Applies the tool events of one batch (`ctx`: the batch-log entry) in batch order. */
export async function projectToolEvents(trx: AnyDb, ctx: ToolBatchContext, events: readonly McpEvent[]): Promise<number> {
  let applied = 0;
  const deltas: FleetDeltas = new Map();
  const summary: SummaryDeltas = new Map();
  for (const e of events) {
    if (LISTENER_EVENT_TYPES.has(e.type)) {
      await listenerMoved(trx, ctx.endpointId, (e.data as McpListenerRecord).serverId, e.type !== 'mcp-listener.removed', e.time || ctx.receivedAt, deltas, summary);
      continue;
    }
    if (!TOOL_EVENT_TYPES.has(e.type)) continue;
    const t = e.data as ToolRecord;
    const removed = e.type === 'tool.removed';
    const r = row(ctx.endpointId, t, e.time || ctx.receivedAt, !removed);
    const before = await trx
      .selectFrom('endpoint_tools')
      .select(['fleet_group', 'variant', 'present', 'server_id', 'name', 'description_sha256', 'server_name', 'capabilities'])
      .where('endpoint_id', '=', ctx.endpointId)
      .where('server_id', '=', t.serverId)
      .where('name', '=', t.name)
      .executeTakeFirst();
    const { first_seen: _first, endpoint_id: _e, server_id: _s, name: _n, ...update } = r;
    void _first; void _e; void _s; void _n;
    await trx
      .insertInto('endpoint_tools')
      .values(r)
      .onConflict((oc) => oc.columns(['endpoint_id', 'server_id', 'name']).doUpdateSet(removed ? { present: 0, listener_gone: 0, last_seen: r.last_seen } : update))
      .execute();
    if (before && Number(before.present) === 1) {
      addDelta(deltas, before.fleet_group ?? null, before.variant ?? null, -1);
      addSummaryDelta(summary, before, -1);
    }
    if (!removed) {
      addDelta(deltas, r.fleet_group, r.variant, 1);
      addSummaryDelta(summary, r, 1);
    }
    applied++;
  }
  await applySummaryDeltas(trx, summary);
  await applyFleetDeltas(trx, ctx, deltas);
  return applied;
}

/**
 * A socket MCP server went away (`mcp-listener.removed`) or came back (`added` / `changed`). The
 * agent sends no `tool.removed` for the tools of a server that stopped (it could not list them),
 * and none again when the same tools come back: the probed tools of that server are hidden
 * (`listener_gone`) while it is gone and shown again when it returns; a later `tool.*` event of
 * the agent supersedes either.
 */
async function listenerMoved(trx: AnyDb, endpointId: string, serverId: string, up: boolean, at: string, deltas: FleetDeltas, summary: SummaryDeltas): Promise<void> {
  const rows = await trx
    .selectFrom('endpoint_tools')
    .select(['server_id', 'name', 'fleet_group', 'variant', 'description_sha256', 'server_name', 'capabilities'])
    .where('endpoint_id', '=', endpointId)
    .where('server_id', '=', serverId)
    .where('source', '=', 'probe')
    .where(up ? 'listener_gone' : 'present', '=', 1)
    .execute();
  if (rows.length === 0) return;
  await trx
    .updateTable('endpoint_tools')
    .set(up ? { present: 1, listener_gone: 0, last_seen: at } : { present: 0, listener_gone: 1, last_seen: at })
    .where('endpoint_id', '=', endpointId)
    .where('server_id', '=', serverId)
    .where('source', '=', 'probe')
    .where(up ? 'listener_gone' : 'present', '=', 1)
    .execute();
  for (const r of rows) {
    addDelta(deltas, r.fleet_group ?? null, r.variant ?? null, up ? 1 : -1);
    addSummaryDelta(summary, r, up ? 1 : -1);
  }
}
