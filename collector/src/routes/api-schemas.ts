/**
 * TypeBox schemas of the query and admin API: they validate requests, shape replies and feed the
 * OpenAPI document (/v1/openapi.json). Nested records (inventory entries, event data) are open
 * objects: their exact shapes are the shared schemas, documented there.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { Errors } from '../errors.js';

const Str = (maxLength = 512) => Type.String({ maxLength });
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Open = (description: string) => Type.Object({}, { additionalProperties: true, description });

export const SeverityParam = Type.Union(
  ['info', 'low', 'medium', 'high', 'critical'].map((s) => Type.Literal(s)),
  { description: 'at or above this severity' },
);
export const TimeParam = Type.String({ format: 'date-time', maxLength: 64 });

export const PageQuery = {
  cursor: Type.Optional(Type.String({ maxLength: 2048, description: 'nextCursor of the previous page' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
};

export const ErrorReply = Type.Object({ statusCode: Type.Integer(), code: Str(64), message: Str(4096) }, { description: 'a coded error' });

const pageOf = <T extends TSchema>(item: T) => Type.Object({ items: Type.Array(item), nextCursor: Nullable(Type.String()) });

export const EndpointSummary = Type.Object({
  endpointId: Str(),
  hostname: Str(),
  platform: Str(),
  osName: Nullable(Str()),
  osRelease: Nullable(Str()),
  arch: Nullable(Str()),
  agentId: Nullable(Str()),
  agentVersion: Nullable(Str()),
  firstSeen: Str(),
  lastSeen: Str(),
  lastHeartbeatAt: Nullable(Str()),
  duplicateOf: Nullable(Str()),
});
export const EndpointPage = pageOf(EndpointSummary);

/** One row of the containment audit trail (containment/containment-store.ts ContainmentRecord). */
export const ContainmentRecordView = Type.Object({
  commandId: Type.String(),
  endpointId: Type.String(),
  serverKey: Type.String(),
  action: Type.String(),
  reason: Type.String(),
  actor: Type.Object({ tokenId: Type.String(), name: Type.String() }, { description: 'who issued it: API token id and name, or policy / auto-containment' }),
  requestedAt: Type.String(),
  expiresAt: Type.String(),
  status: Type.String({ description: 'queued, delivered, succeeded, failed, expired or dry-run' }),
  deliveredAt: Nullable(Type.String()),
  resultAt: Nullable(Type.String()),
  resultDetail: Nullable(Type.String()),
});

/** Containment of one server on one endpoint (containment/containment-service.ts ServerContainmentState). */
export const ContainmentStateView = Type.Object({
  endpointId: Type.String(),
  serverKey: Type.String(),
  status: Type.Union(['quarantined', 'pending', 'restored', 'failed'].map((s) => Type.Literal(s)), {
    description: 'pending: a command waits for the agent; failed: the latest command failed or expired; else what the agent confirmed last',
  }),
  state: Type.String({ description: 'what the agent confirmed last: quarantined, restored, or none' }),
  pending: Nullable(Type.Object({ commandId: Type.String(), action: Type.String(), status: Type.String(), requestedAt: Type.String() })),
  command: ContainmentRecordView,
  lastCommand: Nullable(ContainmentRecordView),
});

/** A tool of a server as the collector stores it (tools/tool-queries.ts EndpointTool), with its pin and finding state. */
export const EndpointToolView = Type.Object(
  {
    serverId: Str(),
    serverKey: Nullable(Str(64)),
    serverName: Nullable(Str()),
    serverVersion: Nullable(Str(128)),
    name: Str(256),
    title: Nullable(Str()),
    source: Str(32),
    descriptionSha256: Nullable(Str(64)),
    inputSchemaSha256: Nullable(Str(64)),
    annotationsSha256: Nullable(Str(64)),
    instructionsSha256: Nullable(Str(64)),
    annotations: Type.Record(Type.String(), Type.Boolean()),
    capabilities: Type.Array(Str(64)),
    description: Type.Optional(Type.String({ description: 'only when the endpoint policy ships descriptions' })),
    firstSeen: Str(64),
    lastSeen: Str(64),
    pin: Type.Object(
      {
        firstSeen: Str(64),
        state: Type.Union([Type.Literal('pinned'), Type.Literal('changed-without-version')], {
          description: 'pinned: matches what the endpoint first saw (or changed with a new server version); changed-without-version: an open tool-changed-without-version finding (a rug pull)',
        }),
      },
      { description: 'first-seen pinning on this endpoint (the agent pins the hashes it first saw)' },
    ),
    openFindings: Type.Array(Type.Object({ id: Str(64), ruleId: Str(64), severity: Str(16), title: Str() }), { description: 'open tool findings about this tool' }),
  },
  { additionalProperties: false },
);

/** A configured server entry of an endpoint with its containment and tools. */
const EndpointServerView = Type.Object(
  {
    containment: Nullable(ContainmentStateView),
    tools: Type.Array(EndpointToolView, { description: "this server's current tools (matched by serverKey, else by fingerprint)" }),
  },
  { additionalProperties: true, description: 'ServerEntry + firstSeen, lastSeen, containment, tools' },
);

