/**
 * Explainable analytics over MCP tool calls (issue 13): four findings, each naming the baseline it
 * compared against, so an analyst can see why it fired and argue with it.
 *
 *   first-use-high-risk-tool       a high-risk tool (name matches HIGH_RISK_TOOL) called in the
 *                                  window by a user@endpoint that never called it in the baseline
 *   tool-use-outside-usual-hours   a call at an hour (UTC) in which that user@endpoint made no call
 *                                  in the baseline, nor in the hour before or after (needs
 *                                  minBaselineCalls baseline calls, else no finding: no baseline)
 *   tool-call-burst                more calls in one minute than max(minBurst, burstFactor x the
 *                                  busiest minute of that user@endpoint in the baseline)
 *   blocked-tool-attempts          denyThreshold or more denied calls (enforced, or audit's
 *                                  would-be deny) of one tool by one user@endpoint in the window
 *
 * Pure: calls in, findings out (newest window last); no I/O, deterministic for the same input.
 */
import type { ToolCalledData } from '@mcpwatch/shared';

export interface ToolCallRow extends ToolCalledData {
  endpointId: string;
  /** Event time (ISO). */
  time: string;
}

export const ANALYTICS_RULES = ['first-use-high-risk-tool', 'tool-use-outside-usual-hours', 'tool-call-burst', 'blocked-tool-attempts'] as const;
export type AnalyticsRule = (typeof ANALYTICS_RULES)[number];

export interface AnalyticsFinding {
  rule: AnalyticsRule;
  severity: 'low' | 'medium' | 'high';
  endpointId: string;
  user: string | null;
  server: string;
  tool: string | null;
  /** When it happened (the first call that made it fire). */
  at: string;
  title: string;
  /** The baseline the finding compared against, in words. */
  baseline: string;
  evidence: Record<string, unknown>;
}

export interface AnalyticsOptions {
  /** Start of the window analysed (ISO); calls before it are the baseline. */
  windowStart: string;
  /** Start of the baseline (ISO). */
  baselineStart: string;
  minBaselineCalls?: number;
  minBurst?: number;
  burstFactor?: number;
  denyThreshold?: number;
}

export const HIGH_RISK_TOOL = /(exec|shell|command|run_|sudo|delete|drop|destroy|remove|write|deploy|transfer|payment|refund|send_|push|merge|secret|credential|token)/i;

const who = (c: ToolCallRow) => `${c.user ?? '?'}@${c.endpointId}`;

