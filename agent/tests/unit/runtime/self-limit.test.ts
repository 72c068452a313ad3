import { ProcessMeter, SelfLimiter } from '../../../src/runtime/self-limit.js';

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
