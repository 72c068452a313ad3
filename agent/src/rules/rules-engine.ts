/**
 * The findings rules engine.
 *
 * Contract:
 * - `evaluateRules` never throws: a rule that fails (throws, returns no list, yields a malformed
 *   hit) is skipped whole and reported through `opts.reportError` (coded MCPW_ERR_RULE_FAILED,
 *   naming the rule; the running agent logs it and carries it as the heartbeat's lastError); the
 *   other rules still run.
 * - Rule switches and allow-lists (local or served by the collector) are applied here and only
 *   here: nothing downstream filters findings again.
 * - Finding ids are stable: stableId(rule id + hit key), so a re-scan yields the same id for the
 *   same problem, and Security Hub updates rather than duplicates.
 * - Findings carry names and kinds, never secret values (rules read values only to detect).
 * - `disabledRules` drops rules by id; `allowServers` (server name, serverKey, fingerprint or
 *   package name) silences server findings for those servers, except secrets in config, which
 *   are reported regardless (an allow-list accepts a server, not a leaked credential).
 * - Output is bounded (MAX_FINDINGS) and sorted: severity (highest first), rule, client, server, id.
 */
import { computeServerKey, severityRank, stableId } from '@mcpwatch/shared/protocol';
import type { Finding, ServerEntry } from '@mcpwatch/shared';
import { AgentCodes, AgentError } from '../errors.js';
import { readEntryFields } from '../normalize/index.js';
import type { RawServerEntry } from '../types.js';
import { autoApproveRule } from './approval-rules.js';
import { commandInTempRule, execCapableServerRule, privilegedContainerRule, writableConfigRule } from './host-rules.js';
import { listeningAllInterfacesRule, plaintextRemoteRule } from './network-rules.js';
import { serverAsAdminRule, undeclaredServerProcessRule } from './process-rules.js';
import type { Rule, RuleContext, RuleHit, RulesInput, ServerView } from './rule-types.js';
import { secretInConfigRule } from './secret-rules.js';
import { sourceUnavailableRule } from './source-rules.js';
import { hookTamperedRule } from './hook-rules.js';
import { unpinnedPackageRule } from './supply-chain-rules.js';
import { TOOL_RULES } from './tool-rules.js';
import { byText } from '../normalize/text-order.js';

/** Every rule, in reporting order. */
export const RULES: readonly Rule[] = [
  secretInConfigRule,
  unpinnedPackageRule,
  plaintextRemoteRule,
  autoApproveRule,
  commandInTempRule,
  writableConfigRule,
  privilegedContainerRule,
  execCapableServerRule,
  listeningAllInterfacesRule,
  serverAsAdminRule,
  undeclaredServerProcessRule,
  sourceUnavailableRule,
  hookTamperedRule,
  ...TOOL_RULES,
];

export const MAX_FINDINGS = 10_000;

export interface RulesOptions {
  /** Rule ids not to run. */
  disabledRules?: string[];
  /** Servers accepted as they are: name, serverKey, fingerprint or package name. */
  allowServers?: string[];
  /** Receives a coded error for each rule that failed. */
  reportError?: (err: AgentError) => void;
  /** Rules to run instead of RULES (tests). */
  rules?: readonly Rule[];
}

function rawKey(r: RawServerEntry): string {
  return computeServerKey({ client: r.client, scope: r.scope, configPath: r.configPath, name: r.name });
}

function buildContext(input: RulesInput): RuleContext {
  const rawByKey = new Map<string, RawServerEntry>();
  for (const r of input.raw) rawByKey.set(rawKey(r), r);
  const views: ServerView[] = input.servers.map((server) => {
    const raw = rawByKey.get(server.serverKey) ?? null;
    return { raw, server, fields: raw ? readEntryFields(raw.raw, raw.dialect) : null };
  });
  const normalized = new Set(input.servers.map((s) => s.serverKey));
  const orphans = [...rawByKey.entries()].filter(([k]) => !normalized.has(k)).map(([, r]) => r);
  return { ...input, views, orphans };
}

