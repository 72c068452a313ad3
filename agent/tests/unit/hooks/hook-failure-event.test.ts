/**
 * Claude Code runs PostToolUse only after a tool call that succeeded; a failed one runs
 * PostToolUseFailure (code.claude.com/docs/en/hooks, and the input schema of Claude Code 2.1.332:
 * hook-catalog.ts names the source). mcpwatch hooks that event too: the hook maps it to a post
 * record with success false and keeps neither the argument values nor the error text (which may
 * quote them); the installer adds the entry, keeps the round trip byte-identical, and calls an
 * install from before the event `outdated` (upgraded by `hooks install` and by the keeper in
 * audit/enforce, never reported as tampering).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import ajvModule from 'ajv';
import { parse } from 'jsonc-parser';
import { ToolCalledData, type McpEvent } from '@mcpwatch/shared';
import { runHook } from '../../../src/hooks/hook-runner.js';
import { readJournal } from '../../../src/hooks/hook-journal.js';
import { parseHookInput } from '../../../src/hooks/hook-protocol.js';
import { HOOK_CLIENTS } from '../../../src/hooks/hook-catalog.js';
import { hookStatus, installHook, uninstallHook, type HookTarget } from '../../../src/hooks/hook-installer.js';
import { HookKeeper, type HooksSetting } from '../../../src/hooks/hook-keeper.js';
import { readHookRecord } from '../../../src/hooks/hook-records.js';

type AjvClass = typeof ajvModule.default;
const AjvCtor = ((ajvModule as unknown as { default?: AjvClass }).default ?? ajvModule) as AjvClass;
const validate = new AjvCtor({ allErrors: true, strict: false }).compile(ToolCalledData);

const CANARY = 'CANARY-failure-5d1e77-SECRET';
const CMD = '/opt/mcpwatch/bin/mcpwatch-agent hook claude-code --state-dir /var/lib/mcpwatch';
const ORIGINAL = '{\n  // mine\n  "model": "opus",\n  "hooks": {\n    "PostToolUseFailure": [ { "matcher": "Bash", "hooks": [ { "type": "command", "command": "./on-fail.sh" } ] } ]\n  }\n}\n';

/** Claude Code 2.1.332's PostToolUseFailure input for an MCP tool whose server answered an error quoting the argument. */
const FAILURE = {
  session_id: 'sess-9', transcript_path: '/tmp/t.jsonl', cwd: '/work', permission_mode: 'default', hook_event_name: 'PostToolUseFailure',
  tool_name: 'mcp__github__create_issue', tool_input: { title: 't', token: CANARY }, tool_use_id: 'toolu_9',
  error: `MCP error -32603: invalid token ${CANARY}`, is_interrupt: false, duration_ms: 87,
};

function stateDir(policy?: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-hookfail-'));
  if (policy !== undefined) fs.writeFileSync(path.join(dir, 'tool-policy.json'), JSON.stringify(policy));
  return dir;
}

