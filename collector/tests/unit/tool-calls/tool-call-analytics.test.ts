/**
 * The four tool-call findings, each from a constructed history that should fire it and one that
 * should not, and each naming the baseline it compared against.
 */
import { analyzeToolCalls, type ToolCallRow } from '../../../src/tool-calls/tool-call-analytics.js';

const WINDOW = '2026-06-30T00:00:00.000Z';
const BASELINE = '2026-05-31T00:00:00.000Z';
const opts = { windowStart: WINDOW, baselineStart: BASELINE };

function call(time: string, data: Partial<ToolCallRow> = {}): ToolCallRow {
  return { endpointId: 'ep1', time, client: 'claude-code', user: 'alice', phase: 'pre', server: 'github', tool: 'search_issues', argumentNames: [], decision: 'allow', enforced: true, mode: 'enforce', rule: 'default', calledAt: time, ...data };
}

/** alice's usual pattern: 30 days, 10:00-12:59 UTC, one search call a day per hour. */
const usual: ToolCallRow[] = [];
for (let d = 1; d <= 29; d++) for (const h of [10, 11, 12]) usual.push(call(`2026-06-${String(d).padStart(2, '0')}T${h}:15:00.000Z`));

test('quiet history: a usual call in the window raises nothing', () => {
  expect(analyzeToolCalls([...usual, call('2026-06-30T11:20:00.000Z')], opts)).toEqual([]);
});

test('first-use-high-risk-tool: names the tool and that the baseline had no such call', () => {
  const f = analyzeToolCalls([...usual, call('2026-06-30T11:00:00.000Z', { tool: 'delete_repo' }), call('2026-06-30T11:01:00.000Z', { tool: 'delete_repo' })], opts);
  expect(f).toHaveLength(1);
  expect(f[0]).toMatchObject({ rule: 'first-use-high-risk-tool', server: 'github', tool: 'delete_repo', user: 'alice' });
  expect(f[0]!.baseline).toMatch(/no call of github\/delete_repo by alice@ep1 in the 30 days before the window \(87 calls of other tools seen\)/);
  // the same tool in the baseline: not a first use
  expect(analyzeToolCalls([...usual, call('2026-06-10T11:00:00.000Z', { tool: 'delete_repo' }), call('2026-06-30T11:00:00.000Z', { tool: 'delete_repo' })], opts)).toEqual([]);
});

test('tool-use-outside-usual-hours: an 03:00 call against a 10-12 UTC baseline; no baseline, no finding', () => {
  const f = analyzeToolCalls([...usual, call('2026-06-30T03:10:00.000Z')], opts);
  expect(f.map((x) => x.rule)).toEqual(['tool-use-outside-usual-hours']);
  expect(f[0]!.baseline).toBe('87 calls by alice@ep1 over the 30 days before, at UTC hours 10,11,12; none within an hour of 3');
  expect(analyzeToolCalls([...usual.slice(0, 5), call('2026-06-30T03:10:00.000Z')], opts)).toEqual([]);
  // an hour next to the usual ones is not unusual
  expect(analyzeToolCalls([...usual, call('2026-06-30T09:10:00.000Z')], opts)).toEqual([]);
});

test('tool-call-burst: above max(30, 3 x busiest baseline minute)', () => {
  const burst = Array.from({ length: 31 }, (_, i) => call(`2026-06-30T11:30:${String(i).padStart(2, '0')}.000Z`));
  const f = analyzeToolCalls([...usual, ...burst], opts);
  expect(f.map((x) => x.rule)).toEqual(['tool-call-burst']);
  expect(f[0]!.baseline).toBe('busiest minute of alice@ep1 in the 30 days before: 1 calls; threshold max(30, 3 x 1) = 30');
  expect(f[0]!.evidence).toMatchObject({ calls: 31, minute: '2026-06-30T11:30Z' });
  expect(analyzeToolCalls([...usual, ...burst.slice(0, 30)], opts)).toEqual([]);
});

test('blocked-tool-attempts: three denies of one tool (audit would-be denies count), two do not', () => {
  const deny = (t: string, enforced: boolean) => call(t, { server: 'payments', tool: 'list_invoices', decision: 'deny', enforced, rule: 'blocked-server' });
  const rows = [...usual, deny('2026-06-30T11:00:00.000Z', true), deny('2026-06-30T11:05:00.000Z', false), deny('2026-06-30T11:09:00.000Z', true)];
  const f = analyzeToolCalls(rows, opts).filter((x) => x.rule === 'blocked-tool-attempts');
  expect(f).toHaveLength(1);
  expect(f[0]).toMatchObject({ severity: 'high', evidence: { attempts: 3, enforced: 2, auditOnly: 1 } });
  expect(f[0]!.baseline).toMatch(/threshold 3 denied calls/);
  expect(analyzeToolCalls(rows.slice(0, -1), opts).filter((x) => x.rule === 'blocked-tool-attempts')).toEqual([]);
});
