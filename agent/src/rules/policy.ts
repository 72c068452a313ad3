/**
 * Policy: the settings the collector serves (shared AgentSettings: intervals, rule switches,
 * allow-lists) merged over the local configuration, and applied to the running agent without a
 * restart. Settings arrive with enrollment and with every batch ack that carries them (the agent
 * ships at least one heartbeat per heartbeatMs, so a change is picked up within one heartbeat).
 *
 * Rule switches and allow-lists are decided once, in the rules engine (rules/rules-engine.ts: a
 * disabled rule does not run; an allow-listed server loses its findings except secrets in its
 * configuration): `rulesOptionsOf()` hands them to it, and nothing downstream filters findings
 * again. Pure functions.
 */
import type { AgentSettings } from '@mcpwatch/shared';
import type { RulesOptions } from './index.js';

export interface EffectivePolicy {
  processPollMs: number;
  heartbeatMs: number;
  snapshotEveryHours: number;
  disabledRules: ReadonlySet<string>;
  allowServers: ReadonlySet<string>;
}

export interface LocalDefaults {
  processPollMs: number;
  heartbeatMs: number;
  snapshotEveryHours: number;
}

/** Served settings over local defaults. Values outside the schema's bounds are ignored. */
export function effectivePolicy(local: LocalDefaults, served: AgentSettings | null | undefined): EffectivePolicy {
  const s = served ?? {};
  const int = (v: unknown, min: number) => (typeof v === 'number' && Number.isInteger(v) && v >= min ? v : undefined);
  const num = (v: unknown, min: number) => (typeof v === 'number' && Number.isFinite(v) && v >= min ? v : undefined);
  const list = (v: unknown) => new Set(Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  return {
    processPollMs: int(s.processPollMs, 1000) ?? local.processPollMs,
    heartbeatMs: int(s.heartbeatMs, 5000) ?? local.heartbeatMs,
    snapshotEveryHours: num(s.snapshotEveryHours, 0.01) ?? local.snapshotEveryHours,
    disabledRules: list(s.disabledRules),
    allowServers: list(s.allowServers),
  };
}

/** true when two policies differ in anything that needs re-applying. */
export function policyChanged(a: EffectivePolicy, b: EffectivePolicy): boolean {
  return a.processPollMs !== b.processPollMs || a.heartbeatMs !== b.heartbeatMs || a.snapshotEveryHours !== b.snapshotEveryHours || rulesPolicyChanged(a, b);
}

/** true when the rule switches or the allow-list differ (findings must be evaluated again). */
export function rulesPolicyChanged(a: EffectivePolicy, b: EffectivePolicy): boolean {
  const sameSet = (x: ReadonlySet<string>, y: ReadonlySet<string>) => x.size === y.size && [...x].every((v) => y.has(v));
  return !sameSet(a.disabledRules, b.disabledRules) || !sameSet(a.allowServers, b.allowServers);
}

/** What the rules engine takes from a policy: the one place rule switches and allow-lists apply. */
export function rulesOptionsOf(p: EffectivePolicy): Pick<RulesOptions, 'disabledRules' | 'allowServers'> {
  return { disabledRules: [...p.disabledRules], allowServers: [...p.allowServers] };
}