function isAllowed(server: ServerEntry | undefined, allow: Set<string>): boolean {
  if (!server || allow.size === 0) return false;
  return [server.name, server.serverKey, server.fingerprint, server.package?.name ?? ''].some((v) => v !== '' && allow.has(v));
}

/** Run every enabled rule over one endpoint's inventory. Never throws. */
export function evaluateRules(input: RulesInput, opts: RulesOptions = {}): Finding[] {
  const disabled = new Set(opts.disabledRules ?? []);
  const allow = new Set(opts.allowServers ?? []);
  // A failing reporter must not break the promise that this never throws.
  const report = (err: AgentError): void => {
    try {
      opts.reportError?.(err);
    } catch {
      // nothing more to do: the rule was skipped either way
    }
  };
  let ctx: RuleContext;
  try {
    ctx = buildContext(input);
  } catch (cause) {
    report(new AgentError(AgentCodes.ruleFailed, 'rules input could not be joined', { cause }));
    return [];
  }
  const serverByKey = new Map(input.servers.map((s) => [s.serverKey, s]));
  const findings = new Map<string, Finding>();
  for (const rule of opts.rules ?? RULES) {
    if (disabled.has(rule.id)) continue;
    // A rule's findings count only when the whole rule succeeded (its hits included): a rule that
    // throws, returns something other than a list, or yields a malformed hit is reported and skipped.
    // The message names the rule, never the cause's text (it may quote a value the rule read).
    let produced: Finding[];
    try {
      produced = findingsOf(rule, rule.evaluate(ctx), serverByKey, allow);
    } catch (cause) {
      report(new AgentError(AgentCodes.ruleFailed, `rule ${rule.id} failed and was skipped`, { cause }));
      continue;
    }
    for (const f of produced) {
      if (findings.size >= MAX_FINDINGS) break;
      if (!findings.has(f.id)) findings.set(f.id, f);
    }
  }
  const ruleOrder = new Map((opts.rules ?? RULES).map((r, i) => [r.id, i]));
  const where = (f: Finding) => `${f.subject.client ?? ''}\u0000${f.subject.serverName ?? ''}\u0000${f.subject.configPath ?? ''}`;
  return [...findings.values()].sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      (ruleOrder.get(a.ruleId) ?? 0) - (ruleOrder.get(b.ruleId) ?? 0) ||
      byText(where(a), where(b)) ||
      byText(a.id, b.id),
  );
}

/** The findings of one rule's hits, allow-list applied. Throws on a malformed result (caller reports). */
function findingsOf(rule: Rule, hits: unknown, serverByKey: ReadonlyMap<string, ServerEntry>, allow: Set<string>): Finding[] {
  if (!Array.isArray(hits)) throw new TypeError('evaluate() did not return a list of hits');
  const out: Finding[] = [];
  for (const hit of hits as RuleHit[]) {
    const key = hit.subject.serverKey ?? undefined;
    if (!hit.notAllowListable && key && isAllowed(serverByKey.get(key), allow)) continue;
    out.push({
      id: stableId(['finding/v1', rule.id, hit.key]),
      ruleId: rule.id,
      severity: hit.severity ?? rule.severity,
      title: (hit.title ?? rule.title).slice(0, 512),
      description: rule.rationale.slice(0, 4096),
      subject: hit.subject,
      ...(hit.evidence ? { evidence: clampEvidence(hit.evidence) } : {}),
    });
  }
  return out;
}

function clampEvidence(e: NonNullable<Finding['evidence']>): NonNullable<Finding['evidence']> {
  const out: NonNullable<Finding['evidence']> = {};
  if (e.field !== undefined) out.field = e.field === null ? null : e.field.slice(0, 1024);
  if (e.kind !== undefined) out.kind = e.kind === null ? null : e.kind.slice(0, 128);
  if (e.detail !== undefined) out.detail = e.detail === null ? null : e.detail.slice(0, 1024);
  return out;
}
