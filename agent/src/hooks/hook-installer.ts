/**
 * Installs, removes and checks mcpwatch's hook in a client's hook file (hook-catalog.ts says
 * where and in which layout), keeping the user's own hooks, comments and formatting: edits are
 * jsonc-parser modify/applyEdits insertions and removals of our entries only, written atomically
 * (config-edit/writeFileAtomic) so the client never reads a torn file.
 *
 * Promises:
 * - install is idempotent: a second install with the same command writes nothing.
 * - Backup first: before the first change to a file, its original bytes (or the fact that it did
 *   not exist) are kept in the state dir's hook record store (hook-records.ts: one record per hook
 *   file, shared by `hooks install` and run's keeper) with a record of what was installed.
 * - uninstall restores the original bytes exactly when the file is still what install wrote
 *   (nothing else changed); otherwise it removes only our entries and leaves the rest.
 * - status tells installed / missing / tampered (our entry removed or its command changed after
 *   install) / outdated (pre and post in place but not the client's failure event, which installs
 *   before it existed lack: `hooks install` and the keeper add it) / error (unreadable or
 *   unparsable file) / unsupported (no documented file there).
 * - Never throws: failures are results with a code (MCPW_ERR_HOOK_FILE, MCPW_ERR_HOOK_UNSUPPORTED);
 *   a file that does not parse is never written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { applyEdits, modify, parse, type FormattingOptions, type ParseError } from 'jsonc-parser';
import { writeFileAtomic } from '../config-edit/atomic-write.js';
import { AgentCodes } from '../errors.js';
import { HOOK_CLIENTS, hookEventsOf, type HookClientId, type HookClientSpec, type HookScope } from './hook-catalog.js';
import { hookFileOf, type HookTarget } from './hook-targets.js';
import { hookRecordFiles, readHookRecord, removeHookRecord, writeHookRecord, type HookFileRef } from './hook-records.js';

export { clientPresenceDir, defaultHookCommand, hookFileOf, type HookTarget } from './hook-targets.js';

export interface HookInstallContext {
  /** The agent's state dir: backups and install records live in its hook record store (hook-records.ts). */
  stateDir: string;
  /** The command line the client runs for `client`. */
  command: string;
}

export type HookState = 'installed' | 'outdated' | 'missing' | 'tampered' | 'error' | 'unsupported';

export interface HookResult {
  client: HookClientId;
  scope: HookScope;
  path: string | null;
  action: 'installed' | 'unchanged' | 'restored' | 'removed' | 'absent' | 'unsupported' | 'error';
  code?: string;
  message?: string;
}

export interface HookStatus {
  client: HookClientId;
  scope: HookScope;
  path: string | null;
  state: HookState;
  detail?: string;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');


/** Whether a hook command line is mcpwatch's hook for `client`. */
export function isOurCommand(command: unknown, client: HookClientId): boolean {
  return typeof command === 'string' && /mcpwatch/i.test(command) && new RegExp(`\\bhook\\s+"?${client}"?(\\s|$)`).test(command);
}

function formatting(text: string): FormattingOptions {
  const indent = /\n([ \t]+)\S/.exec(text)?.[1];
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  if (indent?.startsWith('\t')) return { insertSpaces: false, tabSize: 1, eol };
  return { insertSpaces: true, tabSize: indent ? indent.length : 2, eol };
}

function parseJsonc(text: string): { doc: unknown; error: string | null } {
  if (text.trim() === '') return { doc: {}, error: null };
  const errors: ParseError[] = [];
  const doc = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0) return { doc, error: `not valid JSON/JSONC (error ${errors[0]?.error} at offset ${errors[0]?.offset})` };
  if (text.trim() !== '' && (typeof doc !== 'object' || doc === null || Array.isArray(doc))) return { doc, error: 'not a JSON object' };
  return { doc: doc ?? {}, error: null };
}

type Json = Record<string, unknown>;

/** PowerShell runs a quoted program path only through the call operator. */
function powershellCommand(command: string): string {
  return command.startsWith('"') ? `& ${command}` : command;
}

