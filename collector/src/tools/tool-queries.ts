/**
 * Fleet-wide questions over `endpoint_tools` (both engines, through Kysely; filters are bound
 * values, never SQL text):
 * - `listTools`: tools grouped by server and name, with prevalence (endpoints exposing it now)
 *   and how many distinct description hashes the fleet holds for it; filters name, server
 *   (id or name), capability, prevalence (min/max endpoints), rarest or most prevalent first;
 *   offset pages.
 * - `endpointsExposing`: which endpoints (with host names) expose tool X now, optionally of
 *   server S, at version V, with description hash H; keyset pages.
 * - `toolsOfEndpoint`: one endpoint's current tools.
 * - `fleetDivergence`: for each (server fingerprint, server version, tool), the endpoints whose
 *   description/schema/annotations hashes differ from what most endpoints of that version report,
 *   read from the state `tool-fleet-divergence` keeps (tool-fleet-divergence.ts).
 * - `toolDefinitions`: the fleet-wide pins, per server fingerprint + version + tool: every
 *   definition (hashes) exposed and on how many endpoints, and the majority.
 * Bounded by `limit` (1..1000); a cursor that is not one of ours is MCPW_ERR_MALFORMED. Rejects
 * with the database's error otherwise.
 */
import { sql, type Kysely } from 'kysely';
import type { Finding, ToolCapability } from '@mcpwatch/shared';
import { decodeCursor, encodeCursor } from '../store/inventory-queries.js';
import { parseVariant, type VariantHashes } from './tool-fleet-divergence.js';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface ToolFilter {
  name?: string;
  server?: string;
  capability?: ToolCapability;
  /** Prevalence: tools exposed on at least / at most this many endpoints. */
  minEndpoints?: number;
  maxEndpoints?: number;
  /** most (default): most prevalent first; least: rarest first. */
  order?: 'most' | 'least';
  limit?: number;
  cursor?: string;
}

export interface FleetTool {
  serverId: string;
  serverName: string | null;
  name: string;
  endpoints: number;
  descriptionVariants: number;
  capabilities: string[];
}

export interface ToolPage<T> {
  items: T[];
  nextCursor: string | null;
}

const lim = (n: number | undefined) => Math.min(1000, Math.max(1, n ?? 100));
const caps = (s: string | null | undefined) => (s ?? '').split(',').filter(Boolean);
const isOffset = (v: unknown): v is { o: number } =>
  typeof v === 'object' && v !== null && Object.keys(v).length === 1 && Number.isSafeInteger((v as { o?: unknown }).o) && (v as { o: number }).o >= 0 && (v as { o: number }).o <= 2 ** 31 - 1;
const isKey = (v: unknown): v is [string, string] => Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'string' && x.length >= 1 && x.length <= 256);

/** The page of `rows` (one more than `n` read) and the cursor to the next one. */
function page<T>(rows: T[], n: number, next: (last: T) => unknown): ToolPage<T> {
  if (rows.length <= n) return { items: rows, nextCursor: null };
  const items = rows.slice(0, n);
  return { items, nextCursor: encodeCursor(next(items[n - 1]!)) };
}

/** One page of `toolsPage` (the dashboard's call). */
export async function listTools(db: AnyDb, f: ToolFilter = {}): Promise<FleetTool[]> {
  return (await toolsPage(db, f)).items;
}

