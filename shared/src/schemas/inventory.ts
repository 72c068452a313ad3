/**
 * Records that make up one endpoint's MCP inventory, and the `scan --json` document.
 */
import { Type, type Static } from '@sinclair/typebox';
import { INVENTORY_SCHEMA_ID } from '../protocol/constants.js';
import { ServerEntry } from './server.js';
import { ExtensionRecord } from './extensions.js';
import { CLOSED_OBJECT, NullableStr, OneOf, Str } from './schema-kit.js';

// Re-exported: other packages import CLOSED_OBJECT from here (@mcpwatch/shared).
export { CLOSED_OBJECT };

/** Bounds of the inventory lists (per snapshot / scan document). */
export const INVENTORY_LIMITS = {
  clients: 2_000,
  servers: 20_000,
  processes: 20_000,
  sockets: 20_000,
  findings: 50_000,
  errors: 20_000,
} as const;

export const Severity = OneOf(['info', 'low', 'medium', 'high', 'critical'], { $id: 'Severity' });
export type Severity = Static<typeof Severity>;

export const HostInfo = Type.Object(
  {
    hostname: Str(256),
    platform: OneOf(['darwin', 'win32', 'linux']),
    osRelease: Type.Optional(NullableStr(256)),
    osName: Type.Optional(NullableStr(256)),
    arch: Type.Optional(NullableStr(64)),
    /** Hardware UUID / machine id (systeminformation), when readable. */
    hardwareUuid: Type.Optional(NullableStr(128)),
    serial: Type.Optional(NullableStr(128)),
    /** OS users whose homes were scanned. */
    users: Type.Array(Str(256), { maxItems: 10000 }),
  },
  { $id: 'HostInfo', ...CLOSED_OBJECT },
);
export type HostInfo = Static<typeof HostInfo>;

export const ClientRecord = Type.Object(
  {
    /** Catalog id (claude-desktop, claude-code, cursor, vscode, vscode-insiders, windsurf, zed, ...). */
    client: Str(64),
    displayName: Str(128),
    user: Type.Optional(NullableStr(256)),
    /** Config files of this client that exist (read or not). */
    configPaths: Type.Array(Str(4096), { maxItems: 10000 }),
    serverCount: Type.Integer({ minimum: 0 }),
  },
  { $id: 'ClientRecord', ...CLOSED_OBJECT },
);
export type ClientRecord = Static<typeof ClientRecord>;

export const ProcessRecord = Type.Object(
  {
    pid: Type.Integer({ minimum: 0 }),
    ppid: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
    name: Str(512),
    /** Command line with secret-looking values redacted. */
    cmd: Str(8192),
    user: Type.Optional(NullableStr(256)),
    /** client: an MCP client app; server: an MCP server process. */
    kind: OneOf(['client', 'server']),
    /** Catalog id of the client (for kind=client), or of the client that launched it (kind=server). */
    client: Type.Optional(NullableStr(64)),
    /** serverKey of the configured server this process was matched to. */
    serverKey: Type.Optional(NullableStr(64)),
    /** How a server process was recognised: config match or a name pattern. */
    match: Type.Optional(Type.Union([Type.Literal('config'), Type.Literal('pattern'), Type.Null()])),
    startedAt: Type.Optional(NullableStr(64)),
  },
  { $id: 'ProcessRecord', ...CLOSED_OBJECT },
);
export type ProcessRecord = Static<typeof ProcessRecord>;

export const SocketRecord = Type.Object(
  {
    pid: Type.Integer({ minimum: 0 }),
    processName: Str(512),
    protocol: OneOf(['tcp', 'tcp6', 'udp']),
    localAddress: Str(128),
    localPort: Type.Integer({ minimum: 0, maximum: 65535 }),
    peerAddress: Type.Optional(NullableStr(256)),
    peerPort: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 65535 }), Type.Null()])),
    /** listen: an MCP server's listening socket; remote: a client's connection to a configured remote MCP host. */
    kind: OneOf(['listen', 'remote']),
    /** true when a listening socket is bound to all interfaces (0.0.0.0, ::). */
    allInterfaces: Type.Boolean(),
    serverKey: Type.Optional(NullableStr(64)),
    client: Type.Optional(NullableStr(64)),
  },
  { $id: 'SocketRecord', ...CLOSED_OBJECT },
);
export type SocketRecord = Static<typeof SocketRecord>;

export const Finding = Type.Object(
  {
    /** Stable id: rule + subject (same finding on a re-scan has the same id). */
    id: Str(64),
    ruleId: Str(64),
    severity: Severity,
    title: Str(512),
    description: Str(4096),
    /** What it is about. Never a secret value. */
    subject: Type.Object({
      serverKey: Type.Optional(NullableStr(64)),
      serverName: Type.Optional(NullableStr(512)),
      client: Type.Optional(NullableStr(64)),
      configPath: Type.Optional(NullableStr(4096)),
      pid: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    }, CLOSED_OBJECT),
    /** Where it was seen (e.g. field env.GITHUB_TOKEN, kind github-token). Never the value. */
    evidence: Type.Optional(
      Type.Object({
        field: Type.Optional(NullableStr(1024)),
        kind: Type.Optional(NullableStr(128)),
        detail: Type.Optional(NullableStr(1024)),
      }, CLOSED_OBJECT),
    ),
  },
  { $id: 'Finding', ...CLOSED_OBJECT },
);
export type Finding = Static<typeof Finding>;

export const ConfigError = Type.Object(
  {
    path: Str(4096),
    client: Type.Optional(NullableStr(64)),
    /** A stable code: unreadable, parse, too-large, binary, invalid-entry, ... */
    code: Str(64),
    reason: Str(2048),
    line: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
    column: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
    /** For invalid-entry: the server name whose entry was skipped. */
    entry: Type.Optional(NullableStr(512)),
  },
  { $id: 'ConfigError', ...CLOSED_OBJECT },
);
export type ConfigError = Static<typeof ConfigError>;

/**
 * One endpoint's inventory, the lists bounded by INVENTORY_LIMITS: the properties both the
 * `scan --json` document and the `inventory.snapshot` event carry.
 */
export const INVENTORY_PROPERTIES = {
  host: HostInfo,
  clients: Type.Array(ClientRecord, { maxItems: INVENTORY_LIMITS.clients }),
  servers: Type.Array(ServerEntry, { maxItems: INVENTORY_LIMITS.servers }),
  processes: Type.Array(ProcessRecord, { maxItems: INVENTORY_LIMITS.processes }),
  sockets: Type.Array(SocketRecord, { maxItems: INVENTORY_LIMITS.sockets }),
  findings: Type.Array(Finding, { maxItems: INVENTORY_LIMITS.findings }),
  errors: Type.Array(ConfigError, { maxItems: INVENTORY_LIMITS.errors }),
};

export const InventoryDocument = Type.Object(
  {
    schema: Type.Literal(INVENTORY_SCHEMA_ID),
    generatedAt: Str(64),
    ...INVENTORY_PROPERTIES,
    /** Skills, hooks and plugins (issue 14); absent when the scan did not look for them. */
    extensions: Type.Optional(Type.Array(ExtensionRecord, { maxItems: 2000 })),
  },
  { $id: 'InventoryDocument', ...CLOSED_OBJECT },
);
export type InventoryDocument = Static<typeof InventoryDocument>;