/** The command a hook entry runs (Copilot CLI: `bash`, else `command`). */
function commandOfEntry(spec: HookClientSpec, entry: Json): unknown {
  return spec.layout === 'copilot-hooks' ? entry.bash ?? entry.command ?? entry.powershell : entry.command;
}

function entryFor(spec: HookClientSpec, command: string): unknown {
  if (spec.layout === 'copilot-hooks') return { type: 'command', bash: command, powershell: powershellCommand(command), timeoutSec: spec.timeout?.value ?? 10 };
  if (spec.layout === 'matcher-groups') {
    const hook: Json = { type: 'command', command };
    if (spec.id === 'gemini-cli') hook.name = 'mcpwatch';
    if (spec.timeout) hook[spec.timeout.field] = spec.timeout.value;
    return { matcher: spec.matcher, hooks: [hook] };
  }
  if (spec.layout === 'windsurf-hooks') return { command, show_output: true };
  return { command };
}

/** Our commands in one event's array: for each entry index, the command found (matcher groups: inner hooks). */
function oursIn(spec: HookClientSpec, list: unknown): { index: number; inner: number | null; command: string }[] {
  if (!Array.isArray(list)) return [];
  const out: { index: number; inner: number | null; command: string }[] = [];
  list.forEach((entry, index) => {
    if (typeof entry !== 'object' || entry === null) return;
    if (spec.layout === 'matcher-groups') {
      const hooks = (entry as Json).hooks;
      if (!Array.isArray(hooks)) return;
      hooks.forEach((h, inner) => {
        const c = (h as Json | null)?.command;
        if (isOurCommand(c, spec.id)) out.push({ index, inner: hooks.length === 1 ? null : inner, command: c as string });
      });
    } else {
      const c = commandOfEntry(spec, entry as Json);
      if (isOurCommand(c, spec.id)) out.push({ index, inner: null, command: c as string });
    }
  });
  return out;
}

function eventList(doc: unknown, event: string): unknown {
  const hooks = (doc as Json | null)?.hooks;
  return typeof hooks === 'object' && hooks !== null ? (hooks as Json)[event] : undefined;
}

function removeOurs(text: string, spec: HookClientSpec): { text: string; removed: number } {
  let removed = 0;
  for (const event of hookEventsOf(spec)) {
    const found = oursIn(spec, eventList(parseJsonc(text).doc, event));
    // From the end, so earlier indexes stay valid.
    for (const f of found.reverse()) {
      const p = f.inner === null ? ['hooks', event, f.index] : ['hooks', event, f.index, 'hooks', f.inner];
      text = applyEdits(text, modify(text, p, undefined, { formattingOptions: formatting(text) }));
      removed++;
    }
  }
  return { text, removed };
}

function addOurs(text: string, spec: HookClientSpec, command: string): string {
  const base = text.trim() === '' ? '{}' : text;
  let out = base;
  if ((spec.layout === 'cursor-hooks' || spec.layout === 'copilot-hooks') && (parseJsonc(out).doc as Json).version === undefined) {
    out = applyEdits(out, modify(out, ['version'], 1, { formattingOptions: formatting(out) }));
  }
  for (const event of hookEventsOf(spec)) {
    const list = eventList(parseJsonc(out).doc, event);
    const entry = entryFor(spec, command);
    const edits = Array.isArray(list)
      ? modify(out, ['hooks', event, -1], entry, { formattingOptions: formatting(out), isArrayInsertion: true })
      : modify(out, ['hooks', event], [entry], { formattingOptions: formatting(out) });
    out = applyEdits(out, edits);
  }
  return out;
}

/** For a strict-JSON client: why the client will ignore this text (comments, trailing commas), or null. */
function strictJsonProblem(spec: HookClientSpec, text: string): string | null {
  if (!spec.strictJson || text.trim() === '') return null;
  try {
    JSON.parse(text);
    return null;
  } catch {
    return `${spec.displayName} reads this file as strict JSON and ignores all of it (mcpwatch's hook too) while it holds comments or trailing commas`;
  }
}

