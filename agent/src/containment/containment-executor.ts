/**
 * Containment on the endpoint (issue 16): acts on the signed commands the collector put in a batch
 * ack, one at a time, and reports each outcome as an event through `emit` (the spool):
 * `server.quarantined`, `server.restored` or `command.failed` with its reason.
 *
 * Promises:
 * - Nothing is acted on unless command-verifier.ts accepts it (signature under the pinned CA,
 *   this endpoint, not expired, not replayed). A repeat of a command already handled (at-least-once
 *   delivery) is not acted on again and not reported again.
 * - quarantine: the entry is removed from its client's config file through config-edit/ (only
 *   its bytes change), after the original bytes and a record are kept (quarantine-store.ts); the
 *   file is replaced atomically with its mode and owner. If the file changed between the read and
 *   the write, nothing is written (`file-changed`). A server already quarantined is reported
 *   quarantined again (idempotent).
 * - restore: when the file is byte-identical to what the quarantine left, the original bytes go
 *   back (`mode: exact`); when it changed since, the entry is re-inserted into the current file
 *   (`mode: reinserted`); when the entry is already back, or the file is gone or unparsable,
 *   `file-changed`.
 * - Reasons: unknown-server (not in the inventory / not quarantined here / no longer in the file),
 *   unsupported-format (no editor, list-shaped servers, an uneditable layout), permission
 *   (EACCES/EPERM/EROFS), file-changed, error.
 * - `handle` never rejects and never throws; the user's config is never left half-written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeEvent, type McpEvent, type ServerEntry, type CommandFailedData, type SignedCommand } from '@mcpwatch/shared';
import { ConfigEditError, editFormatOf, parseConfig, getAt, reinsertAt, removeAt, writeFileAtomic } from '../config-edit/index.js';
import { AgentCodes } from '../errors.js';
import { verifyIncoming } from './command-verifier.js';
import { ReplayStore } from './replay-store.js';
import { QuarantineStore, sha256, type QuarantineRecord } from './quarantine-store.js';
import { locateEntry } from './server-locator.js';

export interface ContainmentExecutorOptions {
  stateDir: string;
  endpointId: () => string;
  /** Servers of the current inventory (null before the first scan). */
  servers: () => readonly ServerEntry[] | null;
  emit: (event: McpEvent) => void;
  log: (level: 'error' | 'warn' | 'info' | 'debug', message: string) => void;
  now?: () => number;
  /** The pinned collector CA (default: `<stateDir>/ca-cert.pem`). */
  pinnedCaPem?: () => string | null;
}

/** Longest a quarantine waits for the first inventory of this run. */
const INVENTORY_WAIT_MS = 30_000;

type Outcome = { ok: true; data: { configPath: string; mode?: string } } | { ok: false; reason: CommandFailedData['reason']; message: string };

class Refusal extends Error {
  constructor(
    readonly reason: CommandFailedData['reason'],
    message: string,
  ) {
    super(message);
  }
}

function failureOf(e: unknown): { reason: CommandFailedData['reason']; message: string } {
  if (e instanceof Refusal) return { reason: e.reason, message: e.message };
  if (e instanceof ConfigEditError) {
    if (e.code === AgentCodes.configEditNotFound) return { reason: 'file-changed', message: e.message };
    return { reason: 'unsupported-format', message: e.message };
  }
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return { reason: 'permission', message: `${code}: ${(e as Error).message}` };
  if (code === 'ENOENT') return { reason: 'file-changed', message: `the config file is gone (${(e as Error).message})` };
  return { reason: 'error', message: e instanceof Error ? e.message : String(e) };
}