export function analyzeToolCalls(calls: readonly ToolCallRow[], o: AnalyticsOptions): AnalyticsFinding[] {
  const minBaselineCalls = o.minBaselineCalls ?? 20;
  const minBurst = o.minBurst ?? 30;
  const burstFactor = o.burstFactor ?? 3;
  const denyThreshold = o.denyThreshold ?? 3;
  const pre = calls.filter((c) => c.phase === 'pre').sort((a, b) => a.time.localeCompare(b.time));
  const baseline = pre.filter((c) => c.time >= o.baselineStart && c.time < o.windowStart);
  const window = pre.filter((c) => c.time >= o.windowStart);
  const baselineDays = Math.round((Date.parse(o.windowStart) - Date.parse(o.baselineStart)) / 86_400_000);
  const findings: AnalyticsFinding[] = [];

  const byWho = new Map<string, ToolCallRow[]>();
  for (const c of baseline) byWho.set(who(c), [...(byWho.get(who(c)) ?? []), c]);

  // first-use-high-risk-tool
  const seen = new Set(baseline.map((c) => `${who(c)}|${c.server}|${c.tool}`));
  for (const c of window) {
    const key = `${who(c)}|${c.server}|${c.tool}`;
    if (seen.has(key) || !HIGH_RISK_TOOL.test(c.tool)) continue;
    seen.add(key);
    const n = byWho.get(who(c))?.length ?? 0;
    findings.push({
      rule: 'first-use-high-risk-tool', severity: 'medium', endpointId: c.endpointId, user: c.user ?? null, server: c.server, tool: c.tool, at: c.time,
      title: `${c.user ?? 'a user'} called high-risk tool ${c.server}/${c.tool} for the first time`,
      baseline: `no call of ${c.server}/${c.tool} by ${who(c)} in the ${baselineDays} days before the window (${n} calls of other tools seen); high-risk = tool name matches ${HIGH_RISK_TOOL.source}`,
      evidence: { decision: c.decision, client: c.client },
    });
  }

  // tool-use-outside-usual-hours
  const flaggedHours = new Set<string>();
  for (const c of window) {
    const base = byWho.get(who(c)) ?? [];
    if (base.length < minBaselineCalls) continue;
    const hours = new Set(base.map((b) => new Date(b.time).getUTCHours()));
    const h = new Date(c.time).getUTCHours();
    if (hours.has(h) || hours.has((h + 23) % 24) || hours.has((h + 1) % 24)) continue;
    const key = `${who(c)}|${c.time.slice(0, 13)}`;
    if (flaggedHours.has(key)) continue;
    flaggedHours.add(key);
    const usual = [...hours].sort((a, b) => a - b);
    findings.push({
      rule: 'tool-use-outside-usual-hours', severity: 'low', endpointId: c.endpointId, user: c.user ?? null, server: c.server, tool: c.tool, at: c.time,
      title: `${c.user ?? 'a user'} used MCP tools at ${String(h).padStart(2, '0')}:00 UTC, outside their usual hours`,
      baseline: `${base.length} calls by ${who(c)} over the ${baselineDays} days before, at UTC hours ${usual.join(',')}; none within an hour of ${h}`,
      evidence: { hourUtc: h, usualHoursUtc: usual },
    });
  }

  // tool-call-burst
  const perMinute = (rows: readonly ToolCallRow[]) => {
    const m = new Map<string, number>();
    for (const r of rows) m.set(r.time.slice(0, 16), (m.get(r.time.slice(0, 16)) ?? 0) + 1);
    return m;
  };
  const windowByWho = new Map<string, ToolCallRow[]>();
  for (const c of window) windowByWho.set(who(c), [...(windowByWho.get(who(c)) ?? []), c]);
  for (const [w, rows] of windowByWho) {
    const busiest = Math.max(0, ...perMinute(byWho.get(w) ?? []).values());
    const threshold = Math.max(minBurst, burstFactor * busiest);
    for (const [minute, n] of perMinute(rows)) {
      if (n <= threshold) continue;
      const first = rows.find((r) => r.time.startsWith(minute)) as ToolCallRow;
      findings.push({
        rule: 'tool-call-burst', severity: 'medium', endpointId: first.endpointId, user: first.user ?? null, server: first.server, tool: null, at: first.time,
        title: `${n} MCP tool calls in one minute by ${first.user ?? 'a user'}`,
        baseline: `busiest minute of ${w} in the ${baselineDays} days before: ${busiest} calls; threshold max(${minBurst}, ${burstFactor} x ${busiest}) = ${threshold}`,
        evidence: { minute: `${minute}Z`, calls: n, servers: [...new Set(rows.filter((r) => r.time.startsWith(minute)).map((r) => r.server))] },
      });
    }
  }

  // blocked-tool-attempts
  const denies = new Map<string, ToolCallRow[]>();
  for (const c of window) if (c.decision === 'deny') denies.set(`${who(c)}|${c.server}|${c.tool}`, [...(denies.get(`${who(c)}|${c.server}|${c.tool}`) ?? []), c]);
  for (const rows of denies.values()) {
    if (rows.length < denyThreshold) continue;
    const c = rows[0] as ToolCallRow;
    const enforced = rows.filter((r) => r.enforced).length;
    findings.push({
      rule: 'blocked-tool-attempts', severity: 'high', endpointId: c.endpointId, user: c.user ?? null, server: c.server, tool: c.tool, at: c.time,
      title: `${rows.length} attempts to call blocked tool ${c.server}/${c.tool} by ${c.user ?? 'a user'}`,
      baseline: `policy decision deny (rule ${c.rule}); threshold ${denyThreshold} denied calls of one tool by one user@endpoint in the window`,
      evidence: { attempts: rows.length, enforced, auditOnly: rows.length - enforced, lastAt: (rows[rows.length - 1] as ToolCallRow).time },
    });
  }
  return findings.sort((a, b) => a.at.localeCompare(b.at));
}