/** Tools across the fleet (server + name), with prevalence; filters are bound values. */
export async function toolsPage(db: AnyDb, f: ToolFilter = {}): Promise<ToolPage<FleetTool>> {
  const n = lim(f.limit);
  const offset = f.cursor !== undefined ? decodeCursor(f.cursor, isOffset).o : 0;
  // The summary (tool-summary.ts): one row per tool definition, endpoints counted per definition;
  // an endpoint exposes one definition of a (server, tool), so their sum counts endpoints.
  const endpoints = sql<number>`sum(endpoints)`;
  let q = db
    .selectFrom('tool_fleet_summary')
    .select([
      'server_id',
      'name',
      sql<string>`max(server_name)`.as('server_name'),
      endpoints.as('endpoints'),
      sql<number>`count(*)`.as('variants'),
      sql<string>`max(capabilities)`.as('capabilities'),
    ])
    .where('endpoints', '>', 0);
  if (f.name) q = q.where('name', '=', f.name);
  if (f.server) q = q.where((eb) => eb.or([eb('server_id', '=', f.server!), eb('server_name', '=', f.server!)]));
  if (f.capability) q = q.where('capabilities', 'like', `%,${f.capability},%`);
  let g = q.groupBy(['server_id', 'name']);
  if (f.minEndpoints !== undefined) g = g.having(endpoints, '>=', f.minEndpoints);
  if (f.maxEndpoints !== undefined) g = g.having(endpoints, '<=', f.maxEndpoints);
  const rows = await g.orderBy('endpoints', f.order === 'least' ? 'asc' : 'desc').orderBy('server_id').orderBy('name').limit(n + 1).offset(offset).execute();
  return page(
    rows.map((r) => ({
      serverId: r.server_id,
      serverName: r.server_name ?? null,
      name: r.name,
      endpoints: Number(r.endpoints),
      descriptionVariants: Number(r.variants),
      capabilities: caps(r.capabilities),
    })),
    n,
    () => ({ o: offset + n }),
  );
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

export interface ExposingFilter {
  /** Server fingerprint / listener id, or server name. */
  server?: string;
  /** Only endpoints running this server version. */
  version?: string;
  /** Only endpoints whose description hash is this (e.g. the one a divergence finding names). */
  descriptionSha256?: string;
  limit?: number;
  cursor?: string;
}

/** One page of `exposingPage` (the dashboard's call). */
export async function endpointsExposing(db: AnyDb, name: string, server?: string, limit?: number): Promise<Array<EndpointTool & { hostname: string | null }>> {
  return (await exposingPage(db, name, { ...(server ? { server } : {}), ...(limit ? { limit } : {}) })).items;
}

/** Which endpoints expose tool `name` now, with their host names; keyset pages by (endpoint, server). */
export async function exposingPage(db: AnyDb, name: string, f: ExposingFilter = {}): Promise<ToolPage<EndpointTool & { hostname: string | null }>> {
  const n = lim(f.limit);
  let q = db
    .selectFrom('endpoint_tools as t')
    .leftJoin('endpoints as e', 'e.endpoint_id', 't.endpoint_id')
    .selectAll('t')
    .select('e.hostname as hostname')
    .where('t.present', '=', 1)
    .where('t.name', '=', name);
  if (f.server) q = q.where((eb) => eb.or([eb('t.server_id', '=', f.server!), eb('t.server_name', '=', f.server!)]));
  if (f.version) q = q.where('t.server_version', '=', f.version);
  if (f.descriptionSha256) q = q.where('t.description_sha256', '=', f.descriptionSha256);
  if (f.cursor !== undefined) {
    const [ep, server] = decodeCursor(f.cursor, isKey);
    q = q.where((eb) => eb.or([eb('t.endpoint_id', '>', ep), eb.and([eb('t.endpoint_id', '=', ep), eb('t.server_id', '>', server)])]));
  }
  const rows = await q.orderBy('t.endpoint_id').orderBy('t.server_id').limit(n + 1).execute();
  return page(rows.map((r) => ({ ...toEndpointTool(r), hostname: r.hostname ?? null })), n, (last) => [last.endpointId, last.serverId]);
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

export interface ToolDefinitions {
  /** Server fingerprint (`mcp-server-name:<name>` for unconfigured socket servers). */
  serverId: string;
  serverVersion: string | null;
  name: string;
  /** Endpoints exposing this tool at this server version. */
  endpoints: number;
  /** The definition most of them expose (null on a tie or a lone endpoint). */
  majority: VariantHashes | null;
  /** Every definition the fleet exposes, most common first. */
  definitions: Array<VariantHashes & { endpoints: number }>;
}

/**
 * The fleet-wide pins: per server fingerprint + version + tool, the definitions (hashes) the
 * fleet exposes and on how many endpoints, from the state tool-fleet-divergence.ts keeps.
 * Filters: server fingerprint, tool name; keyset pages.
 */
export async function toolDefinitions(db: AnyDb, f: { server?: string; name?: string; limit?: number; cursor?: string } = {}): Promise<ToolPage<ToolDefinitions>> {
  const n = lim(f.limit);
  let q = db.selectFrom('tool_fleet_groups').selectAll();
  if (f.server) q = q.where('server_id', '=', f.server);
  if (f.name) q = q.where('name', '=', f.name);
  if (f.cursor !== undefined) q = q.where('fleet_group', '>', decodeCursor(f.cursor, (v): v is string => typeof v === 'string' && v.length <= 1024));
  const groups = await q.orderBy('fleet_group').limit(n + 1).execute();
  const pageOf = page(groups, n, (last) => last.fleet_group);
  const items: ToolDefinitions[] = [];
  for (const g of pageOf.items) {
    const variants = await db.selectFrom('tool_fleet_variants').select(['variant', 'endpoints']).where('fleet_group', '=', g.fleet_group).orderBy('endpoints', 'desc').orderBy('variant').limit(1000).execute();
    items.push({
      serverId: g.server_id,
      serverVersion: g.server_version ?? null,
      name: g.name,
      endpoints: Number(g.endpoints),
      majority: g.majority ? parseVariant(g.majority) : null,
      definitions: variants.map((v) => ({ ...parseVariant(v.variant), endpoints: Number(v.endpoints) })),
    });
  }
  return { items, nextCursor: pageOf.nextCursor };
}
