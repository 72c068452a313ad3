/**
 * Reads a client's hook input and writes the client's answer, per the protocols in
 * hook-catalog.ts. Pure: bytes in, a value out; nothing here touches files or the network.
 *
 * parseHookInput() never throws: bad input is `{ ok: false, code, message }` (MCPW_ERR_HOOK_INPUT_*).
 * It keeps argument NAMES only; argument values are never copied out of the parsed input, so a
 * secret passed to a tool cannot reach the journal; neither is a failed call's error text (Claude
 * Code's PostToolUseFailure `error` may quote the arguments): a failure is kept as success false,
 * as for every other client. renderAnswer() always returns something the
 * client accepts: an allow never grants more than the client's own permission flow would (Claude
 * Code's `permissionDecision: "allow"` skips the user's prompt, so an allow is an empty answer).
 */
import { AgentCodes } from '../errors.js';
import { HOOK_CLIENTS, type HookClientId } from './hook-catalog.js';

export type HookPhase = 'pre' | 'post';

/** What mcpwatch keeps of one tool call. */
export interface ToolCallInput {
  phase: HookPhase;
  server: string;
  tool: string;
  /** Top-level argument names, sorted, bounded (64 names of at most 128 characters). */
  argumentNames: string[];
  /** The client's session/conversation id (hashed before it is stored). */
  sessionId: string | null;
  durationMs: number | null;
  success: boolean | null;
  /** False when the tool is not an MCP tool (a hook matcher that is too wide): always allowed, not recorded. */
  isMcp: boolean;
  /** The session's working folder when the client says (picks a project's server of an ambiguous name). */
  cwd: string | null;
  /** The tool name exactly as the client gave it (Gemini CLI's is re-split with the configured server names). */
  rawToolName: string;
  /** The client's id of this tool call, when it gives one (VS Code: tool_use_id). */
  callId?: string | null;
}

/**
 * `client`: whose input it is, which may differ from the hook entry's client: VS Code runs the
 * commands of Copilot CLI's and Claude Code's hook files with its own input (see hook-catalog.ts),
 * and is answered in its own protocol.
 */
export type ParseResult = { ok: true; call: ToolCallInput; client: HookClientId } | { ok: false; code: string; message: string };

/** VS Code's input: `hookEventName` (camelCase) with `tool_name` (snake_case). */
function isVsCodeShape(doc: Json): boolean {
  return typeof doc.hookEventName === 'string' && typeof doc.tool_name === 'string' && doc.hook_event_name === undefined;
}

