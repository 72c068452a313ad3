/**
 * Fleet-wide questions over `endpoint_tools` (both engines, through Kysely; filters are bound
 * values, never SQL text):
 * - `listTools`: tools grouped by server and name, with prevalence (endpoints exposing it now)
 *   and how many distinct description hashes the fleet holds for it; filters name, server
 *   (id or name), capability.
 * - `endpointsExposing`: which endpoints expose tool X (optionally of server S) now.
 * - `toolsOfEndpoint`: one endpoint's current tools.
 * - `fleetDivergence`: for each (server id, server version, tool), the endpoints whose
 *   description/schema hashes differ from what most endpoints of that version report — the
 *   collector side of `tool-fleet-divergence`.
 * Bounded by `limit` (1..1000). Rejects with the database's error.
 */
import { sql, type Kysely } from 'kysely';
import type { ToolCapability } from '@mcpwatch/shared';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface ToolFilter {
  name?: string;
  server?: string;
  capability?: ToolCapability;
  limit?: number;
}

export interface FleetTool {
  serverId: string;
  serverName: string | null;
  name: string;
  endpoints: number;
  descriptionVariants: number;
  capabilities: string[];
}

const lim = (n: number | undefined) => Math.min(1000, Math.max(1, n ?? 100));
const caps = (s: string | null | undefined) => (s ?? '').split(',').filter(Boolean);

export async function listTools(db: AnyDb, f: ToolFilter = {}): Promise<FleetTool[]> {
  let q = db
    .selectFrom('endpoint_tools')
    .select([
      'server_id',
      'name',
      sql<string>`max(server_name)`.as('server_name'),
      sql<number>`count(distinct endpoint_id)`.as('endpoints'),
      sql<number>`count(distinct coalesce(description_sha256, ''))`.as('variants'),
      sql<string>`max(capabilities)`.as('capabilities'),
    ])
    .where('present', '=', 1);
  if (f.name) q = q.where('name', '=', f.name);
  if (f.server) q = q.where((eb) => eb.or([eb('server_id', '=', f.server!), eb('server_name', '=', f.server!)]));
  if (f.capability) q = q.where('capabilities', 'like', `%,${f.capability},%`);
  const rows = await q.groupBy(['server_id', 'name']).orderBy('endpoints', 'desc').orderBy('server_id').orderBy('name').limit(lim(f.limit)).execute();
  return rows.map((r) => ({
    serverId: r.server_id,
    serverName: r.server_name ?? null,
    name: r.name,
    endpoints: Number(r.endpoints),
    descriptionVariants: Number(r.variants),
    capabilities: caps(r.capabilities),
  }));
}

