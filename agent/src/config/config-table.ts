/**
 * The agent's configuration as ONE declarative table (STYLE.md habit 9): name, type, default, env
 * var, command-line flag, description. load-config.ts parses every source against this table once
 * and freezes the result. A bad value is warned about and replaced (next source or default) —
 * never fatal, because the agent runs unattended on someone's laptop.
 */
import * as os from 'node:os';
import { hostOs, hostPlatform, isKnownPlatform, osSpec } from '../platform/os.js';

export type ConfigType = 'string' | 'secret' | 'int' | 'number' | 'bool' | 'enum' | 'url';

export interface ConfigSpec {
  type: ConfigType;
  env: string;
  /** Command-line flag without the leading dashes. */
  flag: string;
  description: string;
  min?: number;
  max?: number;
  values?: readonly string[];
}

const MiB = 1024 * 1024;

/** Every setting. Keep alphabetical within groups; defaults live in DEFAULTS below. */
export const CONFIG_TABLE = {
  // enrollment / identity
  server: { type: 'url', env: 'MCPWATCH_SERVER', flag: 'server', description: 'Collector base URL (https; http only for loopback)' },
  enrollSecret: { type: 'secret', env: 'MCPWATCH_ENROLL_SECRET', flag: 'secret', description: 'Enroll secret from the MDM profile or installer (never logged, never stored by the agent)' },
  caFingerprint: { type: 'string', env: 'MCPWATCH_CA_FINGERPRINT', flag: 'ca-fingerprint', description: "SHA-256 fingerprint of the collector's CA to pin (not its server certificate's)" },
  stateDir: { type: 'string', env: 'MCPWATCH_STATE_DIR', flag: 'state-dir', description: 'Directory for keys, certificate, spool and shipper state (owner-only)' },
  certRenewBeforeDays: { type: 'number', env: 'MCPWATCH_CERT_RENEW_BEFORE_DAYS', flag: 'cert-renew-before-days', min: 0, max: 3650, description: 'Re-enroll this many days before the certificate expires' },
  // spool
  spoolMaxBytes: { type: 'int', env: 'MCPWATCH_SPOOL_MAX_BYTES', flag: 'spool-max-bytes', min: 64 * 1024, max: 64 * 1024 * MiB, description: 'Upper bound of the on-disk spool; the oldest events are dropped (and counted) past it' },
  spoolFsync: { type: 'enum', env: 'MCPWATCH_SPOOL_FSYNC', flag: 'spool-fsync', values: ['always', 'interval', 'never'], description: 'When spool appends are fsync-ed' },
  spoolFsyncIntervalMs: { type: 'int', env: 'MCPWATCH_SPOOL_FSYNC_INTERVAL_MS', flag: 'spool-fsync-interval-ms', min: 10, max: 600_000, description: 'fsync period with spoolFsync=interval' },
  // shipping
  batchMaxEvents: { type: 'int', env: 'MCPWATCH_BATCH_MAX_EVENTS', flag: 'batch-max-events', min: 1, max: 5000, description: 'Events per batch at most' },
  batchMaxBytes: { type: 'int', env: 'MCPWATCH_BATCH_MAX_BYTES', flag: 'batch-max-bytes', min: 1024, max: 8 * MiB, description: 'Uncompressed event bytes per batch at most' },
  batchMaxWaitMs: { type: 'int', env: 'MCPWATCH_BATCH_MAX_WAIT_MS', flag: 'batch-max-wait-ms', min: 0, max: 600_000, description: 'Longest an event waits for a batch to fill' },
  retryBaseMs: { type: 'int', env: 'MCPWATCH_RETRY_BASE_MS', flag: 'retry-base-ms', min: 1, max: 600_000, description: 'First retry delay (doubles, jittered)' },
  retryMaxMs: { type: 'int', env: 'MCPWATCH_RETRY_MAX_MS', flag: 'retry-max-ms', min: 1, max: 3_600_000, description: 'Retry delay cap' },
  reconnectJitterMs: { type: 'int', env: 'MCPWATCH_RECONNECT_JITTER_MS', flag: 'reconnect-jitter-ms', min: 0, max: 600_000, description: 'Random delay before the first upload after start or an outage' },
  requestTimeoutMs: { type: 'int', env: 'MCPWATCH_REQUEST_TIMEOUT_MS', flag: 'request-timeout-ms', min: 100, max: 600_000, description: 'HTTP request timeout' },
  // health, inventory, intervals
  heartbeatMs: { type: 'int', env: 'MCPWATCH_HEARTBEAT_MS', flag: 'heartbeat-ms', min: 1000, max: 86_400_000, description: 'Heartbeat period' },
  snapshotEveryHours: { type: 'number', env: 'MCPWATCH_SNAPSHOT_EVERY_HOURS', flag: 'snapshot-every-hours', min: 0.001, max: 720, description: 'Full inventory.snapshot period (one is always sent at start)' },
  processPollMs: { type: 'int', env: 'MCPWATCH_PROCESS_POLL_MS', flag: 'process-poll-ms', min: 500, max: 3_600_000, description: 'Process polling period' },
  sourceFailurePolls: { type: 'int', env: 'MCPWATCH_SOURCE_FAILURE_POLLS', flag: 'source-failure-polls', min: 1, max: 10_000, description: 'A process/socket/host-facts source failing this many consecutive polls (and sourceFailureMs) raises source-unavailable' },
  sourceFailureMs: { type: 'int', env: 'MCPWATCH_SOURCE_FAILURE_MS', flag: 'source-failure-ms', min: 0, max: 86_400_000, description: 'And failing at least this long since its first failed poll' },
  cpuBudgetPercent: { type: 'number', env: 'MCPWATCH_CPU_BUDGET_PERCENT', flag: 'cpu-budget-percent', min: 0.01, max: 100, description: "Agent's own CPU budget (% of one core, averaged over a heartbeat); above it intervals lengthen" },
  rssBudgetMb: { type: 'int', env: 'MCPWATCH_RSS_BUDGET_MB', flag: 'rss-budget-mb', min: 16, max: 16384, description: "Agent's own RSS budget; above it intervals lengthen" },
  lowPriority: { type: 'bool', env: 'MCPWATCH_LOW_PRIORITY', flag: 'low-priority', description: 'Lower the process priority (os.setPriority) in run mode' },
  // tool probing (issue 12)
  probeListeners: { type: 'bool', env: 'MCPWATCH_PROBE_LISTENERS', flag: 'probe-listeners', description: 'Probe local listening TCP sockets for MCP (initialize + list methods only; never calls a tool)' },
  probeOtherListeners: { type: 'bool', env: 'MCPWATCH_PROBE_OTHER_LISTENERS', flag: 'probe-other-listeners', description: 'Also probe listeners of processes not known to be MCP servers (off: only known MCP servers and configured local URLs)' },
  probePollMs: { type: 'int', env: 'MCPWATCH_PROBE_POLL_MS', flag: 'probe-poll-ms', min: 1000, max: 3_600_000, description: 'How often due listeners are probed' },
  probeMaxPerPoll: { type: 'int', env: 'MCPWATCH_PROBE_MAX_PER_POLL', flag: 'probe-max-per-poll', min: 1, max: 100, description: 'Probes per poll at most' },
  toolReprobeMs: { type: 'int', env: 'MCPWATCH_TOOL_REPROBE_MS', flag: 'tool-reprobe-ms', min: 1000, max: 86_400_000, description: 'A known MCP listener is probed again after this long (a changed tool shows within it)' },
  probeRemote: { type: 'bool', env: 'MCPWATCH_PROBE_REMOTE', flag: 'probe-remote', description: 'Also probe configured remote MCP servers that need no credentials (off by default: remote servers are not contacted)' },
  shipToolDescriptions: { type: 'bool', env: 'MCPWATCH_SHIP_TOOL_DESCRIPTIONS', flag: 'ship-tool-descriptions', description: 'Send tool description text to the collector (hashes are always sent; text stays on the endpoint by default)' },
  // client hooks (issue 13)
  hooks: { type: 'enum', env: 'MCPWATCH_HOOKS', flag: 'hooks', values: ['off', 'audit', 'enforce'], description: "Client hooks around MCP tool calls: off (run installs none; hooks installed by `hooks install` are watched and tampering reported, never repaired), audit (kept installed; calls recorded, never denied), enforce (kept installed; the collector's tool policy decides)" },
  hookCheckMs: { type: 'int', env: 'MCPWATCH_HOOK_CHECK_MS', flag: 'hook-check-ms', min: 1000, max: 86_400_000, description: "How often run checks mcpwatch's hook in the clients' hook files (a removed or altered hook shows within it)" },
  logLevel: { type: 'enum', env: 'MCPWATCH_LOG_LEVEL', flag: 'log-level', values: ['error', 'warn', 'info', 'debug'], description: 'stderr log verbosity' },
} as const satisfies Record<string, ConfigSpec>;

