/**
 * The collector's store contract. One interface, two engines (SQLite via better-sqlite3,
 * PostgreSQL via pg), one query builder (Kysely). The HTTP layer uses only this interface.
 *
 * Failure contract: methods reject with StoreUnavailableError (-> 503) when the database cannot
 * be reached; with other coded errors from ../errors.ts for conflicts. Never partial writes:
 * ingestBatch is ONE transaction.
 */
import type { HistoryReport, VerifyHistoryOptions } from './history-verifier.js';
import type { ClientRecord, ConfigError, Finding, HeartbeatData, HostInfo, McpEvent, ProcessRecord, ServerEntry, Severity, SocketRecord } from '@mcpwatch/shared';

export interface EnrollSecretRow {
  name: string;
  secretHash: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface AgentRow {
  agentId: string;
  endpointId: string;
  hardwareUuid: string | null;
  hostname: string;
  certFingerprint: string;
  publicKeyPem: string;
  certNotAfter: string;
  enrolledAt: string;
  revokedAt: string | null;
  enrollSecretName: string | null;
  /** Last acknowledged seq and the hash of that batch's uncompressed body. */
  lastSeq: number;
  lastHash: string;
  /** Set when another machine claimed the same hardware UUID (cloned image). */
  duplicateOf: string | null;
}

export interface EnrollInput {
  agentId: string;
  host: HostInfo;
  certFingerprint: string;
  publicKeyPem: string;
  certNotAfter: string;
  enrollSecretName: string;
  agentVersion: string;
  /** When the agent proves it is the same machine (same hardware UUID and hostname), keep endpoint. */
}

export interface EnrollOutcome {
  agentId: string;
  endpointId: string;
  /** true when the hardware UUID was already claimed by a different machine. */
  flaggedDuplicate: boolean;
}

export interface IngestInput {
  agent: AgentRow;
  seq: number;
  prevHash: string;
  /** sha256 hex of the uncompressed body. */
  bodyHash: string;
  sentAt: string;
  receivedAt: string;
  /**
   * The parsed, validated events of `body` (the log row's metadata is taken from them). They must be
   * exactly the body's events: this process's projector projects them instead of decoding the body
   * again (projection-handoff.ts; a NUL character is replaced as the log reader does). Not modified
   * by the store, nor to be modified after the call.
   */
  events: McpEvent[];
  /** The body exactly as sent (gzip bytes): what the log keeps and the projector reads. */
  body: Buffer;
  /** The body's uncompressed size (the route knows it): sizes the projector's hand-off (default: the gzip trailer's). */
  inflatedBytes?: number;
  /** The x-mcpwatch-signature header and the signed timestamp (unix ms) it covers. */
  signature: string;
  signedAtMs: number;
  /**
   * Sinks to enqueue outbox rows for (e.g. ['file'] or ['kinesis','securityhub']). Each event is
   * enqueued only for the sinks that want it (see `sinkWantsEvent` in ./sink-routing.ts:
   * 'securityhub' takes finding.* events and the collector's tamper events; every other sink takes
   * every event, the collector's own included). The finding.raised / finding.resolved events the
   * batch's snapshots cause (projection.ts) are recorded and enqueued like the agent's.
   */
  sinks: string[];
}

export interface ProjectionStatus {
  /** Log rows not yet projected (all collectors' partitions). */
  lagBatches: number;
  /** Age of the oldest of them (0 when none). */
  lagSeconds: number;
  /** ISO time the projections are complete up to: every batch received before it is projected. */
  completeUpTo: string;
}

export type IngestResult =
  | { status: 'accepted'; acked: number; gap: boolean; chainBroken: boolean }
  | { status: 'duplicate'; acked: number }
  | { status: 'conflict'; seq: number };

export interface OutboxRow {
  id: string; // stable: `${eventId}:${sink}`
  sink: string;
  endpointId: string;
  agentId: string;
  batchSeq: number;
  certFingerprint: string;
  /**
   * An agent's event, one the collector recorded about the endpoint (collector.seq_gap /
   * chain_broken), or a finding.raised / finding.resolved the store derived from a snapshot.
   */
  event: StoredEvent;
  /** Failed deliveries so far (releaseOutbox increments it); 0 on the first claim. */
  attempts: number;
  createdAt: string;
}

export interface Store {
  readonly engine: 'sqlite' | 'postgres';
  migrate(): Promise<void>;
  ping(): Promise<boolean>;
  /**
   * Readiness: is the store really there and readable? `deep: false` is cheap enough for every
   * write (SQLite: the file at its path is the one opened); `deep: true` also reads (see the
   * engines). Never throws.
   */
  health(opts?: { deep?: boolean }): Promise<{ ok: true } | { ok: false; reason: string }>;
  close(): Promise<void>;

