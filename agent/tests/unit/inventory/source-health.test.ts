/**
 * SourceHealth (inventory/source-health.ts): which sources fail poll after poll. A failure is in
 * current() from its first poll; it is persistent only after minPolls consecutive polls AND
 * minDurationMs; a poll that asked the source without an error ends the run; a poll that did not
 * ask it (sockets without MCP processes) changes nothing.
 */
import type { ConfigError } from '@mcpwatch/shared';
import { SourceHealth } from '../../../src/inventory/source-health.js';

const T0 = Date.parse('2026-12-06T10:00:00.000Z');
const sockets: ConfigError = { path: '(sockets)', client: null, code: 'collect-failed', reason: 'MCPW_ERR_SOCKET_SOURCE: netstat -ano exited 1' };
const processes: ConfigError = { path: '(processes)', client: null, code: 'collect-failed', reason: 'ps failed without a code' };
const configError: ConfigError = { path: '/home/u/.cursor/mcp.json', client: 'cursor', code: 'parse-error', reason: 'Unexpected token' };
const ALL = ['processes', 'sockets', 'host'];

describe('SourceHealth', () => {
  it('reports a failing source at once, with its code split from the reason and the start of its run', () => {
    const health = new SourceHealth({ minPolls: 3, minDurationMs: 60_000 });

    health.observe(ALL, [sockets, processes, configError], T0);

    expect(health.current()).toEqual([
      { source: 'processes', code: 'collect-failed', reason: 'ps failed without a code', since: '2026-12-06T10:00:00.000Z' },
      { source: 'sockets', code: 'MCPW_ERR_SOCKET_SOURCE', reason: 'netstat -ano exited 1', since: '2026-12-06T10:00:00.000Z' },
    ]);
    expect(health.persistent(T0)).toEqual([]);
  });

  it('is persistent only with both enough consecutive polls and enough time', () => {
    const health = new SourceHealth({ minPolls: 3, minDurationMs: 60_000 });

    health.observe(ALL, [sockets], T0);
    health.observe(ALL, [sockets], T0 + 10_000);
    health.observe(ALL, [sockets], T0 + 20_000);
    const enoughPollsTooSoon = health.persistent(T0 + 20_000);
    const enoughPollsAndTime = health.persistent(T0 + 60_000);

    expect(enoughPollsTooSoon).toEqual([]);
    expect(enoughPollsAndTime).toEqual([{ source: 'sockets', code: 'MCPW_ERR_SOCKET_SOURCE', reason: 'netstat -ano exited 1', since: '2026-12-06T10:00:00.000Z' }]);
  });

  it('ends the run when the source answers, and starts a new one (new since) when it fails again', () => {
    const health = new SourceHealth({ minPolls: 1, minDurationMs: 0 });
    health.observe(ALL, [sockets], T0);
    expect(health.persistent(T0)).toHaveLength(1);

    health.observe(ALL, [], T0 + 5000);
    expect(health.current()).toEqual([]);
    expect(health.persistent(T0 + 5000)).toEqual([]);

    health.observe(ALL, [sockets], T0 + 10_000);
    expect(health.current()[0]?.since).toBe('2026-12-06T10:00:10.000Z');
  });

  it('keeps the state of a source the poll did not ask', () => {
    const health = new SourceHealth({ minPolls: 2, minDurationMs: 0 });
    health.observe(ALL, [sockets], T0);

    health.observe(['processes', 'host'], [], T0 + 5000);
    health.observe(ALL, [sockets], T0 + 10_000);

    expect(health.persistent(T0 + 10_000).map((f) => f.source)).toEqual(['sockets']);
  });
});
