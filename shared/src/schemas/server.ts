/**
 * A configured MCP server, normalized from any client's config format.
 * Never carries secret values: env and header NAMES only; URLs without userinfo or secret query
 * values; secret-looking arguments replaced by REDACTED.
 */
import { Type, type Static } from '@sinclair/typebox';
import { NullableStr, OneOf } from './schema-kit.js';

export const SERVER_TRANSPORTS = ['stdio', 'sse', 'http', 'ws', 'unknown'] as const;
export const ServerTransport = OneOf(SERVER_TRANSPORTS, { $id: 'ServerTransport' });
export type ServerTransport = Static<typeof ServerTransport>;

export const CONFIG_SCOPES = ['user', 'profile', 'project', 'workspace', 'plugin', 'managed'] as const;
export const ConfigScope = OneOf(CONFIG_SCOPES);
export type ConfigScope = Static<typeof ConfigScope>;

export const PackageIdentity = Type.Object(
  {
    /** npm, pypi, oci (container image), or local (a script path). */
    ecosystem: OneOf(['npm', 'pypi', 'oci', 'local']),
    name: Type.String({ maxLength: 512 }),
    /** Version or tag as written; null when none was given. */
    version: NullableStr(256),
    /** true only for an exact version (npm 1.2.3, pypi ==1.2.3) or an image digest. */
    pinned: Type.Boolean(),
    /** OCI digest (sha256:...) when given. */
    digest: Type.Optional(NullableStr(128)),
    /** The launcher that fetches it: npx, bunx, pnpm, yarn, uvx, pipx, uv, docker, podman, ... */
    runner: Type.Optional(NullableStr(64)),
  },
  { $id: 'PackageIdentity', additionalProperties: false },
);
export type PackageIdentity = Static<typeof PackageIdentity>;

/**
 * Whether a configured server is in effect, as its client would decide (issue 14): active; disabled
 * (its own flag, or a client setting); blocked-by-policy (managed policy: an exclusive
 * managed-mcp.json, a deny/allow list); shadowed (a same-named entry that wins in the same place);
 * not-loaded (the client would not start it: a project server never approved).
 */
export const EFFECTIVE_STATES = ['active', 'disabled', 'blocked-by-policy', 'shadowed', 'not-loaded'] as const;
export const EffectiveState = OneOf(EFFECTIVE_STATES);
export type EffectiveState = Static<typeof EffectiveState>;

export const ServerEntry = Type.Object(
  {
    /** Catalog id of the client whose config holds it (claude-desktop, cursor, vscode, ...). */
    client: Type.String({ maxLength: 64 }),
    scope: ConfigScope,
    configPath: Type.String({ maxLength: 4096 }),
    /** Owner of the config (OS user name) when known. */
    user: Type.Optional(NullableStr(256)),
    /** Project folder the entry applies to (project/workspace scope). */
    projectPath: Type.Optional(NullableStr(4096)),
    name: Type.String({ maxLength: 512 }),
    transport: ServerTransport,
    command: NullableStr(4096),
    args: Type.Array(Type.String({ maxLength: 8192 }), { maxItems: 512 }),
    url: NullableStr(4096),
    envKeys: Type.Array(Type.String({ maxLength: 512 }), { maxItems: 512 }),
    headerKeys: Type.Array(Type.String({ maxLength: 512 }), { maxItems: 512 }),
    cwd: NullableStr(4096),
    disabled: Type.Boolean(),
    package: Type.Union([PackageIdentity, Type.Null()]),
    /** Bridge/wrapper seen through (mcp-remote, supergateway, cmd /c, docker mcp gateway, ...). */
    wrapper: Type.Optional(NullableStr(128)),
    /** Remote URL a stdio bridge forwards to (stripped like `url`). */
    remoteUrl: Type.Optional(NullableStr(4096)),
    serverKey: Type.String({ minLength: 8, maxLength: 64 }),
    fingerprint: Type.String({ minLength: 8, maxLength: 64 }),
    /** What is in effect (absent from agents before issue 14: read as active unless disabled). */
    effective: Type.Optional(EffectiveState),
    /** Why, in words a person can check (names the file or setting that decided it). */
    effectiveReason: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { $id: 'ServerEntry', additionalProperties: false },
);
export type ServerEntry = Static<typeof ServerEntry>;
