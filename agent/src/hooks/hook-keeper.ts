/**
 * Watches mcpwatch's hook in the clients' hook files while the agent runs, in every mode of the
 * setting `hooks` (off | audit | enforce); only what it does about a change depends on it.
 *
 * Every check (at start, then every intervalMs; run: the `hookCheckMs` setting) looks at
 * - the hook files mcpwatch has install records of (hook-records.ts: `hooks install` and the
 *   keeper share one store in the state dir): user-scope ones inside the homes given, and the
 *   managed ones;
 * - with audit or enforce also each user home's hook file of every client that documents one,
 *   where the client's directory exists (no directories are created for absent clients).
 * A file's state is compared with the last one seen and a change becomes one `hook.status` event.
 * Each state is also posted to the state dir's HookStateBoard (hook-state-board.ts), which the
 * rules read: a tampered hook (recorded, then removed or altered) is the `hook-tampered` finding.
 *
 * - off (report only): never writes a hook file. Tampering is reported and raised, and stays so
 *   until the hook is back as recorded (the finding then resolves) or its record is removed
 *   (`hooks uninstall`): the file is then reported once more, as it is now, and no longer watched.
 * - audit / enforce: a missing hook is installed and a tampered one re-installed, and reported as
 *   such; a recorded file whose folder is gone is only reported (no folders are created). A
 *   tampered hook is re-installed only once the rules have read the tampered state (or after
 *   tamperHoldMs when no rules read the board), so the finding is raised, then resolved.
 * - An outdated install (pre and post in place, the client's failure event not: installed before
 *   mcpwatch hooked it, hook-installer.ts) is not tampering: audit / enforce upgrade it (reported
 *   `installed`, detail `upgraded ...`); off reports it `installed` with the outdated detail.
 *
 * The installer (and its JSONC parser) is loaded only when there is a file to look at: with
 * hooks=off and no records, a check is one directory listing. Never throws; errors go to onError.
 * Timer unref()'d; shutdown() idempotent.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeEvent, type HookStatusData, type McpEvent } from '@mcpwatch/shared';
import type { Platform } from '../types.js';
import { HOOK_CLIENT_IDS, HOOK_CLIENTS, type HookClientId } from './hook-catalog.js';
import { clientPresenceDir, hookFileOf, type HookTarget } from './hook-targets.js';
import { listHookRecords, type HookFileRef } from './hook-records.js';
import { hookStateBoard, type HookStateBoard } from './hook-state-board.js';

export type HooksSetting = 'off' | 'audit' | 'enforce';

export interface HookKeeperOptions {
  setting: HooksSetting;
  stateDir: string;
  platform: Platform;
  homes: () => Promise<string[]>;
  command: (client: HookClientId) => string;
  endpointId: () => string;
  push: (e: McpEvent) => void;
  onError: (e: Error) => void;
  /** Time between checks. Default 60 s (run passes the `hookCheckMs` setting). */
  intervalMs?: number;
  now?: () => Date;
  /** Where states are posted for the rules. Default: hookStateBoard(stateDir). */
  board?: HookStateBoard;
  /** Longest wait for the rules to read a tampered state before re-installing. Default 30 s. */
  tamperHoldMs?: number;
}

/** A hook file to check, and whether the keeper may write it (audit/enforce, its folder there). */
interface Watched extends HookFileRef {
  repair: boolean;
}

type Installer = typeof import('./hook-installer.js');

const keyOf = (f: HookFileRef): string => `${f.client}|${f.scope}|${f.path}`;

