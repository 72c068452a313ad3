/**
 * The agent's health report: builds `agent.heartbeat` data (shared HeartbeatData) from the
 * process meter, the spool, the shipper, the self-limiter and the watch engine's failing sources
 * (at most MAX_HEARTBEAT_SOURCE_ERRORS, omitted when none). Pure assembly; the runtime decides
 * when (every heartbeatMs, timer unref()'d).
 */
import { MAX_HEARTBEAT_SOURCE_ERRORS, type HeartbeatData, type HeartbeatSourceError } from '@mcpwatch/shared';
import type { SpoolStats } from '../spool/spool.js';
import type { ResourceSample } from './self-limit.js';

export interface HeartbeatInput {
  version: string;
  startedAtMs: number;
  nowMs: number;
  sample: ResourceSample;
  spool: SpoolStats;
  lastError: string | null;
  intervalsMs: Record<string, number>;
  throttled: boolean;
  throttleReason: string | null;
  /** Sources failing at the latest poll; omitted from the data when empty. */
  sourceErrors?: readonly HeartbeatSourceError[];
}

/** HeartbeatData for the inputs; strings bounded to the schema's limits. */
export function buildHeartbeat(i: HeartbeatInput): HeartbeatData {
  const intervalsMs: Record<string, number> = {};
  for (const [k, v] of Object.entries(i.intervalsMs)) intervalsMs[k] = Math.max(0, Math.round(v));
  return {
    version: i.version.slice(0, 64),
    uptimeS: Math.max(0, Math.round((i.nowMs - i.startedAtMs) / 1000)),
    cpuPercent: Math.max(0, i.sample.cpuPercent),
    rssBytes: Math.max(0, Math.round(i.sample.rssBytes)),
    spoolBytes: i.spool.pendingBytes,
    spoolDepth: i.spool.depth,
    droppedCount: i.spool.droppedRecords,
    lastError: i.lastError === null ? null : i.lastError.slice(0, 2048),
    intervalsMs,
    throttled: i.throttled,
    throttleReason: i.throttleReason === null ? null : i.throttleReason.slice(0, 512),
    ...(i.sourceErrors && i.sourceErrors.length > 0
      ? {
          sourceErrors: i.sourceErrors.slice(0, MAX_HEARTBEAT_SOURCE_ERRORS).map((e) => ({
            source: e.source.slice(0, 64),
            code: e.code.slice(0, 64),
            reason: e.reason.slice(0, 1024),
            since: e.since,
          })),
        }
      : {}),
  };
}
