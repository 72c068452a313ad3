/**
 * Projects `tool.added|changed|removed` events into `endpoint_tools` (tool-migration.ts), inside
 * the projector's transaction (one call per batch, events in batch order). Deterministic: an
 * added/changed tool is upserted with its latest hashes, a removed one marked not present. Each
 * row carries its fleet group and variant; the endpoint counts they move are applied after the
 * batch's events, raising and resolving `tool-fleet-divergence` findings (tool-fleet-divergence.ts).
 * Throws what the database throws (the caller's transaction rolls back whole). Other event types
 * are ignored.
 */
import type { Kysely } from 'kysely';
import type { McpEvent, ToolRecord } from '@mcpwatch/shared';
import { addDelta, applyFleetDeltas, fleetGroupOf, variantOf, type FleetDeltas, type ToolBatchContext } from './tool-fleet-divergence.js';

export { COLLECTOR_RULE_IDS, type ToolBatchContext } from './tool-fleet-divergence.js';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const TOOL_EVENT_TYPES: ReadonlySet<string> = new Set(['tool.added', 'tool.changed', 'tool.removed']);

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
  for (const e of events) {
    if (!TOOL_EVENT_TYPES.has(e.type)) continue;
    const t = e.data as ToolRecord;
    const removed = e.type === 'tool.removed';
    const r = row(ctx.endpointId, t, e.time || ctx.receivedAt, !removed);
    const before = await trx
      .selectFrom('endpoint_tools')
      .select(['fleet_group', 'variant', 'present'])
      .where('endpoint_id', '=', ctx.endpointId)
      .where('server_id', '=', t.serverId)
      .where('name', '=', t.name)
      .executeTakeFirst();
    const { first_seen: _first, endpoint_id: _e, server_id: _s, name: _n, ...update } = r;
    void _first; void _e; void _s; void _n;
    await trx
      .insertInto('endpoint_tools')
      .values(r)
      .onConflict((oc) => oc.columns(['endpoint_id', 'server_id', 'name']).doUpdateSet(removed ? { present: 0, last_seen: r.last_seen } : update))
      .execute();
    if (before && Number(before.present) === 1) addDelta(deltas, before.fleet_group ?? null, before.variant ?? null, -1);
    if (!removed) addDelta(deltas, r.fleet_group, r.variant, 1);
    applied++;
  }
  await applyFleetDeltas(trx, ctx, deltas);
  return applied;
}
