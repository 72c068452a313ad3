/**
 * Where mcpwatch's hook goes for a client, a scope and a home (the catalog's file locations,
 * hook-catalog.ts), whether that client is on the machine, and the command line the hook runs.
 * Shared by the installer, the `hooks` command and run's keeper, which looks at targets without
 * loading the installer. Pure path arithmetic: no I/O.
 */
import * as path from 'node:path';
import type { Platform } from '../types.js';
import { HOOK_CLIENTS, type HookClientId, type HookScope } from './hook-catalog.js';

export interface HookTarget {
  client: HookClientId;
  scope: HookScope;
  platform: Platform;
  home: string;
  /** Prefix of machine-wide locations ('/' or 'C:\\' on a machine; a fixture dir in tests). */
  systemRoot: string;
}

/** The hook file of a target, or null when the client documents none for that scope. */
export function hookFileOf(t: HookTarget): string | null {
  const spec = HOOK_CLIENTS[t.client];
  return spec.layout ? spec.file(t.scope, t.platform, t.home, t.systemRoot) : null;
}

/** The folder whose existence says the target's client is on the machine (null: no hook file there). */
export function clientPresenceDir(t: HookTarget): string | null {
  const file = hookFileOf(t);
  if (!file) return null;
  const spec = HOOK_CLIENTS[t.client];
  return t.scope === 'user' && spec.presentIn ? spec.presentIn(t.home, t.platform) : path.dirname(file);
}

function quote(s: string): string {
  return /[\s"]/.test(s) ? `"${s.replace(/"/g, '\\"')}"` : s;
}

/** The command line a client runs for `client`: this executable (node + script, or the single executable). */
export function defaultHookCommand(client: HookClientId, stateDir: string | null): string {
  const script = process.argv[1] ?? '';
  const exe = process.execPath;
  const base = /mcpwatch-agent(\.js)?$/i.test(path.basename(script))
    ? `${quote(exe)} ${quote(path.resolve(script))}`
    : /mcpwatch-agent/i.test(path.basename(exe))
      ? quote(exe)
      : 'mcpwatch-agent';
  return `${base} hook ${client}${stateDir ? ` --state-dir ${quote(stateDir)}` : ''}`;
}
