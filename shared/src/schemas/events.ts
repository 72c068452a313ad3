/**
 * The event envelope `{ v, id, type, time, endpointId, data }` and the data of each type.
 * These are the contract between agent and collector (DESIGN.md, "Events").
 *
 * Versions: agents of this release stamp every event `v: 2`. The types of version 1 are accepted
 * as `v: 1` or `v: 2` (agents not yet upgraded keep sending 1); a type added in version 2 is only
 * valid as `v: 2`. A new type is added to EVENT_DATA (and, when it is new in a version, the
 * version is bumped on purpose and the previous types listed in the previous version's list).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ServerEntry } from './server.js';
import { COMMAND_RESULT_EVENT_DATA } from './command.js';
import { TOOL_CALL_EVENT_DATA } from './tool-calls.js';
import { TOOL_EVENT_DATA } from './tools.js';
import { EXTENSION_EVENT_DATA } from './extensions.js';
import { ClientRecord, ConfigError, Finding, INVENTORY_PROPERTIES, ProcessRecord, SocketRecord } from './inventory.js';
import { CLOSED_OBJECT, NullableStr } from './schema-kit.js';

export const EVENT_VERSION = 2;
/** Envelope versions a collector of this release accepts. */
export type EventVersion = 1 | 2;

export const InventorySnapshotData = Type.Object(INVENTORY_PROPERTIES, CLOSED_OBJECT);
export type InventorySnapshotData = Static<typeof InventorySnapshotData>;

export const ServerChangedData = Type.Composite(
  [ServerEntry, Type.Object({ changedFields: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 }) })],
  CLOSED_OBJECT,
);
export type ServerChangedData = Static<typeof ServerChangedData>;

/** At most this many failing sources in one heartbeat (one per process/socket/host-facts source today). */
export const MAX_HEARTBEAT_SOURCE_ERRORS = 16;

/** A process, socket or host-facts source that failed at the agent's latest poll. */
export const HeartbeatSourceError = Type.Object({
  /** Which source: `processes`, `sockets`, `host`. */
  source: Type.String({ minLength: 1, maxLength: 64 }),
  /** Its MCPW_ERR_* code (or the scan's error code when the failure carried none). */
  code: Type.String({ minLength: 1, maxLength: 64 }),
  reason: Type.String({ maxLength: 1024 }),
  /** When this run of consecutive failures began. */
  since: Type.String({ format: 'date-time', maxLength: 64 }),
}, CLOSED_OBJECT);
export type HeartbeatSourceError = Static<typeof HeartbeatSourceError>;

export const HeartbeatData = Type.Object({
  version: Type.String({ maxLength: 64 }),
  uptimeS: Type.Number({ minimum: 0 }),
  cpuPercent: Type.Number({ minimum: 0 }),
  rssBytes: Type.Integer({ minimum: 0 }),
  spoolBytes: Type.Integer({ minimum: 0 }),
  spoolDepth: Type.Integer({ minimum: 0 }),
  droppedCount: Type.Integer({ minimum: 0 }),
  lastError: NullableStr(2048),
  /** Current polling intervals (after any self-limiting). */
  intervalsMs: Type.Record(Type.String(), Type.Integer({ minimum: 0 }), { maxProperties: 64, propertyNames: { maxLength: 64 } }),
  /** true when the agent lengthened its intervals because it went over its CPU/RSS budget. */
  throttled: Type.Boolean(),
  throttleReason: Type.Optional(NullableStr(512)),
  /** Sources failing at the latest poll (absent or empty: every source answered). */
  sourceErrors: Type.Optional(Type.Array(HeartbeatSourceError, { maxItems: MAX_HEARTBEAT_SOURCE_ERRORS })),
}, CLOSED_OBJECT);
export type HeartbeatData = Static<typeof HeartbeatData>;

export const DroppedData = Type.Object({
  count: Type.Integer({ minimum: 0 }),
  bytes: Type.Integer({ minimum: 0 }),
  reason: Type.String({ maxLength: 256 }),
}, CLOSED_OBJECT);
export type DroppedData = Static<typeof DroppedData>;

/** The event types of version 1 and the schema of their `data`. */
export const EVENT_DATA_V1 = {
  'inventory.snapshot': InventorySnapshotData,
  'client.detected': ClientRecord,
  'client.removed': ClientRecord,
  'server.added': ServerEntry,
  'server.changed': ServerChangedData,
  'server.removed': ServerEntry,
  'process.started': ProcessRecord,
  'process.stopped': ProcessRecord,
  'socket.opened': SocketRecord,
  'socket.closed': SocketRecord,
  'finding.raised': Finding,
  'finding.resolved': Finding,
  'config.error': ConfigError,
  'agent.heartbeat': HeartbeatData,
  'agent.dropped': DroppedData,
} as const satisfies Record<string, TSchema>;

/** Every event type and the schema of its `data` (version 1's and those added in version 2). */
export const EVENT_DATA = {
  ...EVENT_DATA_V1,
  // Containment results (schemas/command.ts): the agent reports each command's outcome.
  ...COMMAND_RESULT_EVENT_DATA,
  // Tool inventory (schemas/tools.ts): tool.added|changed|removed.
  ...TOOL_EVENT_DATA,
  // Tool calls through client hooks and hook state (schemas/tool-calls.ts).
  ...TOOL_CALL_EVENT_DATA,
  // Skills, hooks and plugins (schemas/extensions.ts): extension.added|changed|removed.
  ...EXTENSION_EVENT_DATA,
} as const satisfies Record<string, TSchema>;

export type EventType = keyof typeof EVENT_DATA;
export const EVENT_TYPES = Object.keys(EVENT_DATA) as EventType[];
const V1_TYPES: ReadonlySet<string> = new Set(Object.keys(EVENT_DATA_V1));

/** The envelope versions under which events of `type` are valid. */
export function eventVersionsOf(type: string): readonly EventVersion[] {
  return V1_TYPES.has(type) ? [1, 2] : [2];
}

function envelope<T extends EventType>(type: T) {
  return Type.Object({
    v: V1_TYPES.has(type) ? Type.Union([Type.Literal(1), Type.Literal(2)]) : Type.Literal(EVENT_VERSION),
    id: Type.String({ pattern: '^[0-9A-HJKMNP-TV-Z]{26}$' }),
    type: Type.Literal(type),
    time: Type.String({ format: 'date-time', maxLength: 64 }),
    endpointId: Type.String({ minLength: 1, maxLength: 128 }),
    data: EVENT_DATA[type],
  }, CLOSED_OBJECT);
}

export const McpEvent = Type.Union(
  EVENT_TYPES.map((t) => envelope(t)),
  { $id: 'McpEvent' },
);

/** A typed event: `type` narrows `data`. */
export type McpEvent = {
  [K in EventType]: {
    v: EventVersion;
    id: string;
    type: K;
    time: string;
    endpointId: string;
    data: Static<(typeof EVENT_DATA)[K]>;
  };
}[EventType];

export type EventOf<K extends EventType> = Extract<McpEvent, { type: K }>;
