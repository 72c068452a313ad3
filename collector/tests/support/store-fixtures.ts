/**
 * Builders of realistic store inputs for tests: host facts, server entries, findings, events and
 * ingest inputs. Values follow the shared schemas.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import {
  computeFingerprint,
  computeServerKey,
  makeEvent,
  sha256Hex,
  type EventOf,
  type EventType,
  type Finding,
  type HostInfo,
  type McpEvent,
  type ServerEntry,
  type Severity,
} from '@mcpwatch/shared';
import type { AgentRow, EnrollInput, IngestInput, Store } from '../../src/store/types.js';

export function hostInfo(over: Partial<HostInfo> = {}): HostInfo {
  return { hostname: 'laptop-1', platform: 'darwin', osName: 'macOS', osRelease: '15.1', arch: 'arm64', hardwareUuid: randomUUID(), users: ['alice'], ...over };
}

export function enrollInput(host: HostInfo, over: Partial<EnrollInput> = {}): EnrollInput {
  return {
    agentId: randomUUID(),
    host,
    certFingerprint: sha256Hex(randomUUID()),
    publicKeyPem: '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n',
    certNotAfter: '2030-01-01T00:00:00.000Z',
    enrollSecretName: 'default',
    agentVersion: '0.1.0',
    ...over,
  };
}

/** A stdio server run from an npm package (fingerprint = the package identity). */
export function serverEntry(name: string, over: Partial<ServerEntry> & { pkg?: string; version?: string } = {}): ServerEntry {
  const { pkg, version, ...rest } = over;
  const packageName = pkg ?? `@acme/${name}-mcp`;
  const base = {
    client: 'cursor',
    scope: 'user' as const,
    configPath: '/Users/alice/.cursor/mcp.json',
    user: 'alice',
    name,
    transport: 'stdio' as const,
    command: 'npx',
    args: ['-y', `${packageName}@${version ?? '1.0.0'}`],
    url: null,
    envKeys: ['GITHUB_TOKEN'],
    headerKeys: [],
    cwd: null,
    disabled: false,
    package: { ecosystem: 'npm' as const, name: packageName, version: version ?? '1.0.0', pinned: true, runner: 'npx' },
    ...rest,
  };
  return {
    ...base,
    serverKey: computeServerKey(base),
    fingerprint: computeFingerprint(base),
  };
}

export function finding(ruleId: string, severity: Severity, server?: ServerEntry): Finding {
  return {
    id: `${ruleId}:${server?.serverKey ?? 'host'}`.slice(0, 64),
    ruleId,
    severity,
    title: `${ruleId} on ${server?.name ?? 'host'}`,
    description: 'test finding',
    subject: { serverKey: server?.serverKey ?? null, serverName: server?.name ?? null, client: server?.client ?? null },
    evidence: { field: 'env.GITHUB_TOKEN', kind: 'github-token' },
  };
}

export function event<K extends EventType>(type: K, endpointId: string, data: EventOf<K>['data'], at = new Date()): EventOf<K> {
  return makeEvent(type, endpointId, data, at);
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * An event whose ULID id carries `at` as its time (makeEvent's monotonic ids never go back in
 * time, so events "from the past" need their id made here).
 */
export function pastEvent<K extends EventType>(type: K, endpointId: string, data: EventOf<K>['data'], at: Date): EventOf<K> {
  let t = at.getTime();
  let prefix = '';
  for (let i = 0; i < 10; i++) {
    prefix = CROCKFORD[t % 32]! + prefix;
    t = Math.floor(t / 32);
  }
  const random = Array.from(randomBytes(16), (b) => CROCKFORD[b % 32]).join('');
  return { ...makeEvent(type, endpointId, data, at), id: prefix + random };
}

export function snapshot(endpointId: string, host: HostInfo, parts: { servers?: ServerEntry[]; findings?: Finding[] } = {}, at = new Date()) {
  return event(
    'inventory.snapshot',
    endpointId,
    {
      host,
      clients: [{ client: 'cursor', displayName: 'Cursor', user: 'alice', configPaths: ['/Users/alice/.cursor/mcp.json'], serverCount: parts.servers?.length ?? 0 }],
      servers: parts.servers ?? [],
      processes: [],
      sockets: [],
      findings: parts.findings ?? [],
      errors: [],
    },
    at,
  );
}

/**
 * Sends `events` as the agent's next batch (seq = last + 1, chained to the last hash) and
 * returns the store's result and the batch's hash.
 */
export class BatchSender {
  seq = 0;
  lastHash = '';
  constructor(
    private readonly store: Store,
    public agent: AgentRow,
    private readonly sinks: string[] = ['file'],
  ) {}

  input(events: McpEvent[], over: Partial<IngestInput> = {}): IngestInput {
    const seq = over.seq ?? this.seq + 1;
    const sentAt = new Date().toISOString();
    const body = JSON.stringify({ agentId: this.agent.agentId, seq, prevHash: over.prevHash ?? this.lastHash, sentAt, events });
    return {
      agent: this.agent,
      seq,
      prevHash: this.lastHash,
      bodyHash: sha256Hex(body),
      sentAt,
      receivedAt: new Date().toISOString(),
      events,
      body: gzipSync(body),
      signature: 'test-unsigned',
      signedAtMs: Date.now(),
      sinks: this.sinks,
      ...over,
    };
  }

  /** Ingests the batch and (unless `project: false`) waits until the projector has applied it. */
  async send(events: McpEvent[], over: Partial<IngestInput> = {}, opts: { project?: boolean } = {}) {
    const input = this.input(events, over);
    const result = await this.store.ingestBatch(input);
    if (opts.project !== false) await projected(this.store);
    if (result.status === 'accepted' && input.seq > this.seq) {
      this.seq = input.seq;
      this.lastHash = input.bodyHash;
    }
    return { result, input };
  }
}

/** Waits until the store's projector has applied every batch logged so far. */
export async function projected(store: Store): Promise<void> {
  await (store as Store & { awaitProjection?: () => Promise<void> }).awaitProjection?.();
}

/** Enrolls a machine and returns its agent row and a sender for its batches. */
export async function enrolled(store: Store, host: HostInfo = hostInfo(), sinks: string[] = ['file']) {
  const outcome = await store.enrollAgent(enrollInput(host));
  const agent = (await store.getAgent(outcome.agentId))!;
  return { outcome, agent, host, sender: new BatchSender(store, agent, sinks) };
}
