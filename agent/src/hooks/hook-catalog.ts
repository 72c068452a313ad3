/**
 * Which MCP clients let mcpwatch see (and decide) each MCP tool call, and how: the hook file per
 * scope and OS, the event names, the shape of the JSON the client writes to the hook's stdin, and
 * how the hook answers. Data only; hook-protocol.ts reads the inputs and writes the answers,
 * hook-installer.ts edits the files. Each entry names the documentation it was taken from.
 *
 * Notes per client:
 * - GitHub Copilot CLI loads every `*.json` of its user hooks folder (`~/.copilot/hooks/`) and of a
 *   machine-wide policy folder: mcpwatch installs a file of its own there (`mcpwatch.json`), never
 *   into repositories (`.github/hooks/*.json`).
 * - VS Code's agent hooks (preview) read `~/.copilot/hooks` and `~/.claude/settings.json` for the
 *   user: the copilot-cli and claude-code files serve it, so it has no file of its own (layout null).
 *   It runs the command found there with ITS input (`hookEventName`, `tool_name`, MCP tools named
 *   `mcp_<server>_<tool>`): hook-protocol.ts tells VS Code's input apart by its shape and answers
 *   VS Code, recorded as client `vscode`.
 * - Codex runs a user's (non-managed) hooks only after the user trusted them (`/hooks`); the
 *   machine-wide file next to the system config layer (`/etc/codex`) is managed: trusted by policy.
 *   Codex fails open on `ask`, so ask is answered as a deny that says so.
 */
import * as path from 'node:path';
import type { Platform } from '../types.js';

export type HookClientId = 'claude-code' | 'cursor' | 'gemini-cli' | 'copilot-cli' | 'windsurf' | 'codex' | 'vscode';
export type HookScope = 'user' | 'managed';
/** How the file holding the hooks is laid out (hook-installer.ts knows each). */
export type HookFileLayout = 'matcher-groups' | 'cursor-hooks' | 'windsurf-hooks' | 'copilot-hooks';

export interface HookClientSpec {
  id: HookClientId;
  displayName: string;
  /** Where the protocol below was read. */
  sources: readonly string[];
  /** Hook event names before and after an MCP tool call. */
  preEvent: string;
  postEvent: string;
  /**
   * The event after a FAILED tool call, for a client whose postEvent fires only on success
   * (Claude Code's PostToolUseFailure). Installed with the same matcher; its call is journaled as a
   * post record with success false. An install from before this event existed lacks it: the
   * installer calls that `outdated` (not tampered) and `hooks install` / the keeper add it.
   */
  failureEvent?: string;
  /** Tool-name regex that selects MCP tools (matcher-groups layout only). */
  matcher?: string;
  /** Timeout field written into the hook entry, in the unit the client reads. */
  timeout?: { field: string; value: number };
  /** Whether the client can ask the user (`ask`); otherwise ask is answered as a deny naming the approval needed. */
  supportsAsk: boolean;
  /** How a deny is expressed: JSON on stdout (exit 0) or exit code 2 with the reason on stderr. */
  denyBy: 'json' | 'exit-2';
  layout: HookFileLayout | null;
  /**
   * The client reads the file as strict JSON and ignores the WHOLE file (hooks included) while it
   * holds comments or trailing commas (seen with Claude Code 2.1.332: tests/integration/hooks/
   * claude-code-e2e.test.ts). The installer keeps such a file as it is but says the hook is inactive.
   */
  strictJson?: boolean;
  /** The hook file for a scope on an OS; null when the client documents none there. */
  file: (scope: HookScope, platform: Platform, home: string, systemRoot: string) => string | null;
  /** A folder whose existence says the client is on the machine for a user (default: the hook file's folder). */
  presentIn?: (home: string, platform: Platform) => string;
  /** Said with every install: what else the client needs before it runs the hook. */
  installNote?: string;
}

