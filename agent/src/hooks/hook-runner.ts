/**
 * One run of `mcpwatch-agent hook <client>`: input bytes in, the client's answer out, one journal
 * record written. The command (commands/hook.ts) only reads stdin within its bounds and prints.
 *
 * Promises: runHook() never throws and never touches the network. Any internal failure (bad input,
 * unreadable policy, journal not writable) is answered as allow in audit mode, and as the policy's
 * failMode (default allow) in enforce mode, and is reported: its code goes into the journal record
 * when the journal can take it, and one line goes to stderr (clients show hook stderr in their
 * logs/verbose views; Windsurf only on exit 2).
 * Audit mode answers allow and records the decision the policy would have made (enforced: false).
 * The server name the client gave is resolved to the inventory's fingerprint through the agent's
 * server map (hook-server-map.ts): the record carries it (or, for a name two configs share, the
 * candidates) and the policy decides with it (block/allow by fingerprint or package).
 * A record the agent's journal cannot take goes to the user's own journal (userStateDir, see
 * hook-journal.ts) when one is given; the error is reported only when neither takes it.
 */
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import type { HookClientId } from './hook-catalog.js';
import { parseHookInput, renderAnswer, type HookAnswer, type HookPhase } from './hook-protocol.js';
import { decideToolCall, readToolPolicy, userMessage, type PolicyDecision, type PolicySubject, type ToolPolicy } from './tool-policy.js';
import { appendJournal, type JournalOptions } from './hook-journal.js';
import { readServerMap, resolveServer, splitByKnownServer } from './hook-server-map.js';
import { claimCall } from './hook-call-claims.js';

/** The journal record: the `data` of a `tool.called` event (shared schemas/tool-calls.ts ToolCalledData). */
export interface ToolCallRecord {
  client: string;
  user?: string;
  sessionHash?: string;
  phase: HookPhase;
  server: string;
  serverFingerprint?: string;
  serverCandidates?: string[];
  tool: string;
  argumentNames: string[];
  decision: 'allow' | 'deny' | 'ask';
  enforced: boolean;
  mode: 'audit' | 'enforce';
  rule: string;
  reason?: string;
  durationMs?: number;
  success?: boolean;
  calledAt: string;
  error?: string;
}

export interface HookRunInput {
  client: HookClientId;
  /** The stdin bytes, or the reason they could not be read within the bounds. */
  input: { text: string } | { error: { code: string; message: string } };
  stateDir: string;
  now?: () => Date;
  user?: string | null;
  journal?: JournalOptions;
  /**
   * Where to journal when `<stateDir>/hook-journal` cannot be written (an owner-only state dir of
   * an agent running as root): `<userStateDir>/hook-journal`, created owner-only. Default: none.
   */
  userStateDir?: string | null;
  /** The home folder of the hook's user (picks that home's server map). Default: none (by user name). */
  home?: string | null;
}

export interface HookRunResult extends HookAnswer {
  record: ToolCallRecord | null;
  /** Internal failures reported (codes). */
  errors: string[];
}

export function hashSession(id: string): string {
  return createHash('sha256').update(id).digest('hex').slice(0, 32);
}

function currentUser(): string | undefined {
  try {
    return os.userInfo().username;
  } catch {
    return undefined;
  }
}