export interface HookAnswer {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export type AnswerDecision = 'allow' | 'deny' | 'ask';

const MAX_ARGS = 64;
const MAX_NAME = 128;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

/** Argument names of a tool input given as an object or as a JSON string of one (Cursor, Copilot CLI). */
export function argumentNamesOf(input: unknown): string[] {
  let obj: unknown = input;
  if (typeof input === 'string') {
    try {
      obj = JSON.parse(input);
    } catch {
      return [];
    }
  }
  if (!isObject(obj)) return [];
  return Object.keys(obj)
    .slice(0, MAX_ARGS)
    .map((k) => k.slice(0, MAX_NAME))
    .sort();
}

/** `mcp__<server>__<tool>` (Claude Code, Windsurf's classification) → parts; null when not that shape. */
export function splitDoubleUnderscore(name: string): { server: string; tool: string } | null {
  const m = /^mcp__(.+?)__(.+)$/.exec(name);
  return m ? { server: m[1] as string, tool: m[2] as string } : null;
}

/** Gemini CLI's FQN `mcp_<server>_<tool>`: the server ends at the first underscore after the prefix. */
export function splitGeminiName(name: string): { server: string; tool: string } | null {
  if (name.startsWith('mcp__')) return splitDoubleUnderscore(name);
  const m = /^mcp_([^_]+)_(.+)$/.exec(name);
  return m ? { server: m[1] as string, tool: m[2] as string } : null;
}

/** A readable server label for Cursor, which names the server only by its URL or command. */
export function serverLabelFromEndpoint(url: string | null, command: string | null): string {
  if (url) {
    try {
      return new URL(url).host || 'unknown';
    } catch {
      return 'unknown';
    }
  }
  if (command) {
    // The package or script the launcher runs, never flags or values (`npx -y @scope/pkg --token X`).
    const tokens = command.trim().split(/\s+/);
    const launcher = (tokens[0] ?? '').split(/[\\/]/).pop() ?? '';
    if (/^(npx|bunx|uvx|pnpm|yarn|pipx|docker|node|python3?|deno)(\.exe|\.cmd)?$/i.test(launcher)) {
      const target = tokens.slice(1).find((t) => !t.startsWith('-') && !['exec', 'dlx', 'run', 'x'].includes(t) && !t.includes('='));
      if (target) return target.startsWith('@') ? target : (target.split(/[\\/]/).pop() ?? launcher);
    }
    return launcher || 'unknown';
  }
  return 'unknown';
}

function invalid(message: string): ParseResult {
  return { ok: false, code: AgentCodes.hookInputInvalid, message };
}

function durationOf(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;
}

/** Parses one hook input given to the hook entry of `entryClient` (see ParseResult for the client it answers). */
export function parseHookInput(entryClient: HookClientId, text: string): ParseResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return invalid(`${entryClient} hook input is not JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc)) return invalid(`${entryClient} hook input is not a JSON object`);
  const client: HookClientId = isVsCodeShape(doc) && (entryClient === 'copilot-cli' || entryClient === 'claude-code') ? 'vscode' : entryClient;
  const parsed = parseDoc(client, doc);
  return parsed.ok ? { ...parsed, client } : parsed;
}

type DocResult = { ok: true; call: ToolCallInput } | { ok: false; code: string; message: string };

function parseDoc(client: HookClientId, doc: Json): DocResult {
  const spec = HOOK_CLIENTS[client];
  switch (client) {
    case 'vscode': {
      const event = str(doc.hookEventName) ?? str(doc.hook_event_name);
      const toolName = str(doc.tool_name);
      if (!event || !toolName) return invalid('vscode hook input lacks hookEventName or tool_name');
      // VS Code documents no failure event; should it run the PostToolUseFailure entry of Claude
      // Code's file it shares, that is a failed call's post, not bad input.
      const failureEvent = HOOK_CLIENTS['claude-code'].failureEvent;
      if (event !== spec.preEvent && event !== spec.postEvent && event !== failureEvent) return invalid(`vscode hook event ${JSON.stringify(event).slice(0, 80)} is not ${spec.preEvent} or ${spec.postEvent}`);
      const phase: HookPhase = event === spec.preEvent ? 'pre' : 'post';
      // mcp_<server>_<tool> (the runner re-splits it with the configured server names).
      const parts = splitGeminiName(toolName);
      const response = doc.tool_response;
      const failed = event === failureEvent || (isObject(response) && (response.isError === true || response.is_error === true));
      return {
        ok: true,
        call: {
          phase, server: parts?.server ?? '', tool: parts?.tool ?? toolName, argumentNames: argumentNamesOf(doc.tool_input),
          sessionId: str(doc.sessionId) ?? str(doc.session_id), durationMs: null, success: phase === 'post' ? !failed : null,
          isMcp: parts !== null, cwd: str(doc.cwd), rawToolName: toolName, callId: str(doc.tool_use_id),
        },
      };
    }
    case 'claude-code':
    case 'codex':
    case 'gemini-cli': {
      const event = str(doc.hook_event_name);
      const toolName = str(doc.tool_name);
      if (!event || !toolName) return invalid(`${client} hook input lacks hook_event_name or tool_name`);
      const isFailure = spec.failureEvent !== undefined && event === spec.failureEvent;
      if (event !== spec.preEvent && event !== spec.postEvent && !isFailure) {
        return invalid(`${client} hook event ${JSON.stringify(event).slice(0, 80)} is not ${[spec.preEvent, spec.postEvent, spec.failureEvent].filter(Boolean).join(', ')}`);
      }
      const phase: HookPhase = event === spec.preEvent ? 'pre' : 'post';
      let parts = client === 'gemini-cli' ? splitGeminiName(toolName) : splitDoubleUnderscore(toolName);
      const ctx = isObject(doc.mcp_context) ? doc.mcp_context : null;
      if (ctx && str(ctx.server_name)) parts = { server: str(ctx.server_name) as string, tool: str(ctx.tool_name) ?? parts?.tool ?? toolName };
      const response = isObject(doc.tool_response) ? doc.tool_response : null;
      // Gemini CLI's AfterTool tool_response is {llmContent, returnDisplay, error}, error an object {message, type} when the call failed (an MCP isError result too; seen with 0.61).
      const error = response?.error;
      // Claude Code's PostToolUseFailure: the call failed; its `error` text is not kept (see the module comment).
      const failed = isFailure || (response ? response.isError === true || response.is_error === true || (typeof error === 'string' && error.length > 0) || (isObject(error) && Object.keys(error).length > 0) : false);
      return {
        ok: true,
        call: {
          phase,
          server: parts?.server ?? '',
          tool: parts?.tool ?? toolName,
          argumentNames: argumentNamesOf(doc.tool_input),
          sessionId: str(doc.session_id),
          durationMs: durationOf(doc.duration_ms),
          success: phase === 'post' ? !failed : null,
          isMcp: parts !== null,
          cwd: str(doc.cwd),
          rawToolName: toolName,
        },
      };
    }
    case 'cursor': {
      const event = str(doc.hook_event_name);
      const tool = str(doc.tool_name);
      if (!tool) return invalid('cursor hook input lacks tool_name');
      if (event !== null && event !== spec.preEvent && event !== spec.postEvent) return invalid(`cursor hook event ${JSON.stringify(event).slice(0, 80)} is not ${spec.preEvent} or ${spec.postEvent}`);
      const phase: HookPhase = event === spec.postEvent || doc.result_json !== undefined ? 'post' : 'pre';
      const parts = splitDoubleUnderscore(tool);
      return {
        ok: true,
        call: {
          phase,
          server: parts?.server ?? serverLabelFromEndpoint(str(doc.url), str(doc.command)),
          tool: parts?.tool ?? tool,
          argumentNames: argumentNamesOf(doc.tool_input),
          sessionId: str(doc.conversation_id),
          durationMs: durationOf(doc.duration),
          success: phase === 'post' ? !(isObject(doc.result_json) && doc.result_json.isError === true) : null,
          isMcp: true,
          cwd: Array.isArray(doc.workspace_roots) && doc.workspace_roots.length === 1 ? str(doc.workspace_roots[0]) : null,
          rawToolName: tool,
        },
      };
    }
    case 'copilot-cli': {
      const tool = str(doc.toolName);
      if (!tool) return invalid('copilot-cli hook input lacks toolName');
      const phase: HookPhase = doc.toolResult !== undefined ? 'post' : 'pre';
      const parts = splitDoubleUnderscore(tool) ?? (() => {
        // Copilot CLI names MCP tools <server>-<tool>; built-in tools have no dash-separated server.
        const m = /^([^/]+?)-(.+)$/.exec(tool);
        return m ? { server: m[1] as string, tool: m[2] as string } : null;
      })();
      const result = isObject(doc.toolResult) ? doc.toolResult : null;
      return {
        ok: true,
        call: {
          phase,
          server: parts?.server ?? '',
          tool: parts?.tool ?? tool,
          argumentNames: argumentNamesOf(doc.toolArgs),
          sessionId: str(doc.sessionId),
          durationMs: null,
          success: phase === 'post' ? !(result && (result.resultType === 'failure' || result.resultType === 'denied')) : null,
          isMcp: parts !== null,
          cwd: str(doc.cwd),
          rawToolName: tool,
        },
      };
    }
    case 'windsurf': {
      const action = str(doc.agent_action_name);
      if (action !== spec.preEvent && action !== spec.postEvent) return invalid(`windsurf hook action ${JSON.stringify(action).slice(0, 80)} is not ${spec.preEvent} or ${spec.postEvent}`);
      const info = isObject(doc.tool_info) ? doc.tool_info : null;
      const server = info ? str(info.mcp_server_name) : null;
      const tool = info ? str(info.mcp_tool_name) : null;
      if (!server || !tool) return invalid('windsurf hook input lacks tool_info.mcp_server_name or mcp_tool_name');
      const phase: HookPhase = action === spec.preEvent ? 'pre' : 'post';
      return {
        ok: true,
        call: {
          phase,
          server,
          tool,
          argumentNames: argumentNamesOf(info?.mcp_tool_arguments),
          sessionId: str(doc.trajectory_id),
          durationMs: null,
          success: phase === 'post' ? !(isObject(info?.mcp_result) && (info?.mcp_result as Json).isError === true) : null,
          isMcp: true,
          cwd: null,
          rawToolName: tool,
        },
      };
    }
  }
}

/**
 * The client's answer to a decision. `message` is what the user (and the model) is told on a
 * deny or ask. The post phase always answers "nothing to add".
 */
export function renderAnswer(client: HookClientId, phase: HookPhase, decision: AnswerDecision, message: string): HookAnswer {
  const spec = HOOK_CLIENTS[client];
  const ok = (stdout: string): HookAnswer => ({ stdout, stderr: '', exitCode: 0 });
  if (phase === 'post') return ok(client === 'cursor' || client === 'gemini-cli' ? '{}\n' : '');
  // A client that cannot ask: the call needs approval mcpwatch cannot get here, so it is refused with that said.
  const effective: AnswerDecision = decision === 'ask' && !spec.supportsAsk ? 'deny' : decision;
  const text = decision === 'ask' && !spec.supportsAsk ? `${message} (this client cannot ask for confirmation, so the call was refused)` : message;
  switch (client) {
    case 'claude-code':
    case 'codex':
    case 'vscode':
      if (effective === 'allow') return ok('');
      return ok(`${JSON.stringify({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: effective, permissionDecisionReason: text } })}\n`);
    case 'cursor':
      if (effective === 'allow') return ok(`${JSON.stringify({ permission: 'allow' })}\n`);
      return ok(`${JSON.stringify({ permission: effective, user_message: text, agent_message: text })}\n`);
    case 'gemini-cli':
      if (effective === 'allow') return ok('{}\n');
      return ok(`${JSON.stringify({ decision: 'deny', reason: text })}\n`);
    case 'copilot-cli':
      if (effective === 'allow') return ok('');
      return ok(`${JSON.stringify({ permissionDecision: effective, permissionDecisionReason: text })}\n`);
    case 'windsurf':
      if (effective === 'allow') return ok('');
      return { stdout: '', stderr: `${text}\n`, exitCode: 2 };
  }
}
