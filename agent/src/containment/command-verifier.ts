/**
 * Decides whether a command from an ack may be acted on: its shape (the shared SignedCommand
 * schema's bounds), its signature under the collector CA certificate pinned at enrollment
 * (`ca-cert.pem` in the state dir), its target endpoint, its expiry, and replay (replay-store.ts).
 * Anything refused comes back with the `command.failed` reason and a message a person can act on.
 * Never throws.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { COMMAND_ACTIONS, verifyCommand, type CommandFailedData, type SignedCommand } from '@mcpwatch/shared';
import type { ReplayStore } from './replay-store.js';

export type Verdict =
  | { ok: true; command: SignedCommand }
  | { ok: true; repeat: true; command: SignedCommand }
  | { ok: false; failure: CommandFailedData };

const FIELDS: Array<[keyof SignedCommand, number, number]> = [
  ['id', 1, 64],
  ['endpointId', 1, 128],
  ['serverKey', 1, 256],
  ['issuedAt', 1, 64],
  ['expiresAt', 1, 64],
  ['nonce', 16, 64],
  ['signature', 1, 2048],
];

/** The command id to report a refusal under (a malformed command may have none). */
function idOf(raw: unknown): string {
  const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
  return typeof id === 'string' && id.length > 0 ? id.slice(0, 64) : 'unknown';
}

/** Checks a raw command against SignedCommand's shape; the problem, or null. */
export function shapeProblem(raw: unknown): string | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'not an object';
  const c = raw as Record<string, unknown>;
  for (const [k, min, max] of FIELDS) {
    const v = c[k];
    if (typeof v !== 'string' || v.length < min || v.length > max) return `field ${k} missing or out of bounds`;
  }
  if (!(COMMAND_ACTIONS as readonly unknown[]).includes(c.action)) return `unknown action ${JSON.stringify(c.action)?.slice(0, 40)}`;
  if (!/^[A-Za-z0-9_-]+$/.test(c.nonce as string)) return 'nonce is not base64url';
  if (!Number.isFinite(Date.parse(c.issuedAt as string)) || !Number.isFinite(Date.parse(c.expiresAt as string))) return 'issuedAt/expiresAt are not dates';
  const extra = Object.keys(c).filter((k) => k !== 'action' && !FIELDS.some(([f]) => f === k));
  if (extra.length > 0) return `unexpected field ${extra[0]!.slice(0, 40)}`;
  return null;
}

export interface VerifierOptions {
  /** PEM of the collector CA pinned at enrollment; null when it is missing. */
  pinnedCaPem: () => string | null;
  endpointId: () => string;
  replay: ReplayStore;
  now: () => number;
}

/** Verifies one command; on `ok` (not a repeat) the command is already remembered as seen. */
export function verifyIncoming(raw: unknown, o: VerifierOptions): Verdict {
  const commandId = idOf(raw);
  const serverKey = typeof (raw as { serverKey?: unknown })?.serverKey === 'string' ? ((raw as { serverKey: string }).serverKey.slice(0, 256)) : undefined;
  const fail = (reason: CommandFailedData['reason'], message: string): Verdict => ({
    ok: false,
    failure: { commandId, ...(serverKey !== undefined ? { serverKey } : {}), reason, message: message.slice(0, 1024) },
  });
  const problem = shapeProblem(raw);
  if (problem) return fail('signature-invalid', `command refused: malformed (${problem}); it cannot be verified`);
  const c = raw as SignedCommand;
  let key: KeyObject;
  try {
    const pem = o.pinnedCaPem();
    if (!pem) return fail('signature-invalid', 'command refused: no collector CA is pinned in the state dir (enroll again)');
    key = new X509Certificate(pem).publicKey;
  } catch (e) {
    return fail('signature-invalid', `command refused: the pinned collector CA does not load (${(e as Error).message})`);
  }
  const now = o.now();
  const check = verifyCommand(key, c, o.endpointId(), now);
  if (!check.ok) return fail(check.reason, `command refused: ${check.message}`);
  const seen = o.replay.check(c);
  if (seen === 'repeat') return { ok: true, repeat: true, command: c };
  if (seen === 'replayed') return fail('replayed', `command refused: ${c.id} repeats an id or nonce already used, or was issued before the commands this agent remembers`);
  try {
    o.replay.remember(c, now);
  } catch (e) {
    // Not remembered means it could be replayed later: refuse rather than act.
    return fail('error', `command refused: could not record it as seen (${(e as Error).message})`);
  }
  return { ok: true, command: c };
}
