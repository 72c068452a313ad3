/**
 * Keeps mcpwatch's hook in the clients' hook files while the agent runs (setting `hooks`:
 * off | audit | enforce). Every check (at start, then every intervalMs) looks at each user home
 * and each client that documents a user hook file, where the client's directory exists (no
 * directories are created for absent clients): its state is compared with the last one seen and
 * a change becomes a `hook.status` event; with `hooks` audit or enforce, a missing or tampered
 * hook is (re-)installed and reported as such. With `hooks=off` it only reports.
 * Each state is also posted to the state dir's HookStateBoard (hook-state-board.ts), which the
 * rules read: a tampered hook is the `hook-tampered` finding. A tampered hook is re-installed only
 * once the rules have read the tampered state (or after tamperHoldMs when no rules read the board),
 * so the finding is raised, then resolved by the re-install.
 *
 * Never throws; errors go to onError. Timer unref()'d; shutdown() idempotent.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeEvent, type HookStatusData, type McpEvent } from '@mcpwatch/shared';
import type { Platform } from '../types.js';
import { HOOK_CLIENT_IDS, HOOK_CLIENTS, type HookClientId } from './hook-catalog.js';
import { clientPresenceDir, hookFileOf, hookStatus, installHook, type HookTarget } from './hook-installer.js';
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
  intervalMs?: number;
  now?: () => Date;
  /** Where states are posted for the rules. Default: hookStateBoard(stateDir). */
  board?: HookStateBoard;
  /** Longest wait for the rules to read a tampered state before re-installing. Default 30 s. */
  tamperHoldMs?: number;
}

export class HookKeeper {
  private readonly last = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly board: HookStateBoard;

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

  /** One pass over every home and client. Resolves when done; never rejects. */
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

  private async pass(): Promise<void> {
    for (const home of await this.o.homes()) {
      for (const client of HOOK_CLIENT_IDS) {
        if (!HOOK_CLIENTS[client].layout) continue;
        const t: HookTarget = { client, scope: 'user', platform: this.o.platform, home, systemRoot: '/' };
        const file = hookFileOf(t) as string;
        if (!fs.existsSync(clientPresenceDir(t) as string)) continue;
        const ctx = { stateDir: path.join(this.o.stateDir, 'hook-homes', encodeURIComponent(home)), command: this.o.command(client) };
        const s = hookStatus(t, ctx);
        const base = { client, scope: 'user' as const, path: file };
        if (this.o.setting !== 'off' && (s.state === 'missing' || s.state === 'tampered')) {
          if (s.state === 'tampered') {
            const read = this.board.nextRead(this.o.tamperHoldMs ?? 30_000);
            this.emit({ ...base, state: 'tampered', ...(s.detail ? { detail: s.detail.slice(0, 1024) } : {}) });
            // The rules see it tampered before it is put back: the finding is raised, then resolved.
            await read;
          }
          const r = installHook(t, ctx);
          if (r.action === 'error') this.emit({ ...base, state: 'error', detail: `${r.code}: ${r.message ?? ''}`.slice(0, 1024) });
          else this.emit({ ...base, state: 'installed', detail: (s.state === 'tampered' ? 're-installed after tampering' : 'installed by the agent (setting hooks)') + (r.message ? `; ${r.message}` : '') });
          continue;
        }
        if (s.state === 'unsupported') continue;
        this.emit({ ...base, state: s.state, ...(s.detail ? { detail: s.detail.slice(0, 1024) } : {}) });
      }
    }
  }
}
