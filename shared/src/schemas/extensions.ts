/**
 * Extensions that run code (issue 14): skills, hooks and plugins a client loads besides MCP
 * servers, and the events `extension.added|changed|removed` (added in event envelope version 2).
 *
 * Contract:
 * - An extension is identified on an endpoint by `extensionKey` (SHA-256 of client, kind, scope,
 *   user, path and, for hooks, event, matcher and index): stable across scans while it stays put.
 * - `contentSha256` is the SHA-256 over the extension's files (sorted relative paths and bytes)
 *   for skills and plugins, over the hook definition for hooks; file contents never ship.
 * - Hook commands ship redacted like server commands (secret-looking values replaced on the
 *   endpoint); `runsCommand` says the extension can start a process (a command hook, a skill or
 *   plugin that ships scripts).
 */
import { Type, type Static } from '@sinclair/typebox';
import { CLOSED_OBJECT, NullableStr, OneOf, Sha256 } from './schema-kit.js';
import { ConfigScope } from './server.js';

export const EXTENSION_KINDS = ['skill', 'hook', 'plugin'] as const;
export type ExtensionKind = (typeof EXTENSION_KINDS)[number];

export const ExtensionRecord = Type.Object(
  {
    extensionKey: Type.String({ minLength: 8, maxLength: 64 }),
    client: Type.String({ maxLength: 64 }),
    kind: OneOf(EXTENSION_KINDS),
    scope: ConfigScope,
    user: Type.Optional(NullableStr(256)),
    projectPath: Type.Optional(NullableStr(4096)),
    /** The skill or plugin folder, or the settings file holding the hook. */
    path: Type.String({ maxLength: 4096 }),
    name: Type.String({ maxLength: 512 }),
    /** Declared version (plugin.json / SKILL.md front matter), when there is one. */
    version: NullableStr(128),
    contentSha256: Sha256,
    fileCount: Type.Integer({ minimum: 0 }),
    /** Can start a process: a command hook, or a skill / plugin shipping scripts. */
    runsCommand: Type.Boolean(),
    /** Hooks: the client event (PreToolUse, beforeShellExecution, ...), matcher and redacted command. */
    hookEvent: Type.Optional(NullableStr(128)),
    hookMatcher: Type.Optional(NullableStr(512)),
    hookCommand: Type.Optional(NullableStr(4096)),
  },
  { $id: 'ExtensionRecord', ...CLOSED_OBJECT },
);
export type ExtensionRecord = Static<typeof ExtensionRecord>;

export const ExtensionChangedData = Type.Composite(
  [
    ExtensionRecord,
    Type.Object({
      previousContentSha256: Sha256,
      previousVersion: NullableStr(128),
      /** The content changed while the declared version stayed the same. */
      changedWithoutVersionChange: Type.Boolean(),
    }),
  ],
  CLOSED_OBJECT,
);
export type ExtensionChangedData = Static<typeof ExtensionChangedData>;

/** The extension event types (version 2) and the schema of their `data`. */
export const EXTENSION_EVENT_DATA = {
  'extension.added': ExtensionRecord,
  'extension.changed': ExtensionChangedData,
  'extension.removed': ExtensionRecord,
} as const;
export type ExtensionEventType = keyof typeof EXTENSION_EVENT_DATA;
