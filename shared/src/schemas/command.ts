/**
 * Containment commands (collector -> agent, in the batch ack) and the events that report their
 * results (agent -> collector). DESIGN.md, "Commands".
 *
 * A command is one JSON object, signed by the collector (command-signing.ts) with the key the
 * agent pinned at enrollment (the collector's CA, `caCertificate` in the enroll reply). The agent
 * refuses, and reports with `command.failed`, any command that: does not match this schema, is
 * not for its endpoint, is expired (`expiresAt` passed), repeats a nonce or id it has seen, or
 * whose signature does not verify.
 */
import { Type, type Static } from '@sinclair/typebox';
import { CLOSED_OBJECT, OneOf } from './schema-kit.js';

export const COMMAND_ACTIONS = ['quarantine', 'restore'] as const;
export type CommandAction = (typeof COMMAND_ACTIONS)[number];

/** The signed fields of a command, in signing order (see commandSigningString). */
export const UnsignedCommand = Type.Object(
  {
    /** `cmd_` + ULID; unique per command. */
    id: Type.String({ minLength: 1, maxLength: 64 }),
    endpointId: Type.String({ minLength: 1, maxLength: 128 }),
    action: OneOf(COMMAND_ACTIONS),
    /** The server entry on that endpoint (serverKey from the inventory). */
    serverKey: Type.String({ minLength: 1, maxLength: 256 }),
    /** ISO-8601 UTC, when the collector issued it. */
    issuedAt: Type.String({ format: 'date-time', maxLength: 64 }),
    /** ISO-8601 UTC; the agent refuses the command after this. */
    expiresAt: Type.String({ format: 'date-time', maxLength: 64 }),
    /** 128 random bits, base64url; the agent refuses a nonce it has seen. */
    nonce: Type.String({ minLength: 16, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
  },
  CLOSED_OBJECT,
);
export type UnsignedCommand = Static<typeof UnsignedCommand>;

export const SignedCommand = Type.Object(
  {
    ...UnsignedCommand.properties,
    /** Base64 RSA-PSS-SHA256 (salt 32) over commandSigningString(fields), by the collector's CA key. */
    signature: Type.String({ minLength: 1, maxLength: 2048 }),
  },
  { ...CLOSED_OBJECT, $id: 'SignedCommand' },
);
export type SignedCommand = Static<typeof SignedCommand>;

/** Bounds on what one ack carries. */
export const MAX_COMMANDS_PER_ACK = 20;

/** `data` of `server.quarantined` and `server.restored`. */
export const CommandResultData = Type.Object(
  {
    commandId: Type.String({ minLength: 1, maxLength: 64 }),
    serverKey: Type.String({ minLength: 1, maxLength: 256 }),
    configPath: Type.Optional(Type.String({ maxLength: 4096 })),
    /** restore only: `exact` (original bytes back) or `reinserted` (the entry put back in a changed file). */
    mode: Type.Optional(Type.String({ maxLength: 32 })),
  },
  CLOSED_OBJECT,
);
export type CommandResultData = Static<typeof CommandResultData>;

/** Why a command failed on the endpoint. */
export const COMMAND_FAILURE_REASONS = [
  'signature-invalid',
  'wrong-endpoint',
  'expired',
  'replayed',
  'unknown-server',
  'file-changed',
  'unsupported-format',
  'permission',
  'error',
] as const;

/** `data` of `command.failed`. */
export const CommandFailedData = Type.Object(
  {
    commandId: Type.String({ minLength: 1, maxLength: 64 }),
    serverKey: Type.Optional(Type.String({ maxLength: 256 })),
    reason: OneOf(COMMAND_FAILURE_REASONS),
    message: Type.String({ maxLength: 1024 }),
  },
  CLOSED_OBJECT,
);
export type CommandFailedData = Static<typeof CommandFailedData>;

/** The event types that report a command's outcome, and their data schemas. */
export const COMMAND_RESULT_EVENT_DATA = {
  'server.quarantined': CommandResultData,
  'server.restored': CommandResultData,
  'command.failed': CommandFailedData,
} as const;
export type CommandResultEventType = keyof typeof COMMAND_RESULT_EVENT_DATA;
