/**
 * A configured MCP server, normalized from any client's config format.
 * Never carries secret values: env and header NAMES only; URLs without userinfo or secret query
 * values; secret-looking arguments replaced by REDACTED.
 */
import { Type, type Static } from '@sinclair/typebox';


export const ServerTransport = Type.Union(
  [Type.Literal('stdio'), Type.Literal('sse'), Type.Literal('http'), Type.Literal('ws'), Type.Literal('unknown')],
  { $id: 'ServerTransport' },
);
export type ServerTransport = Static<typeof ServerTransport>;

export const ConfigScope = Type.Union([
  Type.Literal('user'),
  Type.Literal('profile'),
  Type.Literal('project'),
  Type.Literal('workspace'),
  Type.Literal('plugin'),
  Type.Literal('managed'),
]);
export type ConfigScope = Static<typeof ConfigScope>;

export const PackageIdentity = Type.Object(
  {
    /** npm, pypi, oci (container image), or local (a script path). */
    ecosystem: Type.Union([Type.Literal('npm'), Type.Literal('pypi'), Type.Literal('oci'), Type.Literal('local')]),
    name: Type.String({ maxLength: 512 }),
    /** Version or tag as written; null when none was given. */
    version: Type.Union([Type.String({ maxLength: 256 }), Type.Null()]),
    /** true only for an exact version (npm 1.2.3, pypi ==1.2.3) or an image digest. */
    pinned: Type.Boolean(),
    /** OCI digest (sha256:...) when given. */
    digest: Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Null()])),
    /** The launcher that fetches it: npx, bunx, pnpm, yarn, uvx, pipx, uv, docker, podman, ... */
    runner: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
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
export const EffectiveState = Type.Union([
  Type.Literal('active'),
  Type.Literal('disabled'),
  Type.Literal('blocked-by-policy'),
  Type.Literal('shadowed'),
  Type.Literal('not-loaded'),
]);
export type EffectiveState = Static<typeof EffectiveState>;

export const ServerEntry = Type.Object(
  {
    /** Catalog id of the client whose config holds it (claude-desktop, cursor, vscode, ...). */
    client: Type.String({ maxLength: 64 }),
    scope: ConfigScope,
    configPath: Type.String({ maxLength: 4096 }),
    /** Owner of the config (OS user name) when known. */
    user: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
    /** Project folder the entry applies to (project/workspace scope). */
    projectPath: Type.Optional(Type.Union([Type.String({ maxLength: 4096 }), Type.Null()])),
    name: Type.String({ maxLength: 512 }),
    transport: ServerTransport,
    command: Type.Union([Type.String({ maxLength: 4096 }), Type.Null()]),
    args: Type.Array(Type.String({ maxLength: 8192 }), { maxItems: 512 }),
    url: Type.Union([Type.String({ maxLength: 4096 }), Type.Null()]),
    envKeys: Type.Array(Type.String({ maxLength: 512 }), { maxItems: 512 }),
    headerKeys: Type.Array(Type.String({ maxLength: 512 }), { maxItems: 512 }),
    cwd: Type.Union([Type.String({ maxLength: 4096 }), Type.Null()]),
    disabled: Type.Boolean(),
    package: Type.Union([PackageIdentity, Type.Null()]),
    /** Bridge/wrapper seen through (mcp-remote, supergateway, cmd /c, docker mcp gateway, ...). */
    wrapper: Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Null()])),
    /** Remote URL a stdio bridge forwards to (stripped like `url`). */
    remoteUrl: Type.Optional(Type.Union([Type.String({ maxLength: 4096 }), Type.Null()])),
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