/** Our entries per event of the client (hookEventsOf order), and whether each is exactly one running `command`. */
function entriesIn(spec: HookClientSpec, doc: unknown, command: string): { event: string; count: number; ok: boolean }[] {
  return hookEventsOf(spec).map((event) => {
    const found = oursIn(spec, eventList(doc, event));
    return { event, count: found.length, ok: found.length === 1 && found[0]?.command === command };
  });
}

function readText(file: string): { text: string; existed: boolean } {
  try {
    return { text: fs.readFileSync(file, 'utf8'), existed: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { text: '', existed: false };
    throw e;
  }
}

function writeText(file: string, text: string, existed: boolean): void {
  if (existed) writeFileAtomic(file, text);
  else {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text, { mode: 0o644, flag: 'wx' });
  }
}

function fail(f: { client: HookClientId; scope: HookScope }, file: string | null, code: string, message: string): HookResult {
  return { client: f.client, scope: f.scope, path: file, action: code === AgentCodes.hookUnsupported ? 'unsupported' : 'error', code, message };
}

function unsupported(t: HookTarget): HookResult {
  return fail(t, null, AgentCodes.hookUnsupported, `${HOOK_CLIENTS[t.client].displayName} documents no ${t.scope} hook file mcpwatch installs into`);
}

/** The hook file of a target as a record store reference, or null when the client documents none. */
function refOf(t: HookTarget): HookFileRef | null {
  const file = hookFileOf(t);
  return file ? { client: t.client, scope: t.scope, path: file } : null;
}

/** Installs our hook for the target's client (pre and post events). */
export function installHook(t: HookTarget, ctx: HookInstallContext): HookResult {
  const ref = refOf(t);
  return ref ? installHookFile(ref, ctx) : unsupported(t);
}

/** Installs our hook into one hook file (a target's, or one the record store names). */
export function installHookFile(f: HookFileRef, ctx: HookInstallContext): HookResult {
  const spec = HOOK_CLIENTS[f.client];
  const file = f.path;
  try {
    const { text, existed } = readText(file);
    const parsed = parseJsonc(text);
    if (parsed.error) return fail(f, file, AgentCodes.hookFile, `${file}: ${parsed.error}; not changed`);
    const before = entriesIn(spec, parsed.doc, ctx.command);
    if (before.every((e) => e.ok)) return { client: f.client, scope: f.scope, path: file, action: 'unchanged' };
    // Pre and post in place, only the failure event missing: an install from before that event (upgraded here).
    const upgrade = spec.failureEvent && before.every((e) => e.ok || (e.event === spec.failureEvent && e.count === 0));
    const paths = hookRecordFiles(ctx.stateDir, f);
    let record = readHookRecord(ctx.stateDir, f);
    const without = removeOurs(text, spec).text;
    if (!record) {
      fs.mkdirSync(path.dirname(paths.record), { recursive: true, mode: 0o700 });
      if (existed) fs.writeFileSync(paths.backup, text, { mode: 0o600 });
      else fs.rmSync(paths.backup, { force: true });
      record = { ...f, existed, command: ctx.command, installedSha256: '' };
    } else if (sha256(text) !== record.installedSha256) {
      // Changed by someone since our install: that version (without our entries) is what uninstall gives back.
      if (existed) fs.writeFileSync(paths.backup, without, { mode: 0o600 });
      record = { ...record, existed };
    }
    const next = addOurs(without, spec, ctx.command);
    writeText(file, next, existed);
    writeHookRecord(ctx.stateDir, { ...record, command: ctx.command, installedSha256: sha256(next), events: hookEventsOf(spec) });
    const inactive = strictJsonProblem(spec, next);
    const upgraded = upgrade ? `upgraded an older install: added the ${spec.failureEvent} entry` : null;
    const said = (inactive ? [`installed but inactive: ${inactive}`, upgraded] : [upgraded, f.scope === 'user' ? spec.installNote : undefined]).filter((m): m is string => !!m);
    const note = { ...(inactive ? { code: AgentCodes.hookFile } : {}), ...(said.length > 0 ? { message: said.join('; ') } : {}) };
    return { client: f.client, scope: f.scope, path: file, action: 'installed', ...note };
  } catch (e) {
    return fail(f, file, AgentCodes.hookFile, `${file}: ${(e as Error).message}`);
  }
}