export type ConfigKey = keyof typeof CONFIG_TABLE;

/**
 * Settings that are still accepted (flag, env var, config file, managed place) but no longer do
 * anything: each is warned about once with its reason, never an error, so an older installer or
 * MDM profile keeps working.
 */
export const DEPRECATED_SETTINGS: Readonly<Record<string, { env: string; flag: string; reason: string }>> = Object.freeze({
  // Decided: sockets are read in the process poll, scoped to the MCP processes that poll has just
  // found; a socket poll of its own would read the sockets of a stale process list.
  socketPollMs: { env: 'MCPWATCH_SOCKET_POLL_MS', flag: 'socket-poll-ms', reason: 'sockets are read with every process poll; set processPollMs instead' },
});

export interface AgentConfig {
  server: string | null;
  enrollSecret: string | null;
  caFingerprint: string | null;
  stateDir: string;
  certRenewBeforeDays: number;
  spoolMaxBytes: number;
  spoolFsync: 'always' | 'interval' | 'never';
  spoolFsyncIntervalMs: number;
  batchMaxEvents: number;
  batchMaxBytes: number;
  batchMaxWaitMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  reconnectJitterMs: number;
  requestTimeoutMs: number;
  heartbeatMs: number;
  snapshotEveryHours: number;
  processPollMs: number;
  sourceFailurePolls: number;
  sourceFailureMs: number;
  cpuBudgetPercent: number;
  rssBudgetMb: number;
  lowPriority: boolean;
  probeListeners: boolean;
  probeOtherListeners: boolean;
  probePollMs: number;
  probeMaxPerPoll: number;
  toolReprobeMs: number;
  probeRemote: boolean;
  shipToolDescriptions: boolean;
  hooks: 'off' | 'audit' | 'enforce';
  hookCheckMs: number;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
}