  // enroll secrets and agents
  addEnrollSecret(name: string, secretHash: string): Promise<void>;
  listEnrollSecrets(): Promise<EnrollSecretRow[]>;
  revokeEnrollSecret(name: string): Promise<boolean>;
  findEnrollSecret(secretHash: string): Promise<EnrollSecretRow | null>;
  enrollAgent(input: EnrollInput): Promise<EnrollOutcome>;
  getAgent(agentId: string): Promise<AgentRow | null>;
  /**
   * SQLite: whether an agent's row may have changed since the previous call (false at the first):
   * this store revoked or restored one, or another connection (another process) committed to the
   * database (PRAGMA data_version). Agent rows change nowhere else, so the agent cache keeps them
   * while this says no (agent-cache.ts). Absent on PostgreSQL, where several collectors share the
   * database.
   */
  agentsMayHaveChanged?(): boolean;
  setAgentRevoked(agentId: string, revoked: boolean): Promise<boolean>;

  // ingest: append to the batch log (answered after COMMIT); projected behind it
  ingestBatch(input: IngestInput): Promise<IngestResult>;
  /** How far the projections (index, inventory, findings, outbox) lag behind the log. */
  projectionStatus(): Promise<ProjectionStatus>;
  /** Re-verifies the stored batch log: signatures, body hashes, hash chain (history-verifier.ts). */
  verifyHistory(opts?: VerifyHistoryOptions): Promise<HistoryReport>;

  // outbox (drained by the sinks' drainers)
  /**
   * Leases up to `limit` rows of `sink` that are available (not leased, or lease expired; past
   * their retry delay) to `owner` for `leaseMs`, oldest event first. Rows leased by another
   * process are skipped (PostgreSQL: FOR UPDATE SKIP LOCKED), so concurrent claimers get
   * disjoint rows. A lease that expires makes its rows claimable again (at-least-once).
   */
  claimOutbox(sink: string, limit: number, leaseMs: number, owner: string): Promise<OutboxRow[]>;
  /** Deletes delivered rows. */
  completeOutbox(sink: string, ids: string[]): Promise<void>;
  /** Ends the lease of undelivered rows: `attempts` + 1, available again after `retryAfterMs`. */
  releaseOutbox(sink: string, ids: string[], error: string, retryAfterMs: number): Promise<void>;
  /** Rows waiting per sink (leased or not). */
  outboxDepth(): Promise<Record<string, number>>;

  // retention
  /** Deletes events (and batch idempotency records) received before `olderThan`; returns events deleted. */
  pruneEvents(olderThan: Date): Promise<number>;

  // admin: agents and API tokens
  listAgents(filter?: { revoked?: boolean; endpointId?: string }): Promise<AgentRow[]>;
  addApiToken(input: { tokenId: string; name: string; tokenHash: string; scope: TokenScope }): Promise<void>;
  /** The live (not revoked) token with this hash, or null. Records its use (at most once a minute). */
  findApiToken(tokenHash: string): Promise<ApiTokenRow | null>;
  listApiTokens(): Promise<ApiTokenRow[]>;
  revokeApiToken(tokenId: string): Promise<boolean>;

