import { effectivePolicy, policyChanged, rulesOptionsOf, rulesPolicyChanged } from '../../src/rules/policy.js';
import { ProcessMeter, SelfLimiter } from '../../src/runtime/self-limit.js';
import { buildHeartbeat } from '../../src/runtime/heartbeat.js';
import { backoffDelayMs, parseRetryAfter, reconnectJitterMs } from '../../src/ship/retry.js';
import { splitConfigArgs } from '../../src/config/config-argv.js';
import { HeartbeatData } from '@mcpwatch/shared';
import { Value } from '@sinclair/typebox/value';

const local = { processPollMs: 5000, heartbeatMs: 60_000, snapshotEveryHours: 6 };

describe('policy', () => {
  it('takes served settings over local defaults and ignores out-of-bound values', () => {
    const p = effectivePolicy(local, { processPollMs: 9000, heartbeatMs: 10, snapshotEveryHours: 1, disabledRules: ['a'], allowServers: ['srv'] });
    expect(p).toMatchObject({ processPollMs: 9000, heartbeatMs: 60_000, snapshotEveryHours: 1 });
    expect([...p.disabledRules]).toEqual(['a']);
    expect(policyChanged(p, effectivePolicy(local, { processPollMs: 9000, snapshotEveryHours: 1, disabledRules: ['a'], allowServers: ['srv'] }))).toBe(false);
    expect(policyChanged(p, effectivePolicy(local, null))).toBe(true);
  });

  it('hands rule switches and allow-lists to the rules engine (the one place they apply) and says when findings need evaluating again', () => {
    const p = effectivePolicy(local, { disabledRules: ['unpinned-package'], allowServers: ['trusted', 'fp-allowed'] });
    expect(rulesOptionsOf(p)).toEqual({ disabledRules: ['unpinned-package'], allowServers: ['trusted', 'fp-allowed'] });
    expect(rulesOptionsOf(effectivePolicy(local, null))).toEqual({ disabledRules: [], allowServers: [] });
    expect(rulesPolicyChanged(p, effectivePolicy(local, { disabledRules: ['unpinned-package'], allowServers: ['fp-allowed', 'trusted'], processPollMs: 9000 }))).toBe(false);
    expect(rulesPolicyChanged(p, effectivePolicy(local, { disabledRules: ['unpinned-package'], allowServers: ['trusted'] }))).toBe(true);
    expect(rulesPolicyChanged(p, effectivePolicy(local, { allowServers: ['trusted', 'fp-allowed'] }))).toBe(true);
  });
});

describe('self-limits', () => {
  it('lengthens intervals over budget, caps the factor, and relaxes when comfortably under', () => {
    const l = new SelfLimiter({ cpuBudgetPercent: 0.5, rssBudgetMb: 80 });
    const MB = 1024 * 1024;
    expect(l.evaluate({ cpuPercent: 0.2, rssBytes: 50 * MB })).toMatchObject({ factor: 1, throttled: false, changed: false });
    const over = l.evaluate({ cpuPercent: 2, rssBytes: 50 * MB });
    expect(over).toMatchObject({ factor: 2, throttled: true, changed: true });
    expect(over.reason).toMatch(/CPU 2.00% > budget 0.5%: intervals x2/);
    expect(l.evaluate({ cpuPercent: 0.1, rssBytes: 120 * MB }).reason).toMatch(/RSS 120 MB > budget 80 MB/);
    for (let i = 0; i < 5; i++) l.evaluate({ cpuPercent: 3, rssBytes: 50 * MB });
    expect(l.current().factor).toBe(8);
    expect(l.evaluate({ cpuPercent: 0.4, rssBytes: 50 * MB }).factor).toBe(8); // under budget but not by half: hold
    expect(l.evaluate({ cpuPercent: 0.1, rssBytes: 50 * MB }).factor).toBe(4);
    l.evaluate({ cpuPercent: 0.1, rssBytes: 50 * MB });
    expect(l.evaluate({ cpuPercent: 0.1, rssBytes: 50 * MB })).toMatchObject({ factor: 1, throttled: false, reason: null });
  });

  it('measures CPU % of one core between samples', () => {
    let cpuUs = 0;
    let wall = 0;
    const m = new ProcessMeter(() => cpuUs, () => 42, () => wall);
    cpuUs = 50_000; // 50 ms CPU
    wall = 10_000; // in 10 s
    expect(m.sample()).toEqual({ cpuPercent: 0.5, rssBytes: 42 });
    wall = 20_000;
    expect(m.sample().cpuPercent).toBe(0);
  });
});

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

describe('retry', () => {
  it('backs off exponentially with jitter, capped, never under Retry-After', () => {
    const o = { baseMs: 1000, maxMs: 8000 };
    expect(backoffDelayMs(0, { ...o, random: () => 0 })).toBe(500);
    expect(backoffDelayMs(0, { ...o, random: () => 0.999 })).toBe(999);
    expect(backoffDelayMs(3, { ...o, random: () => 0.999 })).toBe(7996);
    expect(backoffDelayMs(30, { ...o, random: () => 0.999 })).toBeLessThanOrEqual(8000);
    expect(backoffDelayMs(0, { ...o, random: () => 0 }, 30_000)).toBe(30_000);
    expect(backoffDelayMs(0, { ...o, random: () => 0.5 }, 30_000)).toBe(32_500);
    expect(backoffDelayMs(0, { ...o, random: () => 0 }, 10 * 3600_000)).toBe(600_000);
    expect(reconnectJitterMs(2000, () => 0.25)).toBe(500);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('7', 0)).toBe(7000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(10_000);
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });
});

describe('config argv', () => {
  it('splits config flags from scan flags', () => {
    expect(splitConfigArgs(['--state-dir', '/s', '--home', '/h', '--low-priority', '--heartbeat-ms=5000', '--platform', 'linux', '--low-priority', 'false'])).toEqual({
      config: { 'state-dir': '/s', 'low-priority': 'false', 'heartbeat-ms': '5000' },
      rest: ['--home', '/h', '--platform', 'linux'],
    });
    expect(() => splitConfigArgs(['--server'])).toThrow(expect.objectContaining({ code: 'MCPW_ERR_USAGE' }));
  });
});