describe('the hook command maps PostToolUseFailure', () => {
  test('to a post record with success false and the duration; neither argument values nor the error text are kept', () => {
    const dir = stateDir({ mode: 'enforce' });
    const r = runHook({ client: 'claude-code', input: { text: JSON.stringify(FAILURE) }, stateDir: dir, now: () => new Date('2026-12-06T10:00:00Z'), user: 'alice' });
    // Nothing to add to a failed call: an empty answer, exit 0, nothing on stderr.
    expect({ stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode }).toEqual({ stdout: '', stderr: '', exitCode: 0 });
    const { records } = readJournal(dir);
    expect(records).toHaveLength(1);
    const rec = records[0] as Record<string, unknown>;
    expect(validate(rec)).toBe(true);
    expect(rec).toMatchObject({ client: 'claude-code', phase: 'post', server: 'github', tool: 'create_issue', argumentNames: ['title', 'token'], success: false, durationMs: 87, decision: 'allow' });
    expect(rec.error).toBeUndefined(); // `error` is the hook's own failure code, not the tool's
    expect(fs.readFileSync(path.join(dir, 'hook-journal', 'journal-0000000001.log')).includes(CANARY)).toBe(false);
    expect(fs.readFileSync(path.join(dir, 'hook-journal', 'journal-0000000001.log')).includes('invalid token')).toBe(false);
  });

  test('PostToolUse stays a successful post; a Codex input naming PostToolUseFailure (not a Codex event) is bad input', () => {
    const ok = parseHookInput('claude-code', JSON.stringify({ ...FAILURE, hook_event_name: 'PostToolUse', error: undefined, tool_response: { content: [] } }));
    expect(ok).toMatchObject({ ok: true, call: { phase: 'post', success: true } });
    expect(parseHookInput('codex', JSON.stringify(FAILURE))).toMatchObject({ ok: false, code: 'MCPW_ERR_HOOK_INPUT_INVALID' });
  });

  test("VS Code running Claude Code's PostToolUseFailure entry with its own input: a failed post, recorded as vscode", () => {
    const vs = { timestamp: '2026-12-06T10:00:00.000Z', cwd: '/work', sessionId: 's', hookEventName: 'PostToolUseFailure', tool_name: 'mcp_github_create_issue', tool_input: { token: CANARY }, tool_use_id: 't-1', error: CANARY };
    expect(parseHookInput('claude-code', JSON.stringify(vs))).toMatchObject({ ok: true, client: 'vscode', call: { phase: 'post', success: false, argumentNames: ['token'] } });
  });
});

function fixture() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-hookfail-inst-'));
  const home = path.join(root, 'home');
  const state = path.join(root, 'state');
  const file = path.join(home, '.claude', 'settings.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, ORIGINAL);
  const target: HookTarget = { client: 'claude-code', scope: 'user', platform: 'linux', home, systemRoot: path.join(root, 'sys') };
  return { root, home, stateDir: state, file, target };
}

type Settings = { hooks: Record<string, { matcher?: string; hooks: { command: string; timeout?: number }[] }[]> };

/** What an agent from before PostToolUseFailure left: pre and post entries, a record without `events` (the CLI's older record place). */
function olderInstall(f: ReturnType<typeof fixture>): string {
  const entry = `{ "matcher": "mcp__.*", "hooks": [ { "type": "command", "command": "${CMD}", "timeout": 10 } ] }`;
  const installed = `{\n  // mine\n  "model": "opus",\n  "hooks": {\n    "PostToolUseFailure": [ { "matcher": "Bash", "hooks": [ { "type": "command", "command": "./on-fail.sh" } ] } ],\n    "PreToolUse": [ ${entry} ],\n    "PostToolUse": [ ${entry} ]\n  }\n}\n`;
  fs.writeFileSync(f.file, installed);
  const dir = path.join(f.stateDir, 'hooks');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'claude-code-user.json'), JSON.stringify({ path: f.file, existed: true, command: CMD, installedSha256: createHash('sha256').update(installed).digest('hex') }));
  fs.writeFileSync(path.join(dir, 'claude-code-user.orig'), ORIGINAL);
  return installed;
}

