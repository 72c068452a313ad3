/**
 * The collector's store contract. One interface, two engines (SQLite via better-sqlite3,
 * PostgreSQL via pg), one query builder (Kysely). The HTTP layer uses only this interface.
 *
 * Failure contract: methods reject with StoreUnavailableError (-> 503) when the database cannot
 * be reached; with other coded errors from ../errors.ts for conflicts. Never partial writes:
 * ingestBatch is ONE transaction.
 */
import type { HostInfo, McpEvent } from '@mcpwatch/shared';

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
  events: McpEvent[];
  /** Sinks to enqueue outbox rows for (e.g. ['file'] or ['kinesis','securityhub']). */
  sinks: string[];
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
  event: McpEvent;
  attempts: number;
  createdAt: string;
}

export interface Store {
  readonly engine: 'sqlite' | 'postgres';
  migrate(): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;

  // enroll secrets and agents
  addEnrollSecret(name: string, secretHash: string): Promise<void>;
  listEnrollSecrets(): Promise<EnrollSecretRow[]>;
  revokeEnrollSecret(name: string): Promise<boolean>;
  findEnrollSecret(secretHash: string): Promise<EnrollSecretRow | null>;
  enrollAgent(input: EnrollInput): Promise<EnrollOutcome>;
  getAgent(agentId: string): Promise<AgentRow | null>;
  setAgentRevoked(agentId: string, revoked: boolean): Promise<boolean>;

  // ingest
  ingestBatch(input: IngestInput): Promise<IngestResult>;

  // outbox (drained by the sinks' drainers)
  claimOutbox(sink: string, limit: number, leaseMs: number, owner: string): Promise<OutboxRow[]>;
  completeOutbox(sink: string, ids: string[]): Promise<void>;
  releaseOutbox(sink: string, ids: string[], error: string, retryAfterMs: number): Promise<void>;
  outboxDepth(): Promise<Record<string, number>>;

  // retention
  pruneEvents(olderThan: Date): Promise<number>;
}
