/**
 * A batch of events as the agent sends it (gzip-compressed JSON), and the enrollment exchange.
 */
import { Type, type Static } from '@sinclair/typebox';
import { MAX_COMMANDS_PER_ACK, SignedCommand } from './command.js';
import { McpEvent } from './events.js';
import { CLOSED_OBJECT, HostInfo } from './inventory.js';
import { ToolPolicy } from './tool-calls.js';

export const MAX_EVENTS_PER_BATCH = 5000;

export const Batch = Type.Object(
  {
    agentId: Type.String({ minLength: 1, maxLength: 128 }),
    seq: Type.Integer({ minimum: 1 }),
    /** sha256 hex of the previous batch's uncompressed body; '' for seq 1. */
    prevHash: Type.String({ pattern: '^([0-9a-f]{64})?$' }),
    sentAt: Type.String({ maxLength: 64 }),
    events: Type.Array(McpEvent, { maxItems: MAX_EVENTS_PER_BATCH }),
  },
  { $id: 'Batch', ...CLOSED_OBJECT },
);
export type Batch = Omit<Static<typeof Batch>, 'events'> & { events: McpEvent[] };

export const EnrollRequest = Type.Object(
  {
    /** PEM PKCS#10 certificate signing request made with node-forge. */
    csr: Type.String({ minLength: 100, maxLength: 16384 }),
    host: HostInfo,
    agentVersion: Type.String({ maxLength: 64 }),
  },
  { $id: 'EnrollRequest', ...CLOSED_OBJECT },
);
export type EnrollRequest = Static<typeof EnrollRequest>;

/** Settings the collector serves to agents (policy), applied without restart. */
export const AgentSettings = Type.Object(
  {
    processPollMs: Type.Optional(Type.Integer({ minimum: 1000 })),
    /** Deprecated, ignored by agents: sockets are read with every process poll (processPollMs). Kept so a served value stays valid. */
    socketPollMs: Type.Optional(Type.Integer({ minimum: 1000 })),
    heartbeatMs: Type.Optional(Type.Integer({ minimum: 5000 })),
    snapshotEveryHours: Type.Optional(Type.Number({ minimum: 0.01 })),
    disabledRules: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1000 })),
    allowServers: Type.Optional(Type.Array(Type.String({ maxLength: 512 }), { maxItems: 10_000 })),
    /** Tool-level policy for the client hooks (schemas/tool-calls.ts); cached by the agent for `mcpwatch-agent hook`. */
    toolPolicy: Type.Optional(ToolPolicy),
    /** Tool probing policy (issue 12); each switch overrides the agent's local setting of the same name. */
    toolProbing: Type.Optional(Type.Object({
      probeListeners: Type.Optional(Type.Boolean()),
      probeOtherListeners: Type.Optional(Type.Boolean()),
      probeRemote: Type.Optional(Type.Boolean()),
      shipToolDescriptions: Type.Optional(Type.Boolean()),
    }, { additionalProperties: false })),
  },
  { $id: 'AgentSettings' },
);
export type AgentSettings = Static<typeof AgentSettings>;

/** The collector's answer to an accepted (or identical re-sent) batch; `settings` is the policy
 * the agent applies without a restart (optional: older collectors send only `acked`); `commands`
 * are signed containment commands for this endpoint (absent when none are pending). */
export const BatchAck = Type.Object(
  {
    acked: Type.Integer({ minimum: 1 }),
    settings: Type.Optional(AgentSettings),
    commands: Type.Optional(Type.Array(SignedCommand, { maxItems: MAX_COMMANDS_PER_ACK })),
  },
  { $id: 'BatchAck' },
);
export type BatchAck = Static<typeof BatchAck>;

export const EnrollResponse = Type.Object(
  {
    agentId: Type.String({ maxLength: 128 }),
    endpointId: Type.String({ maxLength: 128 }),
    certificate: Type.String({ maxLength: 65536 }),
    caCertificate: Type.String({ maxLength: 65536 }),
    settings: AgentSettings,
  },
  { $id: 'EnrollResponse' },
);
export type EnrollResponse = Static<typeof EnrollResponse>;
