/**
 * Findings rules engine: each rule has an id, a severity, a rationale and tests. See
 * rules-engine.ts for the contract (stable ids, no secret values, never throws).
 */
export { evaluateRules, MAX_FINDINGS, RULES, type RulesOptions } from './rules-engine.js';
export type { HookStateView, Rule, RuleContext, RuleHit, RulesInput, ServerView, SourceFailureView, ToolRuleView } from './rule-types.js';
export { sourceUnavailableRule } from './source-rules.js';
export { hookTamperedRule } from './hook-rules.js';
export { containerIssues } from './host-rules.js';
export { documentApprovals, serverApprovals } from './approval-rules.js';
export { isPrivateHost, urlHost } from './network-rules.js';
export { secretFieldsOf } from './secret-rules.js';
export { hiddenInstructionSignals, TOOL_RULES } from './tool-rules.js';