/** Where the agent keeps its state when nothing says otherwise. */
export function defaultStateDir(platform: string = hostPlatform(), env: NodeJS.ProcessEnv = process.env, isRoot?: boolean): string {
  const spec = isKnownPlatform(platform) ? osSpec(platform) : hostOs();
  // Privilege is this machine's, asked only by an OS whose default depends on it.
  return spec.defaultStateDir(env, () => isRoot ?? hostOs().isPrivileged(env), os.homedir());
}

/** Defaults of every key. */
export function configDefaults(platform: string = hostPlatform(), env: NodeJS.ProcessEnv = process.env): AgentConfig {
  return {
    server: null,
    enrollSecret: null,
    caFingerprint: null,
    stateDir: defaultStateDir(platform, env),
    certRenewBeforeDays: 7,
    spoolMaxBytes: 100 * MiB,
    spoolFsync: 'interval',
    spoolFsyncIntervalMs: 1000,
    batchMaxEvents: 500,
    batchMaxBytes: MiB,
    batchMaxWaitMs: 100,
    retryBaseMs: 1000,
    retryMaxMs: 60_000,
    reconnectJitterMs: 5000,
    requestTimeoutMs: 15_000,
    heartbeatMs: 60_000,
    snapshotEveryHours: 6,
    processPollMs: 5000,
    sourceFailurePolls: 3,
    sourceFailureMs: 600_000,
    cpuBudgetPercent: 0.5,
    rssBudgetMb: 80,
    lowPriority: true,
    probeListeners: true,
    probeOtherListeners: true,
    probePollMs: 30_000,
    probeMaxPerPoll: 4,
    toolReprobeMs: 60_000,
    probeRemote: false,
    shipToolDescriptions: false,
    hooks: 'off',
    hookCheckMs: 60_000,
    logLevel: 'warn',
  };
}
