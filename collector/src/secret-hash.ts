/**
 * How the collector stores secrets it must recognise later (enroll secrets, admin tokens):
 * SHA-256 hex of the secret. The secrets are long random strings, so a fast hash is enough; the
 * plain value is never stored or logged. Use this one function everywhere so lookups match.
 */
import { sha256Hex } from '@mcpwatch/shared';

/** The at-rest form of a secret. */
export function hashSecret(secret: string): string {
  return sha256Hex(`mcpwatch-secret-v1\n${secret}`);
}
