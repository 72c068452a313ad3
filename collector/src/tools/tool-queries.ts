/**
 * Fleet-wide questions over `endpoint_tools` (both engines, through Kysely; filters are bound
 * values, never SQL text):
 * - `listTools`: tools grouped by server and name, with prevalence (endpoints exposing it now)
 *   and how many distinct description hashes the fleet holds for it; filters name, server
 *   (id or name), capability.
 * - `endpointsExposing`: which endpoints expose tool X (optionally of server S) now.
 * - `toolsOfEndpoint`: one endpoint's current tools.
 * - `fleetDivergence`: for each (server fingerprint, server version, tool), the endpoints whose
 *   description/schema/annotations hashes differ from what most endpoints of that version report,
 *   read from the state `tool-fleet-divergence` keeps (tool-fleet-divergence.ts).
 * Bounded by `limit` (1..1000). Rejects with the database's error.
 */
import { sql, type Kysely } from 'kysely';
import type { Finding, ToolCapability } from '@mcpwatch/shared';
import { parseVariant, type VariantHashes } from './tool-fleet-divergence.js';

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
  /** The server fingerprint (`mcp-server-name:<name>` for unconfigured socket servers, grouped by the name they gave). */
  serverId: string;
  serverName: string | null;
  serverVersion: string | null;
  name: string;
  /** The hashes most endpoints of this server version report. */
  majority: VariantHashes & { endpoints: number };
  /** Endpoints exposing this tool at this server version. */
  endpoints: number;
  /** Endpoints reporting something else, each with its open tool-fleet-divergence finding. */
  divergent: Array<VariantHashes & { endpointId: string; findingId: string }>;
}

/**
 * Where the same server fingerprint and version exposes a different tool on some endpoints: the
 * groups with open tool-fleet-divergence findings (tool-fleet-divergence.ts keeps that state
 * incrementally), up to 1000 divergent endpoints each.
 */
export async function fleetDivergence(db: AnyDb, limit?: number): Promise<ToolDivergence[]> {
  const groups = await db
    .selectFrom('tool_fleet_groups as g')
    .selectAll()
    .where('g.majority', 'is not', null)
    .where((eb) => eb.exists(eb.selectFrom('tool_fleet_findings as f').select('f.endpoint_id').whereRef('f.fleet_group', '=', 'g.fleet_group')))
    .orderBy('g.server_id').orderBy('g.server_version').orderBy('g.name')
    .limit(lim(limit))
    .execute();
  const out: ToolDivergence[] = [];
  for (const g of groups) {
    const majority = await db.selectFrom('tool_fleet_variants').select('endpoints').where('fleet_group', '=', g.fleet_group).where('variant', '=', g.majority).executeTakeFirst();
    const rows = await db.selectFrom('tool_fleet_findings').select(['endpoint_id', 'variant', 'finding_id', 'data']).where('fleet_group', '=', g.fleet_group).orderBy('endpoint_id').limit(1000).execute();
    out.push({
      serverId: g.server_id,
      serverName: rows.length > 0 ? ((JSON.parse(rows[0]!.data) as Finding).subject.serverName ?? null) : null,
      serverVersion: g.server_version ?? null,
      name: g.name,
      majority: { ...parseVariant(g.majority), endpoints: Number(majority?.endpoints ?? 0) },
      endpoints: Number(g.endpoints),
      divergent: rows.map((r) => ({ endpointId: r.endpoint_id, findingId: r.finding_id, ...parseVariant(r.variant) })),
    });
  }
  return out;
}
