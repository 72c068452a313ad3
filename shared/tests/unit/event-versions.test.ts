import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { EVENT_VERSION, McpEvent, eventVersionsOf, makeEvent } from '../../src/index.js';

const heartbeat = { version: '1', uptimeS: 1, cpuPercent: 0, rssBytes: 1, spoolBytes: 0, spoolDepth: 0, droppedCount: 0, lastError: null, intervalsMs: {}, throttled: false };
const failed = { commandId: 'cmd_1', serverKey: 'sk', reason: 'expired', message: 'too late' };

FormatRegistry.Set('date-time', (v) => !Number.isNaN(Date.parse(v)));

describe('event envelope versions', () => {
  it('stamps new events with the current version', () => {
    expect(makeEvent('agent.heartbeat', 'ep', heartbeat).v).toBe(EVENT_VERSION);
    expect(EVENT_VERSION).toBe(2);
  });

  it('accepts version-1 types as v 1 (agents not yet upgraded) and as v 2', () => {
    const e = makeEvent('agent.heartbeat', 'ep', heartbeat);
    expect(Value.Check(McpEvent, { ...e, v: 1 })).toBe(true);
    expect(Value.Check(McpEvent, { ...e, v: 2 })).toBe(true);
    expect(Value.Check(McpEvent, { ...e, v: 3 })).toBe(false);
    expect(eventVersionsOf('agent.heartbeat')).toEqual([1, 2]);
  });

  it('accepts a type added in version 2 only as v 2', () => {
    const e = makeEvent('command.failed', 'ep', failed as never);
    expect(Value.Check(McpEvent, e)).toBe(true);
    expect(Value.Check(McpEvent, { ...e, v: 1 })).toBe(false);
    expect(eventVersionsOf('command.failed')).toEqual([2]);
  });
});
