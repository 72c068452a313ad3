/**
 * The command signature contract (DESIGN.md, "Commands"): the collector signs, with its CA's RSA
 * private key (RSA-PSS, SHA-256, salt length 32), the string
 *   mcpwatch-command-v1\n{id}\n{endpointId}\n{action}\n{serverKey}\n{issuedAt}\n{expiresAt}\n{nonce}
 * and the agent verifies it with the CA certificate it pinned at enrollment. The version prefix
 * keeps a command signature from being mistaken for any other signature made with that key.
 * verifyCommand also checks target and expiry; replay (nonce/id seen) is the agent's to track.
 */
import { constants, createSign, createVerify, type KeyLike } from 'node:crypto';
import type { SignedCommand, UnsignedCommand } from './schemas/command.js';

export const COMMAND_SIGNATURE_VERSION = 'mcpwatch-command-v1';

const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };

/** The exact string that is signed. Fields may not hold a newline (the schema's ids never do). */
export function commandSigningString(c: UnsignedCommand): string {
  const fields = [c.id, c.endpointId, c.action, c.serverKey, c.issuedAt, c.expiresAt, c.nonce];
  if (fields.some((f) => f.includes('\n'))) throw new RangeError('command fields may not contain a newline');
  return [COMMAND_SIGNATURE_VERSION, ...fields].join('\n');
}

/** Signs `c` with `privateKey`: the command as it goes into the ack. */
export function signCommand(privateKey: KeyLike, c: UnsignedCommand): SignedCommand {
  const signer = createSign('sha256');
  signer.update(commandSigningString(c));
  return { ...c, signature: signer.sign({ key: privateKey as never, ...PSS }, 'base64') };
}

export type CommandCheck = { ok: true } | { ok: false; reason: 'signature-invalid' | 'wrong-endpoint' | 'expired'; message: string };

/**
 * Checks a received command: signature under `publicKey` (the pinned CA certificate or its key),
 * target endpoint, and expiry at `nowMs`. Never throws.
 */
export function verifyCommand(publicKey: KeyLike, c: SignedCommand, endpointId: string, nowMs: number): CommandCheck {
  let valid = false;
  try {
    const verifier = createVerify('sha256');
    verifier.update(commandSigningString(c));
    valid = verifier.verify({ key: publicKey as never, ...PSS }, c.signature, 'base64');
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, reason: 'signature-invalid', message: `command ${c.id}: signature does not verify under the pinned collector key` };
  if (c.endpointId !== endpointId) return { ok: false, reason: 'wrong-endpoint', message: `command ${c.id} is for endpoint ${c.endpointId}, not this one` };
  const expires = Date.parse(c.expiresAt);
  if (!Number.isFinite(expires) || expires < nowMs) return { ok: false, reason: 'expired', message: `command ${c.id} expired at ${c.expiresAt}` };
  return { ok: true };
}