/** Removes our hook: the original bytes when nothing else changed since install, else our entries only. */
export function uninstallHook(t: HookTarget, ctx: Pick<HookInstallContext, 'stateDir'>): HookResult {
  const spec = HOOK_CLIENTS[t.client];
  const f = refOf(t);
  if (!f) return unsupported(t);
  const file = f.path;
  try {
    const record = readHookRecord(ctx.stateDir, f);
    const { text, existed } = readText(file);
    let action: HookResult['action'];
    if (record && existed && sha256(text) === record.installedSha256) {
      if (record.existed) writeFileAtomic(file, fs.readFileSync(hookRecordFiles(ctx.stateDir, f).backup));
      else fs.rmSync(file);
      action = 'restored';
    } else if (existed) {
      const parsed = parseJsonc(text);
      if (parsed.error) return fail(t, file, AgentCodes.hookFile, `${file}: ${parsed.error}; not changed`);
      const { text: next, removed } = removeOurs(text, spec);
      if (removed > 0) writeFileAtomic(file, next);
      action = removed > 0 ? 'removed' : 'absent';
    } else action = 'absent';
    removeHookRecord(ctx.stateDir, f);
    return { client: t.client, scope: t.scope, path: file, action };
  } catch (e) {
    return fail(t, file, AgentCodes.hookFile, `${file}: ${(e as Error).message}`);
  }
}

/** The state of our hook in the target's file. `command` is what should be there. */
export function hookStatus(t: HookTarget, ctx: HookInstallContext): HookStatus {
  const f = refOf(t);
  if (!f) return { client: t.client, scope: t.scope, path: null, state: 'unsupported', detail: unsupported(t).message as string };
  return hookFileStatus(f, ctx);
}

/**
 * The state of our hook in one hook file: installed (as the install record, else `command`, says),
 * missing (not there and no record of an install), tampered (recorded, then removed or changed),
 * error (unreadable or unparsable).
 */
export function hookFileStatus(f: HookFileRef, ctx: HookInstallContext): HookStatus {
  const spec = HOOK_CLIENTS[f.client];
  const file = f.path;
  const base = { client: f.client, scope: f.scope, path: file };
  try {
    const record = readHookRecord(ctx.stateDir, f);
    const { text, existed } = readText(file);
    const parsed = parseJsonc(text);
    if (parsed.error) return { ...base, state: 'error', detail: `${AgentCodes.hookFile}: ${parsed.error}` };
    const expected = record?.command ?? ctx.command;
    const entries = entriesIn(spec, parsed.doc, expected);
    const inactive = strictJsonProblem(spec, text);
    if (entries.every((e) => e.ok)) return { ...base, state: 'installed', ...(inactive ? { detail: `inactive: ${inactive}` } : {}) };
    // Pre and post as installed, no failure-event entry, and no record of installing one: an
    // install from before the event was added (not tampering).
    const failure = spec.failureEvent;
    if (failure && !record?.events?.includes(failure) && entries.every((e) => e.ok || (e.event === failure && e.count === 0))) {
      const detail = `outdated: installed without the ${failure} entry, so failed tool calls are not journaled after the call; \`mcpwatch-agent hooks install\` (or the agent with hooks audit|enforce) adds it${inactive ? `; inactive: ${inactive}` : ''}`;
      return { ...base, state: 'outdated', detail };
    }
    if (!record) return { ...base, state: 'missing', ...(existed ? {} : { detail: 'file does not exist' }) };
    const detail =
      !existed
        ? `${file}, which held mcpwatch's hook, was deleted after it was installed`
        : entries.every((e) => e.count === 0)
          ? `mcpwatch's hook was removed from ${file} after it was installed`
          : `mcpwatch's hook in ${file} was changed after it was installed (${entries.map((e) => `${e.event}: ${e.count}`).join(', ')} entries)`;
    return { ...base, state: 'tampered', detail };
  } catch (e) {
    return { ...base, state: 'error', detail: `${AgentCodes.hookFile}: ${(e as Error).message}` };
  }
}