export class ContainmentExecutor {
  private readonly replay: ReplayStore;
  private readonly quarantines: QuarantineStore;
  private readonly now: () => number;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly o: ContainmentExecutorOptions) {
    this.now = o.now ?? Date.now;
    this.replay = new ReplayStore(o.stateDir, undefined, this.now);
    if (this.replay.warning) o.log('warn', `${AgentCodes.containment}: ${this.replay.warning}`);
    this.quarantines = new QuarantineStore(o.stateDir);
  }

  /** Queues the commands of one ack. Never throws; the returned promise never rejects. */
  handle(commands: readonly unknown[]): Promise<void> {
    for (const raw of commands) this.queue = this.queue.then(() => this.one(raw)).catch((e) => this.o.log('error', `${AgentCodes.containment}: ${(e as Error).message}`));
    return this.queue;
  }

  /** Resolves when every queued command is done. */
  idle(): Promise<void> {
    return this.queue;
  }

  private async one(raw: unknown): Promise<void> {
    const verdict = verifyIncoming(raw, {
      pinnedCaPem: this.o.pinnedCaPem ?? (() => readPem(path.join(this.o.stateDir, 'ca-cert.pem'))),
      endpointId: this.o.endpointId,
      replay: this.replay,
      now: this.now,
    });
    if (!verdict.ok) {
      this.o.log('warn', `${AgentCodes.containment}: ${verdict.failure.reason}: ${verdict.failure.message}`);
      this.o.emit(makeEvent('command.failed', this.o.endpointId(), verdict.failure, new Date(this.now())));
      return;
    }
    if ('repeat' in verdict) {
      this.o.log('debug', `command ${verdict.command.id} delivered again; already handled`);
      return;
    }
    const c = verdict.command;
    // A command in the first ack may beat the first scan: wait for the inventory (bounded).
    for (let waited = 0; c.action === 'quarantine' && this.o.servers() === null && waited < INVENTORY_WAIT_MS; waited += 100) {
      await new Promise((r) => setTimeout(r, 100).unref());
    }
    let outcome: Outcome;
    try {
      outcome = { ok: true, data: c.action === 'quarantine' ? this.quarantine(c) : this.restore(c) };
    } catch (e) {
      outcome = { ok: false, ...failureOf(e) };
    }
    const at = new Date(this.now());
    if (outcome.ok) {
      const type = c.action === 'quarantine' ? 'server.quarantined' : 'server.restored';
      this.o.log('info', `${type} ${c.serverKey} in ${outcome.data.configPath} (command ${c.id})`);
      this.o.emit(makeEvent(type, this.o.endpointId(), { commandId: c.id, serverKey: c.serverKey, ...outcome.data }, at));
    } else {
      this.o.log('warn', `${AgentCodes.containment}: command ${c.id} (${c.action} ${c.serverKey}) failed: ${outcome.reason}: ${outcome.message}`);
      this.o.emit(makeEvent('command.failed', this.o.endpointId(), { commandId: c.id, serverKey: c.serverKey, reason: outcome.reason, message: outcome.message.slice(0, 1024) }, at));
    }
  }

  private quarantine(c: SignedCommand): { configPath: string } {
    const held = this.quarantines.get(c.serverKey);
    if (held) return { configPath: held.configPath };
    const server = this.o.servers()?.find((s) => s.serverKey === c.serverKey);
    if (!server) throw new Refusal('unknown-server', `no server ${c.serverKey} in this endpoint's current inventory`);
    const format = editFormatOf(server.configPath);
    if (!format) throw new Refusal('unsupported-format', `no format-preserving editor for ${path.basename(server.configPath)}`);
    const file = fs.realpathSync(server.configPath);
    const original = fs.readFileSync(file);
    const { bom, text } = decode(original);
    const located = locateEntry(parseConfig(text, format), server.client, server.name, server.projectPath);
    if (!located.ok) throw new Refusal(located.why === 'unsupported' ? 'unsupported-format' : located.why === 'ambiguous' ? 'error' : 'unknown-server', located.message);
    const removed = removeAt(text, format, located.keyPath);
    const next = Buffer.from(bom + removed.text, 'utf8');
    const record: QuarantineRecord = {
      serverKey: c.serverKey,
      commandId: c.id,
      client: server.client,
      name: server.name,
      configPath: file,
      format,
      keyPath: located.keyPath,
      value: removed.value,
      ...(removed.removedText !== undefined ? { removedText: removed.removedText } : {}),
      originalSha256: sha256(original),
      quarantinedSha256: sha256(next),
      quarantinedAt: new Date(this.now()).toISOString(),
    };
    this.quarantines.put(record, original);
    try {
      replaceIfUnchanged(file, original, next);
    } catch (e) {
      this.quarantines.delete(c.serverKey);
      throw e;
    }
    return { configPath: file };
  }

  private restore(c: SignedCommand): { configPath: string; mode: string } {
    const r = this.quarantines.get(c.serverKey);
    if (!r) throw new Refusal('unknown-server', `server ${c.serverKey} is not quarantined by this agent`);
    const current = fs.readFileSync(r.configPath);
    if (sha256(current) === r.quarantinedSha256) {
      replaceIfUnchanged(r.configPath, current, this.quarantines.original(c.serverKey));
      this.quarantines.delete(c.serverKey);
      return { configPath: r.configPath, mode: 'exact' };
    }
    const { bom, text } = decode(current);
    if (getAt(parseConfig(text, r.format), r.keyPath) !== undefined) {
      throw new Refusal('file-changed', `the file changed since the quarantine and ${r.keyPath.join(' > ')} is in it again; nothing written`);
    }
    const next = Buffer.from(bom + reinsertAt(text, r.format, r.keyPath, r.value, r.removedText), 'utf8');
    replaceIfUnchanged(r.configPath, current, next);
    this.quarantines.delete(c.serverKey);
    return { configPath: r.configPath, mode: 'reinserted' };
  }
}

function readPem(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function decode(bytes: Buffer): { bom: string; text: string } {
  const text = bytes.toString('utf8');
  return text.startsWith('\uFEFF') ? { bom: '\uFEFF', text: text.slice(1) } : { bom: '', text };
}

/** Writes `next` over `file` unless its bytes are no longer `expected` (a user edited it meanwhile). */
function replaceIfUnchanged(file: string, expected: Uint8Array, next: Uint8Array): void {
  if (!fs.readFileSync(file).equals(expected)) throw new Refusal('file-changed', `${file} changed while the command ran; nothing written`);
  writeFileAtomic(file, next);
}
