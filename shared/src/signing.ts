/**
 * The batch signature contract (DESIGN.md, "A batch").
 *
 * The agent signs, with its enrolled RSA private key (RSA-PSS, SHA-256, salt length 32), the string
 *   mcpwatch-batch-v1\n{agentId}\n{seq}\n{timestamp}\n{sha256 hex of the body bytes as sent}
 * and sends it base64 in `x-mcpwatch-signature`, with agent id, seq and timestamp (unix ms) in
 * the headers below. The collector verifies over the raw bytes before decompressing.
 */
import { constants, createSign, verify as verifyOneShot, type KeyLike } from 'node:crypto';
import { sha256Hex } from './protocol/hash.js';

export const SIGNATURE_VERSION = 'mcpwatch-batch-v1';

export const HEADERS = {
  agentId: 'x-mcpwatch-agent',
  seq: 'x-mcpwatch-seq',
  timestamp: 'x-mcpwatch-timestamp',
  signature: 'x-mcpwatch-signature',
} as const;

/** What a batch signature covers, in signing order: agent id, seq, timestamp (unix ms), body bytes. */
export type SignedBatchFields = [agentId: string, seq: number, timestampMs: number, body: Uint8Array];

/** The exact string that is signed. */
export function signingString(...[agentId, seq, timestampMs, body]: SignedBatchFields): string {
  return `${SIGNATURE_VERSION}\n${agentId}\n${seq}\n${timestampMs}\n${sha256Hex(body)}`;
}

const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };

/** Base64 RSA-PSS-SHA256 signature of the signing string. */
export function signBatch(privateKey: KeyLike, ...batch: SignedBatchFields): string {
  return createSign('sha256').update(signingString(...batch)).sign({ key: privateKey as never, ...PSS }, 'base64');
}

type VerifyArgs = [...SignedBatchFields, signatureB64: string];

/** crypto.verify's arguments for a batch signature: data, key with PSS padding, decoded signature. */
function verifyInputs(publicKey: KeyLike, ...[agentId, seq, timestampMs, body, signatureB64]: VerifyArgs) {
  return [Buffer.from(signingString(agentId, seq, timestampMs, body)), { key: publicKey as never, ...PSS }, Buffer.from(signatureB64, 'base64')] as const;
}

/** true when `signatureB64` is a valid signature of the signing string under `publicKey`. */
export function verifyBatch(publicKey: KeyLike, ...batch: VerifyArgs): boolean {
  try {
    return verifyOneShot('sha256', ...verifyInputs(publicKey, ...batch));
  } catch {
    return false;
  }
}

/**
 * verifyBatch off the calling thread: the RSA work runs on libuv's thread pool (crypto.verify with a
 * callback), so a server's event loop only hashes the body and builds the signing string. Resolves
 * false for a signature that does not verify or cannot be decoded, like verifyBatch.
 */
export function verifyBatchAsync(publicKey: KeyLike, ...batch: VerifyArgs): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      verifyOneShot('sha256', ...verifyInputs(publicKey, ...batch), (err, ok) => resolve(!err && ok));
    } catch {
      resolve(false);
    }
  });
}

/** All the headers of a signed batch. */
export function batchHeaders(privateKey: KeyLike, ...batch: SignedBatchFields): Record<string, string> {
  const [agentId, seq, timestampMs] = batch;
  return {
    [HEADERS.agentId]: agentId,
    [HEADERS.seq]: String(seq),
    [HEADERS.timestamp]: String(timestampMs),
    [HEADERS.signature]: signBatch(privateKey, ...batch),
  };
}
