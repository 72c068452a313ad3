/**
 * Policy: the settings the collector serves (shared AgentSettings: intervals, rule switches,
 * allow-lists) merged over the local configuration, and applied to the running agent without a
 * restart. Settings arrive with enrollment and with every batch ack that carries them (the agent
 * ships at least one heartbeat per heartbeatMs, so a change is picked up within one heartbeat).
 *
 * Rule switches and allow-lists are applied at the agent's event sink: `finding.*` events of a
 * disabled rule, or about an allow-listed server (by name, serverKey or fingerprint), are not
 * spooled, and they are removed from inventory snapshots. Pure functions.
 */
import type { AgentSettings, Finding, McpEvent } from '@mcpwatch/shared';

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
  const sameSet = (x: ReadonlySet<string>, y: ReadonlySet<string>) => x.size === y.size && [...x].every((v) => y.has(v));
  return (
    a.processPollMs !== b.processPollMs ||
    a.heartbeatMs !== b.heartbeatMs ||
    a.snapshotEveryHours !== b.snapshotEveryHours ||
    !sameSet(a.disabledRules, b.disabledRules) ||
    !sameSet(a.allowServers, b.allowServers)
  );
}

/** Whether policy suppresses a finding. `fingerprintOf` maps a serverKey to its fingerprint. */
export function findingSuppressed(f: Finding, p: EffectivePolicy, fingerprintOf: (serverKey: string) => string | undefined = () => undefined): boolean {
  if (p.disabledRules.has(f.ruleId)) return true;
  if (p.allowServers.size === 0) return false;
  const { serverKey, serverName } = f.subject;
  if (serverName && p.allowServers.has(serverName)) return true;
  if (serverKey && p.allowServers.has(serverKey)) return true;
  const fp = serverKey ? fingerprintOf(serverKey) : undefined;
  return fp !== undefined && p.allowServers.has(fp);
}

/** The event as policy lets it through: null to drop, or a (possibly filtered) copy. */
export function applyPolicy(event: McpEvent, p: EffectivePolicy): McpEvent | null {
  if (p.disabledRules.size === 0 && p.allowServers.size === 0) return event;
  if (event.type === 'finding.raised' || event.type === 'finding.resolved') {
    return findingSuppressed(event.data, p) ? null : event;
  }
  if (event.type === 'inventory.snapshot') {
    const fps = new Map(event.data.servers.map((s) => [s.serverKey, s.fingerprint]));
    const findings = event.data.findings.filter((f) => !findingSuppressed(f, p, (k) => fps.get(k)));
    return findings.length === event.data.findings.length ? event : { ...event, data: { ...event.data, findings } };
  }
  return event;
}
