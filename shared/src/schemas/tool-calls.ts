/**
 * Tool calls seen through the clients' hooks (DESIGN.md "Runtime"), and the tool-level policy the
 * hook command applies.
 *
 * `tool.called`: one MCP tool call as the client's hook reported it. Argument NAMES only, never
 * values; the session id is hashed on the endpoint (sha256, first 32 hex), so the collector can
 * group the calls of one session without learning the client's id.
 * `hook.status`: the state of mcpwatch's hook in one client's hook file (installed, missing,
 * tampered), reported when it changes.
 * ToolPolicy: what the collector delivers (in the batch ack) and the agent caches on disk for the
 * hook command; `mode: 'audit'` records the would-be decision and always allows.
 */
import { Type, type Static } from '@sinclair/typebox';

const CLOSED = { additionalProperties: false } as const;

export const TOOL_DECISIONS = ['allow', 'deny', 'ask'] as const;
export type ToolDecision = (typeof TOOL_DECISIONS)[number];

export const HOOK_PHASES = ['pre', 'post'] as const;

/** `data` of `tool.called`. */
export const ToolCalledData = Type.Object(
  {
    /** Client catalog id (claude-code, cursor, gemini-cli, copilot-cli, windsurf). */
    client: Type.String({ minLength: 1, maxLength: 64 }),
    /** The OS user the hook ran as. */
    user: Type.Optional(Type.String({ maxLength: 256 })),
    /** sha256 of the client's session/conversation id, first 32 hex digits. */
    sessionHash: Type.Optional(Type.String({ maxLength: 64 })),
    phase: Type.Union(HOOK_PHASES.map((p) => Type.Literal(p))),
    /** MCP server name as the client names it (from `mcp__<server>__<tool>` or the hook input). */
    server: Type.String({ maxLength: 256 }),
    /** Server fingerprint when the agent could map the name to an inventory entry. */
    serverFingerprint: Type.Optional(Type.String({ maxLength: 128 })),
    /**
     * The name matched several configured servers (two configs, two projects) and none could be
     * chosen: their fingerprints, sorted (serverFingerprint is then absent).
     */
    serverCandidates: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 8 })),
    tool: Type.String({ maxLength: 256 }),
    /** Top-level argument names, sorted; never values. */
    argumentNames: Type.Array(Type.String({ maxLength: 128 }), { maxItems: 64 }),
    decision: Type.Union(TOOL_DECISIONS.map((d) => Type.Literal(d))),
    /** The decision actually returned to the client (audit mode: allow while `decision` is deny). */
    enforced: Type.Boolean(),
    mode: Type.Union([Type.Literal('audit'), Type.Literal('enforce')]),
    /** Which rule decided (`blocked-server`, `blocked-tool`, `not-allowed-server`, `default`, `error`). */
    rule: Type.String({ maxLength: 128 }),
    reason: Type.Optional(Type.String({ maxLength: 512 })),
    /** post phase: how long the call took when the client reports it. */
    durationMs: Type.Optional(Type.Number({ minimum: 0 })),
    /** post phase: whether the tool call succeeded. */
    success: Type.Optional(Type.Boolean()),
    /** When the hook ran (ISO-8601). */
    calledAt: Type.String({ maxLength: 64 }),
    /** Internal error code when the hook failed open/closed (MCPW_ERR_*). */
    error: Type.Optional(Type.String({ maxLength: 128 })),
  },
  CLOSED,
);
export type ToolCalledData = Static<typeof ToolCalledData>;

export const HOOK_STATES = ['installed', 'missing', 'tampered', 'error'] as const;

/** `data` of `hook.status`. */
export const HookStatusData = Type.Object(
  {
    client: Type.String({ minLength: 1, maxLength: 64 }),
    scope: Type.Union([Type.Literal('user'), Type.Literal('managed')]),
    path: Type.String({ maxLength: 4096 }),
    state: Type.Union(HOOK_STATES.map((s) => Type.Literal(s))),
    detail: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  CLOSED,
);
export type HookStatusData = Static<typeof HookStatusData>;

/** One blocked-tool rule: glob patterns (`*` wildcard) over server name and tool name. */
export const ToolPattern = Type.Object(
  {
    server: Type.String({ minLength: 1, maxLength: 256 }),
    tool: Type.String({ minLength: 1, maxLength: 256 }),
  },
  CLOSED,
);

/** Tool-level policy, delivered by the collector and cached by the agent (`tool-policy.json`). */
export const ToolPolicy = Type.Object(
  {
    mode: Type.Union([Type.Literal('audit'), Type.Literal('enforce')]),
    /** Decision when the hook itself fails in enforce mode. Default allow. */
    failMode: Type.Optional(Type.Union([Type.Literal('allow'), Type.Literal('deny')])),
    /** When present, only servers matching one of these (name glob, fingerprint or package) are allowed. */
    allowedServers: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 1000 })),
    /** Servers denied by name glob, fingerprint or package. */
    blockedServers: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 1000 })),
    blockedTools: Type.Optional(Type.Array(ToolPattern, { maxItems: 1000 })),
    /** Tools that need the user's confirmation (answered `ask` where the client supports it). */
    askTools: Type.Optional(Type.Array(ToolPattern, { maxItems: 1000 })),
    /** Who to ask for an exception; shown in every deny. */
    contact: Type.Optional(Type.String({ maxLength: 256 })),
    /** Policy revision, echoed in journal records. */
    revision: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { ...CLOSED, $id: 'ToolPolicy' },
);
export type ToolPolicy = Static<typeof ToolPolicy>;

export const TOOL_CALL_EVENT_DATA = {
  'tool.called': ToolCalledData,
  'hook.status': HookStatusData,
} as const;