  // queries over the current inventory and history
  listEndpoints(filter: EndpointFilter): Promise<Page<EndpointSummary>>;
  getEndpoint(endpointId: string, recentEvents?: number): Promise<EndpointDetail | null>;
  listServers(filter: ServerFilter): Promise<Page<ServerGroup>>;
  /** The endpoints that currently have a server with this fingerprint configured. */
  serverEndpoints(fingerprint: string, page: PageRequest): Promise<Page<ServerEndpoint>>;
  listFindings(filter: FindingFilter): Promise<Page<FindingView>>;
  listEvents(filter: EventFilter): Promise<Page<StoredEvent>>;
}

// ---- collector-side events (never on the agent's wire schema) ----

/**
 * Events the collector itself records about an endpoint (a seq gap, a broken hash chain). They
 * land in the event history and are published through the outbox like the agent's events.
 */
export const COLLECTOR_EVENT_TYPES = ['collector.seq_gap', 'collector.chain_broken'] as const;
export type CollectorEventType = (typeof COLLECTOR_EVENT_TYPES)[number];

export interface CollectorEvent {
  v: 1;
  id: string;
  type: CollectorEventType;
  time: string;
  endpointId: string;
  data: {
    agentId: string;
    seq: number;
    /** seq_gap: the seq that was expected (last accepted + 1). */
    expectedSeq?: number;
    /** chain_broken: the hash of the last accepted batch, and what the batch claimed. */
    expectedPrevHash?: string;
    prevHash?: string;
  };
}

/** An event as held in the history: an agent's event or one the collector recorded. */
export type StoredEvent = McpEvent | CollectorEvent;

// ---- API tokens ----

export type TokenScope = 'read' | 'admin';

export interface ApiTokenRow {
  tokenId: string;
  name: string;
  scope: TokenScope;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

// ---- queries ----

export interface PageRequest {
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string;
  /** Page size, 1..1000 (default 100). */
  limit?: number;
}

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export interface EndpointFilter extends PageRequest {
  /** Platform (darwin, win32, linux) or a substring of the OS name. */
  os?: string;
  /** Substring of the hostname (case-insensitive). */
  hostname?: string;
  /** An OS user seen on the endpoint (exact). */
  user?: string;
  /** A client catalog id currently present (exact). */
  client?: string;
  /** A server name currently configured (exact). */
  serverName?: string;
  /** Has an open finding at or above this severity. */
  findingSeverity?: Severity;
  lastSeenAfter?: string;
  lastSeenBefore?: string;
}

export interface EndpointSummary {
  endpointId: string;
  hostname: string;
  platform: string;
  osName: string | null;
  osRelease: string | null;
  arch: string | null;
  agentId: string | null;
  agentVersion: string | null;
  firstSeen: string;
  lastSeen: string;
  lastHeartbeatAt: string | null;
  /** Set when this endpoint's hardware UUID was already claimed by another (cloned image). */
  duplicateOf: string | null;
}

/** A current-inventory record with when it was first and last seen. */
export type Seen<T> = T & { firstSeen: string; lastSeen: string };

export interface FindingState {
  status: 'open' | 'resolved';
  resolvedAt: string | null;
}

export interface EndpointDetail {
  endpoint: EndpointSummary & { hardwareUuid: string | null; users: string[]; health: HeartbeatData | null; lastSnapshotAt: string | null };
  clients: Seen<ClientRecord>[];
  servers: Seen<ServerEntry>[];
  processes: Seen<ProcessRecord>[];
  sockets: Seen<SocketRecord>[];
  configErrors: Seen<ConfigError>[];
  /** Open findings and those resolved in the retained history. */
  findings: Seen<Finding & FindingState>[];
  recentEvents: StoredEvent[];
  /** Lists above cut short at the byte budget or row cap (store/inventory-queries.ts); empty when whole. */
  truncated: string[];
}

export interface ServerFilter extends PageRequest {
  /** Server name as configured (exact). */
  name?: string;
  /** Package name (exact, any ecosystem). */
  package?: string;
  transport?: string;
  client?: string;
  /** Entries with an open finding at or above this severity. */
  risk?: Severity;
  /** Entries in this state (active, disabled, blocked-by-policy, shadowed, not-loaded). */
  effective?: string;
}

export interface ServerGroup {
  fingerprint: string;
  /** Names this server is configured under across the fleet (up to 20). */
  names: string[];
  transport: string;
  command: string | null;
  url: string | null;
  packageEcosystem: string | null;
  packageName: string | null;
  packageVersion: string | null;
  /** Distinct endpoints where it is currently configured (prevalence). */
  endpointCount: number;
  /** Configured entries (an endpoint may configure it in several clients). */
  entryCount: number;
  clients: string[];
  /** Highest severity of an open finding on any of its entries, or null. */
  maxSeverity: Severity | null;
  firstSeen: string;
  lastSeen: string;
}

export interface ServerEndpoint {
  endpointId: string;
  hostname: string;
  platform: string;
  serverKey: string;
  name: string;
  client: string;
  user: string | null;
  configPath: string;
  firstSeen: string;
  lastSeen: string;
}

export interface FindingFilter extends PageRequest {
  /** At or above this severity. */
  severity?: Severity;
  rule?: string;
  status?: 'open' | 'resolved';
  endpointId?: string;
}

export interface FindingView extends FindingState {
  endpointId: string;
  hostname: string;
  findingId: string;
  ruleId: string;
  severity: Severity;
  title: string;
  serverKey: string | null;
  serverName: string | null;
  client: string | null;
  firstSeen: string;
  lastSeen: string;
  finding: Finding;
}

export interface EventFilter extends PageRequest {
  /** Event time at or after (ISO). */
  since?: string;
  /** Event time before (ISO). */
  until?: string;
  endpointId?: string;
  type?: string;
}