/** See the module comment. */
export function runHook(req: HookRunInput): HookRunResult {
  const errors: { code: string; message: string }[] = [];
  const now = (req.now ?? (() => new Date()))();
  const user = req.user === undefined ? currentUser() : req.user ?? undefined;
  try {
    const { policy, error: policyError } = readToolPolicy(req.stateDir);
    if (policyError) errors.push(policyError);
    const mode: ToolPolicy['mode'] = policy?.mode ?? 'audit';
    const parsed = 'text' in req.input ? parseHookInput(req.client, req.input.text) : ({ ok: false, ...req.input.error } as const);

    let answer: HookAnswer;
    let record: ToolCallRecord | null;
    if (!parsed.ok) {
      errors.push({ code: parsed.code, message: parsed.message });
      const failDecision = mode === 'enforce' && policy?.failMode === 'deny' ? 'deny' : 'allow';
      const message = `mcpwatch could not check this MCP tool call (${parsed.code}); ${failDecision === 'deny' ? 'policy fails closed, so it was refused' : 'it was allowed'}.`;
      answer = renderAnswer(req.client, 'pre', failDecision, message);
      record = {
        client: req.client, ...(user ? { user } : {}), phase: 'pre', server: '', tool: '', argumentNames: [],
        decision: failDecision, enforced: true, mode, rule: 'error', reason: parsed.message.slice(0, 512), calledAt: now.toISOString(), error: parsed.code,
      };
    } else {
      const call = parsed.call;
      // VS Code runs Copilot CLI's and Claude Code's hook files with its own input: answered and recorded as VS Code.
      const client = parsed.client;
      if (!call.isMcp) return { ...renderAnswer(client, call.phase, 'allow', ''), record: null, errors: errors.map((e) => e.code) };
      // Server name -> fingerprint from the agent's map (hook-server-map.ts); names joined with a
      // separator both parts may hold (Gemini, VS Code, Copilot CLI) are re-split with the configured names.
      const map = readServerMap(req.stateDir, user, req.home);
      const known = client === 'gemini-cli' || client === 'vscode' || client === 'copilot-cli' ? splitByKnownServer(map, client, call.rawToolName) : null;
      if (known) Object.assign(call, known);
      const server = resolveServer(map, { client, name: call.server, cwd: call.cwd });
      const subject: PolicySubject = {
        server: call.server,
        tool: call.tool,
        serverFingerprint: server.fingerprint,
        serverPackage: server.packageName,
        candidateFingerprints: server.candidates,
        candidatePackages: server.candidatePackages,
      };
      const d: PolicyDecision = decideToolCall(policy, subject);
      const answered = mode === 'enforce' ? d.decision : 'allow';
      answer = renderAnswer(client, call.phase, answered, userMessage(subject, d, policy));
      record = {
        client,
        ...(user ? { user } : {}),
        ...(call.sessionId ? { sessionHash: hashSession(call.sessionId) } : {}),
        phase: call.phase,
        server: call.server.slice(0, 256),
        ...(server.fingerprint ? { serverFingerprint: server.fingerprint.slice(0, 128) } : {}),
        ...(server.candidates.length > 0 ? { serverCandidates: server.candidates.map((f) => f.slice(0, 128)) } : {}),
        tool: call.tool.slice(0, 256),
        argumentNames: call.argumentNames,
        decision: d.decision,
        enforced: answered === d.decision,
        mode,
        rule: d.rule,
        reason: d.reason.slice(0, 512),
        ...(call.durationMs !== null ? { durationMs: call.durationMs } : {}),
        ...(call.success !== null ? { success: call.success } : {}),
        calledAt: now.toISOString(),
        ...(policyError ? { error: policyError.code } : {}),
      };
    }
    // VS Code may run two of our hook entries for one call: only the first journals it (hook-call-claims.ts).
    const callId = parsed.ok && parsed.client === 'vscode' ? parsed.call.callId : null;
    if (callId && record && !claimCall(req.userStateDir ? [req.stateDir, req.userStateDir] : [req.stateDir], callId, record.phase, now.getTime())) {
      return { ...answer, stderr: answer.stderr + errors.map((e) => `mcpwatch hook: ${e.code}: ${e.message}\n`).join(''), record: null, errors: errors.map((e) => e.code) };
    }
    const wrote = appendJournal(req.stateDir, record, req.journal);
    if (!wrote.ok) {
      const own = req.userStateDir && req.userStateDir !== req.stateDir ? appendJournal(req.userStateDir, record, req.journal) : null;
      if (!own?.ok) errors.push({ code: wrote.code, message: own ? `${wrote.message}; and ${own.message}` : wrote.message });
    }
    const stderr = errors.map((e) => `mcpwatch hook: ${e.code}: ${e.message}\n`).join('');
    return { ...answer, stderr: answer.stderr + stderr, record, errors: errors.map((e) => e.code) };
  } catch (e) {
    // Last resort: an unexpected bug never blocks the user's tool.
    return { ...renderAnswer(req.client, 'pre', 'allow', ''), stderr: `mcpwatch hook: internal error: ${(e as Error).message}\n`, record: null, errors: ['internal'] };
  }
}
