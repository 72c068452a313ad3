/**
 * Tool-level policy: one decision per MCP tool call, made here and nowhere else (STYLE habit 17).
 *
 * The policy is the collector's ToolPolicy (@mcpwatch/shared schemas/tool-calls.ts), cached by the
 * running agent as `<stateDir>/tool-policy.json`. The hook command reads it on every call, so a
 * new policy applies to the next call without a restart.
 *
 * readToolPolicy() never throws: a missing file is `{ policy: null }` (no policy yet: audit, allow);
 * an unreadable or invalid file is `{ policy: null, error }` (MCPW_ERR_HOOK_POLICY_INVALID), which
 * the hook reports and answers in audit mode. The shape check below mirrors the TypeBox schema by
 * hand because loading @mcpwatch/shared costs the hook ~70 ms of start-up (its budget is 60 ms over
 * bare node); tests/unit/hooks/tool-policy.test.ts holds it to the schema on the same samples.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AgentCodes } from '../errors.js';

export interface ToolPattern {
  server: string;
  tool: string;
}

export interface ToolPolicy {
  mode: 'audit' | 'enforce';
  failMode?: 'allow' | 'deny';
  allowedServers?: string[];
  blockedServers?: string[];
  blockedTools?: ToolPattern[];
  askTools?: ToolPattern[];
  contact?: string;
  revision?: string;
}

export const TOOL_POLICY_FILE = 'tool-policy.json';
const MAX_POLICY_BYTES = 1024 * 1024;

export interface PolicyRead {
  policy: ToolPolicy | null;
  error?: { code: string; message: string };
}

const KEYS = new Set(['mode', 'failMode', 'allowedServers', 'blockedServers', 'blockedTools', 'askTools', 'contact', 'revision']);

function stringList(v: unknown, max: number): v is string[] {
  return Array.isArray(v) && v.length <= max && v.every((s) => typeof s === 'string' && s.length >= 1 && s.length <= 256);
}

function patternList(v: unknown): v is ToolPattern[] {
  return (
    Array.isArray(v) &&
    v.length <= 1000 &&
    v.every(
      (p) =>
        typeof p === 'object' && p !== null && !Array.isArray(p) &&
        Object.keys(p).every((k) => k === 'server' || k === 'tool') &&
        typeof (p as ToolPattern).server === 'string' && (p as ToolPattern).server.length >= 1 && (p as ToolPattern).server.length <= 256 &&
        typeof (p as ToolPattern).tool === 'string' && (p as ToolPattern).tool.length >= 1 && (p as ToolPattern).tool.length <= 256,
    )
  );
}

/** The reason a document is not a ToolPolicy, or null when it is one. */
export function toolPolicyProblem(doc: unknown): string | null {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'not an object';
  const o = doc as Record<string, unknown>;
  const extra = Object.keys(o).find((k) => !KEYS.has(k));
  if (extra !== undefined) return `unknown key ${JSON.stringify(extra).slice(0, 64)}`;
  if (o.mode !== 'audit' && o.mode !== 'enforce') return 'mode must be audit or enforce';
  if (o.failMode !== undefined && o.failMode !== 'allow' && o.failMode !== 'deny') return 'failMode must be allow or deny';
  for (const k of ['allowedServers', 'blockedServers'] as const) if (o[k] !== undefined && !stringList(o[k], 1000)) return `${k} must be a list of 1..256-character strings`;
  for (const k of ['blockedTools', 'askTools'] as const) if (o[k] !== undefined && !patternList(o[k])) return `${k} must be a list of {server, tool} patterns`;
  if (o.contact !== undefined && (typeof o.contact !== 'string' || o.contact.length > 256)) return 'contact must be a string of at most 256 characters';
  if (o.revision !== undefined && (typeof o.revision !== 'string' || o.revision.length > 64)) return 'revision must be a string of at most 64 characters';
  return null;
}