export const EndpointDetail = Type.Object({
  endpoint: Type.Composite([
    EndpointSummary,
    Type.Object({ hardwareUuid: Nullable(Str()), users: Type.Array(Str()), health: Nullable(Open('last agent.heartbeat data')), lastSnapshotAt: Nullable(Str()) }),
  ]),
  clients: Type.Array(Open('ClientRecord + firstSeen, lastSeen')),
  servers: Type.Array(EndpointServerView),
  otherTools: Type.Array(EndpointToolView, { description: 'tools of MCP servers on the endpoint that no configured entry names (socket listeners found by probing)' }),
  containment: Type.Array(
    Type.Composite([ContainmentStateView, Type.Object({ serverName: Nullable(Str()), client: Nullable(Str(64)), inInventory: Type.Boolean() })]),
    { description: 'every server of the endpoint that ever had a containment command, also when it is gone from the inventory (a quarantine removes it from its config)' },
  ),
  processes: Type.Array(Open('ProcessRecord + firstSeen, lastSeen')),
  sockets: Type.Array(Open('SocketRecord + firstSeen, lastSeen')),
  configErrors: Type.Array(Open('ConfigError + firstSeen, lastSeen')),
  findings: Type.Array(Open('Finding + status, resolvedAt, firstSeen, lastSeen')),
  recentEvents: Type.Array(Open('event envelope')),
  truncated: Type.Array(Str(64), { description: 'lists above cut short at the byte budget (4 MiB of stored JSON each) or 10,000 rows; empty when whole' }),
});

export const ServerGroup = Type.Object({
  fingerprint: Str(),
  names: Type.Array(Str()),
  transport: Str(),
  command: Nullable(Str(4096)),
  url: Nullable(Str(4096)),
  packageEcosystem: Nullable(Str()),
  packageName: Nullable(Str()),
  packageVersion: Nullable(Str()),
  endpointCount: Type.Integer(),
  entryCount: Type.Integer(),
  clients: Type.Array(Str()),
  maxSeverity: Nullable(Str()),
  firstSeen: Str(),
  lastSeen: Str(),
});
export const ServerPage = pageOf(ServerGroup);

export const ServerEndpoint = Type.Object({
  endpointId: Str(),
  hostname: Str(),
  platform: Str(),
  serverKey: Str(),
  name: Str(),
  client: Str(),
  user: Nullable(Str()),
  configPath: Str(4096),
  firstSeen: Str(),
  lastSeen: Str(),
  containment: Nullable(ContainmentStateView),
});
export const ServerEndpointPage = pageOf(ServerEndpoint);

export const FindingView = Type.Object({
  endpointId: Str(),
  hostname: Str(),
  findingId: Str(),
  ruleId: Str(),
  severity: Str(),
  title: Str(),
  status: Str(),
  resolvedAt: Nullable(Str()),
  serverKey: Nullable(Str()),
  serverName: Nullable(Str()),
  client: Nullable(Str()),
  firstSeen: Str(),
  lastSeen: Str(),
  finding: Open('the Finding as reported'),
});
export const FindingPage = pageOf(FindingView);

export const StoredEvent = Type.Object({
  v: Type.Integer(),
  id: Str(),
  type: Str(),
  time: Str(),
  endpointId: Str(),
  data: Type.Unknown(),
});
export const EventPage = pageOf(StoredEvent);

export const AgentView = Type.Object({
  agentId: Str(),
  endpointId: Str(),
  hostname: Str(),
  hardwareUuid: Nullable(Str()),
  certFingerprint: Str(),
  certNotAfter: Str(),
  enrolledAt: Str(),
  revokedAt: Nullable(Str()),
  enrollSecretName: Nullable(Str()),
  lastSeq: Type.Integer(),
  duplicateOf: Nullable(Str()),
});

export const NameParam = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });

export const EnrollSecretView = Type.Object({ name: Str(), createdAt: Str(), revokedAt: Nullable(Str()) });
export const ApiTokenView = Type.Object({ tokenId: Str(), name: Str(), scope: Str(), createdAt: Str(), revokedAt: Nullable(Str()), lastUsedAt: Nullable(Str()) });
export const Scope = Type.Union([Type.Literal('read'), Type.Literal('admin')]);

/**
 * A preValidation hook refusing query parameters and top-level body fields the route does not
 * define (Fastify's validator would silently drop them, so a misspelt filter would return
 * everything): 400 MCPW_ERR_SCHEMA naming them.
 */
export async function rejectUnknownFields(req: FastifyRequest): Promise<void> {
  const schema = req.routeOptions.schema as { querystring?: unknown; body?: unknown } | undefined;
  const check = (where: string, value: unknown, s: unknown) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
    const allowed = (s as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
    const unknown = Object.keys(value).filter((k) => !(k in allowed));
    if (unknown.length === 0) return;
    const known = Object.keys(allowed);
    throw Errors.schema(`unknown ${where} ${unknown.map((k) => JSON.stringify(k.slice(0, 64))).join(', ')}; this route takes ${known.length ? known.join(', ') : 'none'}`);
  };
  check('query parameter', req.query, schema?.querystring);
  check('body field', req.body, schema?.body);
}

/**
 * A preValidation hook refusing a NUL character in any query parameter or path parameter: 400
 * MCPW_ERR_MALFORMED. PostgreSQL text cannot hold NUL (the query would fail as a 500), and no
 * stored value holds one (ingest stores NUL as U+FFFD), so such a filter could match nothing.
 */
export async function rejectNulCharacters(req: FastifyRequest): Promise<void> {
  const check = (where: string, record: unknown) => {
    if (record === null || typeof record !== 'object') return;
    for (const [k, v] of Object.entries(record)) {
      const values = Array.isArray(v) ? v : [v];
      if (k.includes('\u0000') || values.some((x) => typeof x === 'string' && x.includes('\u0000'))) {
        throw Errors.malformed(`${where} ${JSON.stringify(k.slice(0, 64))} holds a NUL character`);
      }
    }
  };
  check('query parameter', req.query);
  check('path parameter', req.params);
}
