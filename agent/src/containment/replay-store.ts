/**
 * The commands this agent has accepted, so a command is acted on once: bounded, persisted in the
 * state dir (`containment/seen-commands.json`, owner-only, written atomically).
 *
 * Contract:
 * - `check(c)` says `new`, `repeat` (the same signed command again: the collector delivers at least
 *   once, in every ack until it has the result; not acted on again) or `replayed` (its id or nonce
 *   was seen with different content, or it was issued at or before the floor, see below).
 * - Bounded: at most maxEntries. Entries past their expiry are dropped first (an expired command is
 *   refused on its expiry anyway); when still full, the oldest-issued entry goes and the floor
 *   rises to its issuedAt: any command issued at or before the floor is refused as `replayed`, so
 *   forgetting an entry never lets its command be replayed.
 * - A missing or unreadable file starts empty with the floor at "now" (so a command issued before
 *   the loss cannot come back); the problem is reported through the returned warning.
 */
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { SignedCommand } from '@mcpwatch/shared';
import { ensurePrivateDir, readJsonFile, writeFileDurable } from '../spool/durable-file.js';

interface SeenEntry {
  id: string;
  nonce: string;
  /** sha256 of the signature: the same id and nonce with other content is not a repeat. */
  sig: string;
  issuedAt: string;
  expiresAt: string;
}

interface SeenFile {
  floorIssuedAt: string | null;
  entries: SeenEntry[];
}

export type ReplayVerdict = 'new' | 'repeat' | 'replayed';

export const DEFAULT_MAX_SEEN_COMMANDS = 1000;

export class ReplayStore {
  private readonly file: string;
  private state: SeenFile;
  /** Set when the persisted file could not be read (reported once by the caller). */
  readonly warning: string | null;

  constructor(
    stateDir: string,
    private readonly maxEntries = DEFAULT_MAX_SEEN_COMMANDS,
    now: () => number = Date.now,
  ) {
    const dir = path.join(stateDir, 'containment');
    ensurePrivateDir(dir);
    this.file = path.join(dir, 'seen-commands.json');
    let warning: string | null = null;
    let loaded: SeenFile | null = null;
    try {
      loaded = readJsonFile<SeenFile>(this.file);
      if (loaded && (!Array.isArray(loaded.entries) || (loaded.floorIssuedAt !== null && typeof loaded.floorIssuedAt !== 'string'))) throw new Error('unexpected shape');
    } catch (e) {
      warning = `${this.file} is unreadable (${(e as Error).message}); commands issued before now are refused as replayed`;
      loaded = { floorIssuedAt: new Date(now()).toISOString(), entries: [] };
    }
    this.state = loaded ?? { floorIssuedAt: null, entries: [] };
    this.warning = warning;
  }

  check(c: SignedCommand): ReplayVerdict {
    const sig = createHash('sha256').update(c.signature).digest('hex');
    const byId = this.state.entries.find((e) => e.id === c.id);
    if (byId) return byId.sig === sig && byId.nonce === c.nonce ? 'repeat' : 'replayed';
    if (this.state.entries.some((e) => e.nonce === c.nonce)) return 'replayed';
    const floor = this.state.floorIssuedAt;
    if (floor !== null && Date.parse(c.issuedAt) <= Date.parse(floor)) return 'replayed';
    return 'new';
  }

  /** Records an accepted command (durably, before it is acted on). Throws the fs error. */
  remember(c: SignedCommand, nowMs: number): void {
    const sig = createHash('sha256').update(c.signature).digest('hex');
    let entries = [...this.state.entries, { id: c.id, nonce: c.nonce, sig, issuedAt: c.issuedAt, expiresAt: c.expiresAt }];
    let floor = this.state.floorIssuedAt;
    if (entries.length > this.maxEntries) entries = entries.filter((e) => Date.parse(e.expiresAt) >= nowMs);
    if (entries.length > this.maxEntries) {
      entries.sort((a, b) => Date.parse(a.issuedAt) - Date.parse(b.issuedAt));
      const dropped = entries.splice(0, entries.length - this.maxEntries);
      const last = dropped[dropped.length - 1]!.issuedAt;
      if (floor === null || Date.parse(last) > Date.parse(floor)) floor = last;
    }
    const next = { floorIssuedAt: floor, entries };
    writeFileDurable(this.file, JSON.stringify(next));
    this.state = next;
  }

  /** How many commands are remembered (tests, status). */
  size(): number {
    return this.state.entries.length;
  }
}