/** Reads the cached policy of `stateDir`. Never throws. */
export function readToolPolicy(stateDir: string): PolicyRead {
  const file = path.join(stateDir, TOOL_POLICY_FILE);
  let text: string;
  try {
    const st = fs.statSync(file);
    if (st.size > MAX_POLICY_BYTES) return { policy: null, error: { code: AgentCodes.hookPolicyInvalid, message: `${file}: ${st.size} bytes, more than ${MAX_POLICY_BYTES}` } };
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { policy: null };
    return { policy: null, error: { code: AgentCodes.hookPolicyInvalid, message: `${file}: ${(e as Error).message}` } };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { policy: null, error: { code: AgentCodes.hookPolicyInvalid, message: `${file}: not JSON: ${(e as Error).message}` } };
  }
  const problem = toolPolicyProblem(doc);
  if (problem) return { policy: null, error: { code: AgentCodes.hookPolicyInvalid, message: `${file}: ${problem}` } };
  return { policy: doc as ToolPolicy };
}

/** Glob with `*` (any run of characters), case-insensitive, anchored. */
export function globMatches(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
  return re.test(value);
}

export interface PolicySubject {
  server: string;
  tool: string;
  /** When known (the agent's inventory, hook-server-map.ts): the server's fingerprint and package name. */
  serverFingerprint?: string | null;
  serverPackage?: string | null;
  /**
   * The name matched several configured servers and none could be chosen: their fingerprints and
   * packages. A block of any of them blocks the call; an allow-list by fingerprint or package cannot
   * vouch for an unknown one of them (only the name can).
   */
  candidateFingerprints?: readonly string[];
  candidatePackages?: readonly string[];
}

export type PolicyRule = 'blocked-tool' | 'blocked-server' | 'not-allowed-server' | 'ask-tool' | 'default' | 'no-policy';

export interface PolicyDecision {
  decision: 'allow' | 'deny' | 'ask';
  rule: PolicyRule;
  /** Names the rule that matched (the pattern), for the user and the record. */
  reason: string;
}

function serverMatches(entry: string, s: PolicySubject): boolean {
  return globMatches(entry, s.server) || (!!s.serverFingerprint && entry === s.serverFingerprint) || (!!s.serverPackage && globMatches(entry, s.serverPackage));
}

/** A block entry matches the server, or any of the candidates of an ambiguous name. */
function blockMatches(entry: string, s: PolicySubject): boolean {
  return serverMatches(entry, s) || (s.candidateFingerprints ?? []).includes(entry) || (s.candidatePackages ?? []).some((p) => globMatches(entry, p));
}

/** The policy's decision for one call (before the mode is applied). */
export function decideToolCall(policy: ToolPolicy | null, s: PolicySubject): PolicyDecision {
  if (!policy) return { decision: 'allow', rule: 'no-policy', reason: 'no tool policy received yet' };
  const blockedTool = policy.blockedTools?.find((p) => globMatches(p.server, s.server) && globMatches(p.tool, s.tool));
  if (blockedTool) return { decision: 'deny', rule: 'blocked-tool', reason: `tool ${blockedTool.server}/${blockedTool.tool} is blocked by policy` };
  const blockedServer = policy.blockedServers?.find((e) => blockMatches(e, s));
  if (blockedServer) return { decision: 'deny', rule: 'blocked-server', reason: `server ${blockedServer} is blocked by policy` };
  if (policy.allowedServers && !policy.allowedServers.some((e) => serverMatches(e, s))) {
    const ambiguous = (s.candidateFingerprints?.length ?? 0) > 1 ? ` (the name matches ${s.candidateFingerprints?.length} different configured servers, so it cannot be told which one runs)` : '';
    return { decision: 'deny', rule: 'not-allowed-server', reason: `server ${s.server} is not on the allowed list${ambiguous}` };
  }
  const ask = policy.askTools?.find((p) => globMatches(p.server, s.server) && globMatches(p.tool, s.tool));
  if (ask) return { decision: 'ask', rule: 'ask-tool', reason: `tool ${ask.server}/${ask.tool} needs your confirmation by policy` };
  return { decision: 'allow', rule: 'default', reason: 'no rule matched' };
}

/** What the user reads on a deny or ask: what, why, who to ask. */
export function userMessage(s: PolicySubject, d: PolicyDecision, policy: ToolPolicy | null): string {
  const who = policy?.contact ? ` To request an exception, contact ${policy.contact}.` : ' To request an exception, contact your security team.';
  const what = d.decision === 'ask' ? 'asks before' : 'blocked';
  return `mcpwatch ${what} the MCP tool call ${s.server}/${s.tool}: ${d.reason}.${who}`;
}
