/**
 * Source rules: a process, socket or host-facts source that keeps failing (inventory/source-health.ts
 * decides "keeps": consecutive polls and time, from config). While it fails, the inventory's
 * processes or sockets are unknown, not empty, so the other runtime rules are blind on this
 * endpoint. One finding per source; it resolves when the source answers again. The reason is the
 * source's own error text (no secret values: sources report commands and codes, not config data).
 */
import type { Rule, RuleContext, RuleHit } from './rule-types.js';

const WHAT: Readonly<Record<string, string>> = { processes: 'process list', sockets: 'socket table', host: 'host facts' };

export const sourceUnavailableRule: Rule = {
  id: 'source-unavailable',
  severity: 'medium',
  title: 'An inventory source keeps failing on this endpoint',
  rationale:
    'A process, socket or host-facts source of the agent has failed at every poll for a while (missing tool, ' +
    'policy blocking it, permissions). Until it answers, MCP server processes or their network connections on this ' +
    'endpoint are not seen, and the rules that read them cannot raise anything. Fix the cause named in the evidence.',
  evaluate(ctx: RuleContext): RuleHit[] {
    return (ctx.sourceFailures ?? []).map((f) => ({
      key: `source:${f.source}`,
      subject: {},
      evidence: { field: `source.${f.source}`, kind: f.code, detail: `failing since ${f.since}: ${f.reason}`.slice(0, 1024) },
      title: `The ${WHAT[f.source] ?? f.source} source keeps failing (${f.code})`,
    }));
  },
};
