/**
 * Automated containment, opt-in by policy (issue 16; the seed's EventBridge → Lambda reflex):
 * "quarantine on finding R at severity ≥ S". Rules come from the collector config
 * (`autoContainment`: `RULE>=SEVERITY,...`; a trailing `*` matches a rule-id prefix, `*` alone any
 * rule); empty means off.
 *
 * Promises:
 * - Looks at the findings an accepted batch raises (`finding.raised` events and the `findings` of an
 *   `inventory.snapshot`) that name a server (`subject.serverKey`); one that matches a rule issues a
 *   quarantine of that server on that endpoint through the same Containment service as an admin
 *   (signed, audited; actor `policy` / `auto-containment`, reason naming the rule, severity and
 *   finding), so it rides in the ack of that very batch.
 * - At most one: no command when that server already has a command pending or confirmed (a
 *   quarantine, or a restore: a server an analyst restored is not quarantined again by policy).
 * - Dry-run (`autoContainmentDryRun` on): the audit trail gets the record with status `dry-run`;
 *   nothing is signed into an ack and nothing is notified as issued.
 * Failure: never throws into ingest; errors go to the Containment service's reportError.
 */
import type { Severity } from '@mcpwatch/shared';

const RANK: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

export interface AutoContainmentRule {
  ruleId: string;
  minSeverity: Severity;
}

/** Parses `RULE>=SEVERITY` items (already shape-checked by the config table). */
export function parseAutoContainmentRules(items: readonly string[]): AutoContainmentRule[] {
  return items.map((s) => {
    const [ruleId, sev] = s.split('>=') as [string, Severity];
    return { ruleId, minSeverity: sev };
  });
}

export interface AutoContainmentCandidate {
  serverKey: string;
  ruleId: string;
  severity: Severity;
  findingId: string;
  title: string;
}

interface FindingLike {
  id?: unknown;
  ruleId?: unknown;
  severity?: unknown;
  title?: unknown;
  subject?: { serverKey?: unknown } | null;
}

/** The servers `events` should have quarantined under `rules`, once each, in event order. */
export function autoContainmentCandidates(rules: readonly AutoContainmentRule[], events: ReadonlyArray<{ type: string; data: unknown }>): AutoContainmentCandidate[] {
  if (rules.length === 0) return [];
  const out = new Map<string, AutoContainmentCandidate>();
  const consider = (f: FindingLike): void => {
    const serverKey = f.subject?.serverKey;
    if (typeof serverKey !== 'string' || serverKey === '' || typeof f.ruleId !== 'string' || typeof f.severity !== 'string' || !(f.severity in RANK)) return;
    const severity = f.severity as Severity;
    const ruleId = f.ruleId;
    const named = (r: AutoContainmentRule): boolean => r.ruleId === ruleId || (r.ruleId.endsWith('*') && ruleId.startsWith(r.ruleId.slice(0, -1)));
    const hit = rules.some((r) => named(r) && RANK[severity] >= RANK[r.minSeverity]);
    if (hit && !out.has(serverKey)) out.set(serverKey, { serverKey, ruleId: f.ruleId, severity, findingId: String(f.id ?? ''), title: String(f.title ?? '') });
  };
  for (const e of events) {
    if (e.type === 'finding.raised') consider(e.data as FindingLike);
    else if (e.type === 'inventory.snapshot') for (const f of ((e.data as { findings?: FindingLike[] }).findings ?? [])) consider(f);
  }
  return [...out.values()];
}