/** Joins with the OS's separators; a POSIX root (a fixture home on the Linux test host) keeps POSIX ones. */
function under(root: string, platform: Platform, ...parts: string[]): string {
  const p = platform === 'win32' && !root.startsWith('/') ? path.win32 : path.posix;
  return p.join(root, ...parts);
}

/** Machine-wide locations are joined under systemRoot ('/' or 'C:\' on a real machine; a fixture dir in tests). */
function managedPath(platform: Platform, systemRoot: string, byOs: Record<Platform, string[]>): string {
  return under(systemRoot, platform, ...byOs[platform]);
}

export const HOOK_CLIENTS: Readonly<Record<HookClientId, HookClientSpec>> = Object.freeze({
  'claude-code': {
    id: 'claude-code',
    displayName: 'Claude Code',
    sources: [
      'https://code.claude.com/docs/en/hooks (PreToolUse/PostToolUse, stdin JSON, hookSpecificOutput.permissionDecision allow|deny|ask, exit 2)',
      'https://docs.anthropic.com/en/docs/claude-code/settings (user ~/.claude/settings.json; managed-settings.json per OS)',
      'https://code.claude.com/docs/en/hooks#posttoolusefailure (PostToolUse runs only after a tool call succeeds; a failed one runs PostToolUseFailure, matched on tool_name like PostToolUse: stdin {session_id, transcript_path, cwd, permission_mode, hook_event_name: "PostToolUseFailure", tool_name, tool_input, tool_use_id, error (string), is_interrupt?}); the input schema of Claude Code 2.1.332 (strings of the native binary) also has duration_ms and mcp_server',
    ],
    preEvent: 'PreToolUse',
    postEvent: 'PostToolUse',
    failureEvent: 'PostToolUseFailure',
    // MCP tools are named mcp__<server>__<tool>; a bare server prefix matches nothing.
    matcher: 'mcp__.*',
    timeout: { field: 'timeout', value: 10 }, // seconds
    supportsAsk: true,
    denyBy: 'json',
    layout: 'matcher-groups',
    strictJson: true,
    file: (scope, platform, home, systemRoot) =>
      scope === 'user'
        ? under(home, platform, '.claude', 'settings.json')
        : managedPath(platform, systemRoot, {
            darwin: ['Library', 'Application Support', 'ClaudeCode', 'managed-settings.json'],
            linux: ['etc', 'claude-code', 'managed-settings.json'],
            win32: ['Program Files', 'ClaudeCode', 'managed-settings.json'],
          }),
  },
  cursor: {
    id: 'cursor',
    displayName: 'Cursor',
    sources: [
      'https://cursor.com/docs/agent/hooks (hooks.json version 1; beforeMCPExecution/afterMCPExecution; answer {permission: allow|deny|ask, user_message, agent_message}; user ~/.cursor/hooks.json; enterprise /Library/Application Support/Cursor/hooks.json, /etc/cursor/hooks.json, C:\\ProgramData\\Cursor\\hooks.json)',
    ],
    preEvent: 'beforeMCPExecution',
    postEvent: 'afterMCPExecution',
    supportsAsk: true,
    denyBy: 'json',
    layout: 'cursor-hooks',
    file: (scope, platform, home, systemRoot) =>
      scope === 'user'
        ? under(home, platform, '.cursor', 'hooks.json')
        : managedPath(platform, systemRoot, {
            darwin: ['Library', 'Application Support', 'Cursor', 'hooks.json'],
            linux: ['etc', 'cursor', 'hooks.json'],
            win32: ['ProgramData', 'Cursor', 'hooks.json'],
          }),
  },
  'gemini-cli': {
    id: 'gemini-cli',
    displayName: 'Gemini CLI',
    sources: [
      'https://geminicli.com/docs/hooks/reference (settings.json hooks.BeforeTool/AfterTool matcher groups; stdin JSON tool_name/tool_input; stdout {decision, reason}; exit 2 blocks)',
      'https://github.com/google-gemini/gemini-cli/commit/0d60d68cf99cce5b14829cb974b4c31f0af697ab (MCP tool FQN mcp_<server>_<tool>, server ends at the first underscore)',
      'https://geminicli.com/docs/get-started/configuration (system settings /etc/gemini-cli, C:\\ProgramData\\gemini-cli, /Library/Application Support/GeminiCli)',
    ],
    preEvent: 'BeforeTool',
    postEvent: 'AfterTool',
    matcher: 'mcp_.*',
    timeout: { field: 'timeout', value: 10_000 }, // milliseconds
    supportsAsk: false,
    denyBy: 'json',
    layout: 'matcher-groups',
    file: (scope, platform, home, systemRoot) =>
      scope === 'user'
        ? under(home, platform, '.gemini', 'settings.json')
        : managedPath(platform, systemRoot, {
            darwin: ['Library', 'Application Support', 'GeminiCli', 'settings.json'],
            linux: ['etc', 'gemini-cli', 'settings.json'],
            win32: ['ProgramData', 'gemini-cli', 'settings.json'],
          }),
  },
  'copilot-cli': {
    id: 'copilot-cli',
    displayName: 'GitHub Copilot CLI',
    sources: [
      'https://docs.github.com/en/copilot/reference/copilot-cli-reference/cli-hooks-reference (version 1 hook files; preToolUse/postToolUse entries {type: command, bash, powershell, timeoutSec}; preToolUse stdin {timestamp, cwd, toolName, toolArgs (JSON string)}; answer {permissionDecision: allow|deny|ask, permissionDecisionReason})',
      'https://github.com/github/copilot-sdk/issues/869 (MCP tools are named <server-key>-<tool-name>; a dashed server key is told apart with the configured names, hook-server-map.ts)',
      'https://docs.github.com/en/copilot/reference/hooks-reference (load order: policy-level files /etc/github-copilot/policy.d/*.json, C:\\ProgramData\\GitHub\\Copilot\\policy.d\\*.json, root-owned, not group/world-writable; user-level ~/.copilot/hooks/*.json, %USERPROFILE%\\.copilot\\hooks\\ on Windows, $COPILOT_HOME/hooks when set)',
    ],
    preEvent: 'preToolUse',
    postEvent: 'postToolUse',
    timeout: { field: 'timeoutSec', value: 10 }, // seconds
    supportsAsk: true,
    denyBy: 'json',
    layout: 'copilot-hooks',
    file: (scope, platform, home, systemRoot) =>
      scope === 'user'
        ? under(home, platform, '.copilot', 'hooks', 'mcpwatch.json')
        : managedPath(platform, systemRoot, {
            darwin: ['etc', 'github-copilot', 'policy.d', 'mcpwatch.json'],
            linux: ['etc', 'github-copilot', 'policy.d', 'mcpwatch.json'],
            win32: ['ProgramData', 'GitHub', 'Copilot', 'policy.d', 'mcpwatch.json'],
          }),
    presentIn: (home, platform) => under(home, platform, '.copilot'),
  },
  codex: {
    id: 'codex',
    displayName: 'Codex CLI',
    sources: [
      'https://developers.openai.com/codex/hooks (hooks.json next to each active config layer, ~/.codex/hooks.json for the user; event -> matcher group -> {type: command, command, timeout (seconds)}; PreToolUse/PostToolUse matchers cover MCP tool names mcp__<server>__<tool>; stdin {session_id, transcript_path, cwd, hook_event_name, model, tool_name, tool_use_id, tool_input}; non-managed hooks run only once trusted in /hooks; system/MDM hooks are managed)',
      'https://github.com/openai/codex/pull/18385 (MCP tools in hooks: tool namespace mcp__<server>__; PreToolUse deny via hookSpecificOutput.permissionDecision)',
      'https://github.com/openai/codex/pull/5309 (MCP tool names prefixed mcp__<server>__<tool>)',
    ],
    preEvent: 'PreToolUse',
    postEvent: 'PostToolUse',
    matcher: 'mcp__.*',
    timeout: { field: 'timeout', value: 10 }, // seconds
    // Codex fails open on `ask`: a call that needs asking is refused, saying so.
    supportsAsk: false,
    denyBy: 'json',
    layout: 'matcher-groups',
    file: (scope, platform, home, systemRoot) =>
      scope === 'user'
        ? under(home, platform, '.codex', 'hooks.json')
        : platform === 'win32'
          ? null // no documented system config layer on Windows
          : managedPath(platform, systemRoot, { darwin: ['etc', 'codex', 'hooks.json'], linux: ['etc', 'codex', 'hooks.json'], win32: [] }),
    installNote: 'Codex runs a user hook only after the user trusts it: open /hooks in Codex (the managed /etc/codex file is trusted by policy)',
  },
  vscode: {
    id: 'vscode',
    displayName: 'VS Code (agent hooks)',
    sources: [
      'https://code.visualstudio.com/docs/agent-customization/hooks (preview; user hook files ~/.copilot/hooks and ~/.claude/settings.json, workspace .github/hooks/*.json; PreToolUse/PostToolUse; stdin {timestamp, cwd, sessionId, hookEventName, transcript_path, tool_name, tool_input, tool_use_id}; answer hookSpecificOutput.permissionDecision allow|deny|ask; exit 2 blocks)',
      'https://code.visualstudio.com/docs/agents/reference/hooks-reference (command properties command/windows/linux/osx, timeout seconds)',
      'https://github.com/microsoft/vscode/pull/249929 (MCP tools named mcp_<server>_<tool>) and https://github.com/microsoft/vscode/issues/328487 (the server part may be shortened)',
    ],
    preEvent: 'PreToolUse',
    postEvent: 'PostToolUse',
    supportsAsk: true,
    denyBy: 'json',
    // Served by the copilot-cli file (~/.copilot/hooks/mcpwatch.json) and the claude-code one.
    layout: null,
    file: () => null,
  },
  windsurf: {
    id: 'windsurf',
    displayName: 'Windsurf (Cascade)',
    sources: [
      'https://docs.windsurf.com/windsurf/cascade/hooks (pre_mcp_tool_use/post_mcp_tool_use; stdin {agent_action_name, trajectory_id, tool_info:{mcp_server_name, mcp_tool_name, mcp_tool_arguments}}; exit 2 blocks; user ~/.codeium/windsurf/hooks.json; system /Library/Application Support/Windsurf/hooks.json, /etc/windsurf/hooks.json, C:\\ProgramData\\Windsurf\\hooks.json)',
    ],
    preEvent: 'pre_mcp_tool_use',
    postEvent: 'post_mcp_tool_use',
    supportsAsk: false,
    denyBy: 'exit-2',
    layout: 'windsurf-hooks',
    file: (scope, platform, home, systemRoot) =>
      scope === 'user'
        ? under(home, platform, '.codeium', 'windsurf', 'hooks.json')
        : managedPath(platform, systemRoot, {
            darwin: ['Library', 'Application Support', 'Windsurf', 'hooks.json'],
            linux: ['etc', 'windsurf', 'hooks.json'],
            win32: ['ProgramData', 'Windsurf', 'hooks.json'],
          }),
  },
});

/** The events mcpwatch installs its hook on for a client: pre, post, and the failure event when there is one. */
export function hookEventsOf(spec: HookClientSpec): string[] {
  return spec.failureEvent ? [spec.preEvent, spec.postEvent, spec.failureEvent] : [spec.preEvent, spec.postEvent];
}

export const HOOK_CLIENT_IDS = Object.keys(HOOK_CLIENTS) as HookClientId[];

export function isHookClientId(id: string): id is HookClientId {
  return Object.prototype.hasOwnProperty.call(HOOK_CLIENTS, id);
}
