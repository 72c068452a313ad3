import { buildHeartbeat } from '../../../src/runtime/heartbeat.js';
import { HeartbeatData } from '@mcpwatch/shared';
import { Value } from '@sinclair/typebox/value';

describe('heartbeat', () => {
  it('builds data that validates against the shared HeartbeatData schema', () => {
    const data = buildHeartbeat({
      version: '0.1.0',
      startedAtMs: 1000,
      nowMs: 61_000,
      sample: { cpuPercent: 0.3, rssBytes: 50_000_000.4 },
      spool: { depth: 3, pendingBytes: 900, diskBytes: 2000, segments: 1, droppedRecords: 7, droppedBytes: 1, corruptedRecords: 0, tornTails: 0 },
      lastError: 'x'.repeat(5000),
      intervalsMs: { processPollMs: 5000.6 },
      throttled: false,
      throttleReason: null,
    });
    expect(Value.Check(HeartbeatData, data)).toBe(true);
    expect(data).toMatchObject({ uptimeS: 60, spoolDepth: 3, spoolBytes: 900, droppedCount: 7, intervalsMs: { processPollMs: 5001 } });
    expect(data.lastError).toHaveLength(2048);
  });
});
