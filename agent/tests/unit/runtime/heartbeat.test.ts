import { buildHeartbeat } from '../../../src/runtime/heartbeat.js';
import { HeartbeatData, makeEvent, MAX_HEARTBEAT_SOURCE_ERRORS } from '@mcpwatch/shared';
import { schemaErrors, validateEvent } from '../../helpers/schemas.js';
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

  it('carries failing sources bounded to the schema (MAX_HEARTBEAT_SOURCE_ERRORS, string limits) and omits the field when none fail', () => {
    const base = {
      version: '0.1.0', startedAtMs: 0, nowMs: 1000, sample: { cpuPercent: 0, rssBytes: 1 },
      spool: { depth: 0, pendingBytes: 0, diskBytes: 0, segments: 0, droppedRecords: 0, droppedBytes: 0, corruptedRecords: 0, tornTails: 0 },
      lastError: null, intervalsMs: {}, throttled: false, throttleReason: null,
    };
    const many = Array.from({ length: MAX_HEARTBEAT_SOURCE_ERRORS + 5 }, (_, i) => ({ source: `s${i}`, code: 'MCPW_ERR_SOCKET_SOURCE', reason: 'r'.repeat(5000), since: '2026-12-06T10:00:00.000Z' }));

    const failing = buildHeartbeat({ ...base, sourceErrors: many });
    const healthy = buildHeartbeat({ ...base, sourceErrors: [] });

    expect(failing.sourceErrors).toHaveLength(MAX_HEARTBEAT_SOURCE_ERRORS);
    expect(failing.sourceErrors?.[0]?.reason).toHaveLength(1024);
    expect(schemaErrors(validateEvent, makeEvent('agent.heartbeat', 'ep_1', failing))).toBe('');
    expect('sourceErrors' in healthy).toBe(false);
  });
});