function inside(file: string, dir: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

export class HookKeeper {
  private readonly last = new Map<string, string>();
  /** The files the previous check looked at. */
  private watched = new Map<string, HookFileRef>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly board: HookStateBoard;
  private installer: Promise<Installer> | null = null;

  constructor(private readonly o: HookKeeperOptions) {
    this.board = o.board ?? hookStateBoard(o.stateDir);
  }

  start(): Promise<void> {
    this.timer = setInterval(() => void this.check(), this.o.intervalMs ?? 60_000);
    this.timer.unref();
    return this.check();
  }

  shutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One pass over every watched hook file. Resolves when done; never rejects. */
  check(): Promise<void> {
    this.running ??= this.pass().catch((e) => this.o.onError(e as Error)).finally(() => (this.running = null));
    return this.running;
  }

  private emit(data: HookStatusData): void {
    this.board.post({ ...data, since: (this.o.now?.() ?? new Date()).toISOString() });
    const key = `${data.client}|${data.path}`;
    // A change of state is news; a reworded detail of the same state is not.
    const sig = data.state;
    if (this.last.get(key) === sig) return;
    this.last.set(key, sig);
    this.o.push(makeEvent('hook.status', this.o.endpointId(), data, this.o.now?.() ?? new Date()));
  }

  /** The files this check looks at: recorded ones, and with audit/enforce every present client's. */
  private async targets(): Promise<Map<string, Watched>> {
    const keep = this.o.setting !== 'off';
    const records = listHookRecords(this.o.stateDir);
    // hooks=off without records (the common case): nothing to look at, not even the homes.
    if (!keep && records.length === 0) return new Map();
    const homes = (await this.o.homes()).map((h) => path.resolve(h));
    const out = new Map<string, Watched>();
    if (keep) {
      for (const home of homes) {
        for (const client of HOOK_CLIENT_IDS) {
          if (!HOOK_CLIENTS[client].layout) continue;
          const t: HookTarget = { client, scope: 'user', platform: this.o.platform, home, systemRoot: '/' };
          const file = hookFileOf(t);
          const present = clientPresenceDir(t);
          if (!file || !present || !fs.existsSync(present)) continue;
          const ref = { client, scope: 'user' as const, path: file };
          out.set(keyOf(ref), { ...ref, repair: true });
        }
      }
    }
    for (const r of records) {
      if (r.scope === 'user' && !homes.some((h) => inside(r.path, h))) continue;
      const ref = { client: r.client, scope: r.scope, path: r.path };
      if (!out.has(keyOf(ref))) out.set(keyOf(ref), { ...ref, repair: keep && fs.existsSync(path.dirname(r.path)) });
    }
    return out;
  }

  private async pass(): Promise<void> {
    const targets = await this.targets();
    // Watched last time, not now (its record removed by `hooks uninstall`): reported once more as it is, then let go.
    const released = [...this.watched].filter(([k]) => !targets.has(k)).map(([, f]) => f);
    this.watched = new Map([...targets].map(([k, t]) => [k, { client: t.client, scope: t.scope, path: t.path }]));
    if (targets.size === 0 && released.length === 0) return;
    this.installer ??= import('./hook-installer.js');
    const inst = await this.installer;
    for (const f of released) {
      const s = inst.hookFileStatus(f, { stateDir: this.o.stateDir, command: this.o.command(f.client) });
      if (s.state === 'unsupported') continue;
      const state = s.state === 'outdated' ? 'installed' : s.state;
      const why = s.state === 'tampered' ? 'its home is not watched now' : 'mcpwatch has no install record of it (hooks uninstall)';
      const detail = `no longer watched: ${why}${s.detail ? `; ${s.detail}` : ''}`;
      this.emit({ client: f.client, scope: f.scope, path: f.path, state, detail: detail.slice(0, 1024) });
    }
    for (const t of targets.values()) {
      const ref: HookFileRef = { client: t.client, scope: t.scope, path: t.path };
      const ctx = { stateDir: this.o.stateDir, command: this.o.command(t.client) };
      const s = inst.hookFileStatus(ref, ctx);
      const base = { client: t.client, scope: t.scope, path: t.path };
      if (t.repair && (s.state === 'missing' || s.state === 'tampered' || s.state === 'outdated')) {
        if (s.state === 'tampered') {
          const read = this.board.nextRead(this.o.tamperHoldMs ?? 30_000);
          this.emit({ ...base, state: 'tampered', ...(s.detail ? { detail: s.detail.slice(0, 1024) } : {}) });
          // The rules see it tampered before it is put back: the finding is raised, then resolved.
          await read;
        }
        const r = inst.installHookFile(ref, ctx);
        if (r.action === 'error') this.emit({ ...base, state: 'error', detail: `${r.code}: ${r.message ?? ''}`.slice(0, 1024) });
        else {
          const what = s.state === 'tampered' ? 're-installed after tampering' : s.state === 'outdated' ? 'upgraded by the agent (setting hooks)' : 'installed by the agent (setting hooks)';
          this.emit({ ...base, state: 'installed', detail: (what + (r.message ? `; ${r.message}` : '')).slice(0, 1024) });
        }
        continue;
      }
      if (s.state === 'unsupported') continue;
      // hook.status has no outdated state: the hook is there and works for successful calls.
      this.emit({ ...base, state: s.state === 'outdated' ? 'installed' : s.state, ...(s.detail ? { detail: s.detail.slice(0, 1024) } : {}) });
    }
  }
}