export interface EndpointTool {
  endpointId: string;
  serverId: string;
  serverKey: string | null;
  serverName: string | null;
  serverVersion: string | null;
  name: string;
  title: string | null;
  source: string;
  descriptionSha256: string | null;
  inputSchemaSha256: string | null;
  annotationsSha256: string | null;
  instructionsSha256: string | null;
  annotations: Record<string, boolean>;
  capabilities: string[];
  description?: string;
  firstSeen: string;
  lastSeen: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function toEndpointTool(r: any): EndpointTool {
  const t: EndpointTool = {
    endpointId: r.endpoint_id,
    serverId: r.server_id,
    serverKey: r.server_key ?? null,
    serverName: r.server_name ?? null,
    serverVersion: r.server_version ?? null,
    name: r.name,
    title: r.title ?? null,
    source: r.source,
    descriptionSha256: r.description_sha256 ?? null,
    inputSchemaSha256: r.input_schema_sha256 ?? null,
    annotationsSha256: r.annotations_sha256 ?? null,
    instructionsSha256: r.instructions_sha256 ?? null,
    annotations: JSON.parse(r.annotations) as Record<string, boolean>,
    capabilities: caps(r.capabilities),
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
  };
  if (r.description !== null && r.description !== undefined) t.description = r.description;
  return t;
}

export async function endpointsExposing(db: AnyDb, name: string, server?: string, limit?: number): Promise<EndpointTool[]> {
  let q = db.selectFrom('endpoint_tools').selectAll().where('present', '=', 1).where('name', '=', name);
  if (server) q = q.where((eb) => eb.or([eb('server_id', '=', server), eb('server_name', '=', server)]));
  return (await q.orderBy('endpoint_id').orderBy('server_id').limit(lim(limit)).execute()).map(toEndpointTool);
}

export async function toolsOfEndpoint(db: AnyDb, endpointId: string, limit?: number): Promise<EndpointTool[]> {
  const rows = await db.selectFrom('endpoint_tools').selectAll().where('present', '=', 1).where('endpoint_id', '=', endpointId).orderBy('server_id').orderBy('name').limit(lim(limit ?? 1000)).execute();
  return rows.map(toEndpointTool);
}

export interface ToolDivergence {
  serverId: string;
  serverName: string | null;
  serverVersion: string | null;
  name: string;
  /** The hashes most endpoints of this server version report. */
  majority: { descriptionSha256: string | null; inputSchemaSha256: string | null; endpoints: number };
  /** Endpoints reporting something else. */
  divergent: { endpointId: string; descriptionSha256: string | null; inputSchemaSha256: string | null }[];
}

/** Where the same server fingerprint and version exposes a different tool on some endpoints. */
export async function fleetDivergence(db: AnyDb, limit?: number): Promise<ToolDivergence[]> {
  const groups = await db
    .selectFrom('endpoint_tools')
    .select(['server_id', 'server_version', 'name', 'description_sha256', 'input_schema_sha256', sql<string>`max(server_name)`.as('server_name'), sql<number>`count(*)`.as('n')])
    .where('present', '=', 1)
    .groupBy(['server_id', 'server_version', 'name', 'description_sha256', 'input_schema_sha256'])
    .orderBy('server_id').orderBy('server_version').orderBy('name')
    .limit(50_000)
    .execute();
  const byTool = new Map<string, typeof groups>();
  for (const g of groups) {
    const k = JSON.stringify([g.server_id, g.server_version, g.name]);
    byTool.set(k, [...(byTool.get(k) ?? []), g]);
  }
  const out: ToolDivergence[] = [];
  for (const variants of byTool.values()) {
    if (variants.length < 2) continue;
    const sorted = [...variants].sort((a, b) => Number(b.n) - Number(a.n) || String(a.description_sha256).localeCompare(String(b.description_sha256)));
    const top = sorted[0]!;
    const minority = sorted.slice(1);
    let q = db.selectFrom('endpoint_tools').select(['endpoint_id', 'description_sha256', 'input_schema_sha256']).where('present', '=', 1)
      .where('server_id', '=', top.server_id).where('name', '=', top.name);
    q = top.server_version === null ? q.where('server_version', 'is', null) : q.where('server_version', '=', top.server_version);
    const rows = await q.orderBy('endpoint_id').execute();
    const isMinority = (r: { description_sha256: string | null; input_schema_sha256: string | null }) =>
      minority.some((m) => m.description_sha256 === r.description_sha256 && m.input_schema_sha256 === r.input_schema_sha256);
    out.push({
      serverId: top.server_id,
      serverName: top.server_name ?? null,
      serverVersion: top.server_version ?? null,
      name: top.name,
      majority: { descriptionSha256: top.description_sha256 ?? null, inputSchemaSha256: top.input_schema_sha256 ?? null, endpoints: Number(top.n) },
      divergent: rows.filter(isMinority).map((r) => ({ endpointId: r.endpoint_id, descriptionSha256: r.description_sha256 ?? null, inputSchemaSha256: r.input_schema_sha256 ?? null })),
    });
    if (out.length >= lim(limit)) break;
  }
  return out;
}
