/**
 * Table shapes of the collector's database, as Kysely sees them. Both engines store the same
 * representation so one set of queries serves both:
 * - timestamps are ISO-8601 UTC strings (`Date#toISOString()`), which sort lexicographically;
 * - booleans are integers 0/1;
 * - structured values (event data, server args, health) are JSON text.
 */
import type { Generated } from 'kysely';

export interface EnrollSecretsTable {
  name: string;
  secret_hash: string;
  created_at: string;
  revoked_at: string | null;
}

export interface AgentsTable {
  agent_id: string;
  endpoint_id: string;
  hardware_uuid: string | null;
  hostname: string;
  cert_fingerprint: string;
  public_key_pem: string;
  cert_not_after: string;
  enrolled_at: string;
  revoked_at: string | null;
  enroll_secret_name: string | null;
  agent_version: string;
  last_seq: number;
  last_hash: string;
  last_batch_at: string | null;
  duplicate_of: string | null;
}

export interface EndpointsTable {
  endpoint_id: string;
  hostname: string;
  platform: string;
  os_name: string | null;
  os_release: string | null;
  arch: string | null;
  hardware_uuid: string | null;
  agent_id: string | null;
  agent_version: string | null;
  first_seen: string;
  last_seen: string;
  last_heartbeat_at: string | null;
  health: string | null;
  last_snapshot_at: string | null;
  duplicate_of: string | null;
}

export interface EndpointUsersTable {
  endpoint_id: string;
  user_name: string;
  first_seen: string;
  last_seen: string;
  present: number;
}

/** One verified batch as the agent sent it (migration 0003): the log the projections are built from. */
export interface BatchLogTable {
  log_id: Generated<number>;
  agent_id: string;
  seq: number;
  endpoint_id: string;
  /** Projection partition: hash of endpoint_id (projection-partitions.ts). */
  partition: number;
  received_at: string;
  event_count: number;
  first_event_at: string | null;
  last_event_at: string | null;
  /** The distinct event types, comma-separated. */
  event_types: string;
  prev_hash: string;
  /** sha256 hex of the uncompressed body (the chain's link). */
  body_hash: string;
  cert_fingerprint: string;
  /** The x-mcpwatch-signature header and the signed timestamp (ms) it covers. */
  signature: string;
  signed_at_ms: number;
  /** The sinks configured when the batch was accepted, comma-separated (outbox rows per sink). */
  sinks: string;
  /** JSON array of the collector's tamper events ({type, data}) the batch caused, or null. */
  tamper: string | null;
  /** The gzip body exactly as sent (null for batches accepted before the log existed). */
  body: Buffer | null;
}

/** A log row not yet projected (deleted by the projection that applies it). */
export interface ProjectionPendingTable {
  partition: number;
  log_id: number;
  received_at: string;
}

export interface EventsTable {
  id: string;
  endpoint_id: string;
  type: string;
  time: string;
  /** The batch_log row holding the event, and its index in the body's events array (migration 0013). */
  log_id: number | null;
  pos: number | null;
  /** Agent, seq and received time: NULL for an event the log holds (read them through log_id). */
  agent_id: string | null;
  received_at: string | null;
  batch_seq: number | null;
  /** The event's data as JSON: only for events no batch body holds (the collector's own); else NULL. */
  data: string | null;
}

/** Columns every current-inventory table has. */
interface InventoryColumns {
  endpoint_id: string;
  first_seen: string;
  last_seen: string;
  present: number;
  removed_at: string | null;
  /** The full record as last reported (JSON). */
  data: string;
}

export interface ServersTable extends InventoryColumns {
  server_key: string;
  fingerprint: string;
  name: string;
  client: string;
  scope: string;
  config_path: string;
  user_name: string | null;
  transport: string;
  command: string | null;
  url: string | null;
  package_ecosystem: string | null;
  package_name: string | null;
  package_version: string | null;
  package_pinned: number;
  disabled: number;
  /** What is in effect (migration 0008): active | disabled | blocked-by-policy | shadowed | not-loaded. */
  effective: string | null;
}

export interface ClientsTable extends InventoryColumns {
  client_key: string;
  client: string;
  display_name: string;
  user_name: string | null;
  server_count: number;
}

export interface ProcessesTable extends InventoryColumns {
  process_key: string;
  pid: number;
  name: string;
  kind: string;
  client: string | null;
  server_key: string | null;
  user_name: string | null;
}

export interface SocketsTable extends InventoryColumns {
  socket_key: string;
  pid: number;
  protocol: string;
  local_address: string;
  local_port: number;
  peer_address: string | null;
  peer_port: number | null;
  kind: string;
  all_interfaces: number;
  server_key: string | null;
  client: string | null;
}

export interface ConfigErrorsTable extends InventoryColumns {
  error_key: string;
  path: string;
  client: string | null;
  code: string;
  reason: string;
}

export interface FindingsTable {
  endpoint_id: string;
  finding_id: string;
  rule_id: string;
  severity: string;
  /** 0 (info) .. 4 (critical), for "at or above" filters. */
  severity_rank: number;
  title: string;
  server_key: string | null;
  server_name: string | null;
  client: string | null;
  status: string;
  first_seen: string;
  last_seen: string;
  resolved_at: string | null;
  data: string;
}

/** One row per (sink, batch or part of one): the ids of the events still to deliver (migration 0002). */
export interface OutboxTable {
  /** The row's first event id when it was written (rows are claimed in id order). */
  id: string;
  sink: string;
  endpoint_id: string;
  agent_id: string;
  batch_seq: number;
  cert_fingerprint: string;
  /** JSON array of event ids, oldest first. */
  event_ids: string;
  event_count: number;
  attempts: number;
  created_at: string;
  available_at: string;
  lease_owner: string | null;
  lease_until: string | null;
  last_error: string | null;
}

export interface ApiTokensTable {
  token_id: string;
  name: string;
  token_hash: string;
  scope: string;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface Database {
  enroll_secrets: EnrollSecretsTable;
  agents: AgentsTable;
  endpoints: EndpointsTable;
  endpoint_users: EndpointUsersTable;
  batch_log: BatchLogTable;
  projection_pending: ProjectionPendingTable;
  events: EventsTable;
  servers: ServersTable;
  clients: ClientsTable;
  processes: ProcessesTable;
  sockets: SocketsTable;
  config_errors: ConfigErrorsTable;
  findings: FindingsTable;
  outbox: OutboxTable;
  api_tokens: ApiTokensTable;
}

/** The current-inventory tables that carry a `present` flag and are reset by a snapshot. */
export const PRESENCE_TABLES = ['servers', 'clients', 'processes', 'sockets', 'config_errors'] as const;
export type PresenceTable = (typeof PRESENCE_TABLES)[number];
