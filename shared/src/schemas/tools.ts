/**
 * Tool-level visibility (issue 12): the tools an MCP server exposes, as the agent saw them, and
 * the events `tool.added|changed|removed` and `mcp-listener.added|changed|removed` (added in event
 * envelope version 2).
 *
 * Contract:
 * - A tool is identified on an endpoint by (serverId, name). `serverId` is the server's
 *   fingerprint when a config names it, else `listener:<bind>:<port>` for a probed socket server
 *   nobody configured.
 * - Hashes always ship: SHA-256 (hex) of the description, of the canonical JSON of the input
 *   schema and of the annotations, and of the server's `instructions`. The description TEXT only
 *   ships when the endpoint's policy allows it (`description` is absent otherwise): tool
 *   descriptions can be internal and can carry secrets pasted by their authors.
 * - `source` says where the agent learned the tools: `probe` (it asked the server over the
 *   network) or `client-cache` (a client's own cache on disk, path in `sourcePath`).
 */
import { Type, type Static } from '@sinclair/typebox';
import { CLOSED_OBJECT, NullableStr, OneOf, Sha256 } from './schema-kit.js';

const NullableSha256 = Type.Union([Sha256, Type.Null()]);

/** The behaviour hints of the MCP spec (ToolAnnotations); absent hints stay absent. */
export const ToolAnnotationHints = Type.Object(
  {
    readOnlyHint: Type.Optional(Type.Boolean()),
    destructiveHint: Type.Optional(Type.Boolean()),
    idempotentHint: Type.Optional(Type.Boolean()),
    openWorldHint: Type.Optional(Type.Boolean()),
  },
  CLOSED_OBJECT,
);
export type ToolAnnotationHints = Static<typeof ToolAnnotationHints>;

export const TOOL_CAPABILITIES = ['shell-exec', 'file-write', 'network-fetch', 'credential-access'] as const;
export type ToolCapability = (typeof TOOL_CAPABILITIES)[number];

export const ToolRecord = Type.Object(
  {
    serverId: Type.String({ minLength: 1, maxLength: 256 }),
    /** serverKey of the configured entry, when a config names this server. */
    serverKey: Type.Optional(NullableStr(64)),
    serverName: NullableStr(512),
    serverVersion: NullableStr(128),
    protocolVersion: Type.Optional(NullableStr(64)),
    source: OneOf(['probe', 'client-cache']),
    sourcePath: Type.Optional(NullableStr(4096)),
    name: Type.String({ minLength: 1, maxLength: 256 }),
    title: Type.Optional(NullableStr(512)),
    descriptionSha256: NullableSha256,
    inputSchemaSha256: NullableSha256,
    annotationsSha256: NullableSha256,
    annotations: ToolAnnotationHints,
    instructionsSha256: NullableSha256,
    /** Capabilities inferred on the endpoint from name, description, schema and annotations. */
    capabilities: Type.Array(OneOf(TOOL_CAPABILITIES), { maxItems: TOOL_CAPABILITIES.length }),
    /** Only when policy allows shipping descriptions. */
    description: Type.Optional(Type.String({ maxLength: 16_384 })),
  },
  { $id: 'ToolRecord', ...CLOSED_OBJECT },
);
export type ToolRecord = Static<typeof ToolRecord>;

export const TOOL_CHANGE_FIELDS = ['description', 'inputSchema', 'annotations', 'instructions', 'title', 'serverVersion'] as const;

export const ToolChangedData = Type.Composite(
  [
    ToolRecord,
    Type.Object({
      changedFields: Type.Array(OneOf(TOOL_CHANGE_FIELDS), { maxItems: TOOL_CHANGE_FIELDS.length }),
      previousDescriptionSha256: NullableSha256,
      previousInputSchemaSha256: NullableSha256,
      previousServerVersion: NullableStr(128),
    }),
  ],
  CLOSED_OBJECT,
);
export type ToolChangedData = Static<typeof ToolChangedData>;

/**
 * A socket MCP server: a listening TCP socket on the endpoint that answered MCP (or asked for
 * credentials), whether or not a config names it. `serverId` is the configured server's
 * fingerprint, else `listener:<bind>:<port>`.
 */
export const McpListenerRecord = Type.Object(
  {
    serverId: Type.String({ minLength: 1, maxLength: 256 }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    bind: Type.String({ maxLength: 128 }),
    allInterfaces: Type.Boolean(),
    pid: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    user: NullableStr(256),
    processName: Type.String({ maxLength: 512 }),
    serverKey: NullableStr(64),
    configured: Type.Boolean(),
    transport: OneOf(['streamable-http', 'sse']),
    /** Path probed (no host, no query). */
    path: Type.String({ maxLength: 1024 }),
    serverName: NullableStr(512),
    serverVersion: NullableStr(128),
    protocolVersion: NullableStr(64),
    authRequired: Type.Boolean(),
  },
  { $id: 'McpListenerRecord', ...CLOSED_OBJECT },
);
export type McpListenerRecord = Static<typeof McpListenerRecord>;

/** The tool and MCP listener event types (version 2) and the schema of their `data`. */
export const TOOL_EVENT_DATA = {
  'tool.added': ToolRecord,
  'tool.changed': ToolChangedData,
  'tool.removed': ToolRecord,
  'mcp-listener.added': McpListenerRecord,
  'mcp-listener.changed': McpListenerRecord,
  'mcp-listener.removed': McpListenerRecord,
} as const;