describe('installing the PostToolUseFailure entry', () => {
  test("install adds it with the MCP matcher beside the user's own, is idempotent, and uninstall gives the original bytes back", () => {
    const f = fixture();
    expect(installHook(f.target, { stateDir: f.stateDir, command: CMD }).action).toBe('installed');
    const doc = parse(fs.readFileSync(f.file, 'utf8')) as Settings;
    expect(doc.hooks.PostToolUseFailure).toEqual([
      { matcher: 'Bash', hooks: [{ type: 'command', command: './on-fail.sh' }] },
      { matcher: HOOK_CLIENTS['claude-code'].matcher, hooks: [{ type: 'command', command: CMD, timeout: 10 }] },
    ]);
    expect(fs.readFileSync(f.file, 'utf8')).toContain('// mine');
    const once = fs.readFileSync(f.file, 'utf8');
    expect(installHook(f.target, { stateDir: f.stateDir, command: CMD }).action).toBe('unchanged');
    expect(fs.readFileSync(f.file, 'utf8')).toBe(once);
    expect(hookStatus(f.target, { stateDir: f.stateDir, command: CMD }).state).toBe('installed');
    expect(uninstallHook(f.target, { stateDir: f.stateDir }).action).toBe('restored');
    expect(fs.readFileSync(f.file, 'utf8')).toBe(ORIGINAL);
  });

  test('an install from before the event is outdated, not tampered; hooks install upgrades it, and uninstall still restores the original', () => {
    const f = fixture();
    olderInstall(f);
    const s = hookStatus(f.target, { stateDir: f.stateDir, command: CMD });
    expect(s.state).toBe('outdated');
    expect(s.detail).toContain('PostToolUseFailure');
    const r = installHook(f.target, { stateDir: f.stateDir, command: CMD });
    expect(r).toMatchObject({ action: 'installed', message: expect.stringContaining('upgraded an older install: added the PostToolUseFailure entry') });
    expect((parse(fs.readFileSync(f.file, 'utf8')) as Settings).hooks.PostToolUseFailure.map((g) => g.hooks[0]?.command)).toEqual(['./on-fail.sh', CMD]);
    expect(hookStatus(f.target, { stateDir: f.stateDir, command: CMD }).state).toBe('installed');
    expect(readHookRecord(f.stateDir, { client: 'claude-code', scope: 'user', path: f.file })?.events).toEqual(['PreToolUse', 'PostToolUse', 'PostToolUseFailure']);
    expect(uninstallHook(f.target, { stateDir: f.stateDir }).action).toBe('restored');
    expect(fs.readFileSync(f.file, 'utf8')).toBe(ORIGINAL);
  });

  test('once installed with the event, removing only its entry is tampering', () => {
    const f = fixture();
    installHook(f.target, { stateDir: f.stateDir, command: CMD });
    const text = fs.readFileSync(f.file, 'utf8');
    const doc = JSON.parse(text.replace('// mine', '')) as Settings;
    doc.hooks.PostToolUseFailure = doc.hooks.PostToolUseFailure.filter((g) => g.hooks[0]?.command !== CMD);
    fs.writeFileSync(f.file, JSON.stringify(doc, null, 2));
    const s = hookStatus(f.target, { stateDir: f.stateDir, command: CMD });
    expect(s).toMatchObject({ state: 'tampered', detail: expect.stringContaining('PostToolUseFailure: 0') });
  });
});

describe('the keeper and an install from before the event', () => {
  async function keep(setting: HooksSetting) {
    const f = fixture();
    const installed = olderInstall(f);
    const events: McpEvent[] = [];
    const errors: Error[] = [];
    const keeper = new HookKeeper({
      setting, stateDir: f.stateDir, platform: 'linux', homes: async () => [f.home], tamperHoldMs: 1,
      command: () => CMD, endpointId: () => 'ep_fail', push: (e) => events.push(e), onError: (e) => errors.push(e),
    });
    await keeper.check();
    keeper.shutdown();
    expect(errors).toEqual([]);
    return { f, installed, events: events.map((e) => e.data as { client: string; state: string; detail?: string }) };
  }

  test('off: reported installed with the outdated detail, never tampered, the file left as it is', async () => {
    const { f, installed, events } = await keep('off');
    expect(events).toEqual([expect.objectContaining({ client: 'claude-code', state: 'installed', detail: expect.stringContaining('outdated') })]);
    expect(fs.readFileSync(f.file, 'utf8')).toBe(installed);
  });

  test.each(['audit', 'enforce'] as const)('%s: upgraded in place and reported so, never tampered', async (setting) => {
    const { f, events } = await keep(setting);
    expect(events).toEqual([expect.objectContaining({ client: 'claude-code', state: 'installed', detail: expect.stringContaining('upgraded by the agent') })]);
    expect(hookStatus(f.target, { stateDir: f.stateDir, command: CMD }).state).toBe('installed');
    expect(uninstallHook(f.target, { stateDir: f.stateDir }).action).toBe('restored');
    expect(fs.readFileSync(f.file, 'utf8')).toBe(ORIGINAL);
  });
});
