/**
 * Identifiers: stable hashes for server entries (event ULIDs are in ../event-id.ts).
 */
import { stableId } from './hash.js';
import type { PackageIdentity, ServerTransport } from '../schemas/server.js';

/** Inputs of a server entry's identity on one endpoint. */
export interface ServerKeyInput {
  client: string;
  scope: string;
  configPath: string;
  name: string;
}

/** `serverKey`: this configured entry on this endpoint (client + scope + file + name). */
export function computeServerKey(input: ServerKeyInput): string {
  return stableId(['serverKey/v1', input.client, input.scope, input.configPath, input.name]);
}

/** Inputs of what a server runs, independent of where it is configured. */
export interface FingerprintInput {
  transport: ServerTransport;
  command: string | null;
  args: string[];
  url: string | null;
  package: PackageIdentity | null;
}

/**
 * `fingerprint`: what the server runs, so one server can be counted across a fleet.
 * A package identity wins over the literal command line (npx -y pkg@1 == bunx pkg@1); a remote
 * server is its URL (already stripped of credentials); otherwise the command's base name + args.
 */
export function computeFingerprint(input: FingerprintInput): string {
  if (input.package) {
    const p = input.package;
    return stableId(['fp/v1', 'pkg', p.ecosystem, p.name, p.version ?? null, p.digest ?? null]);
  }
  if (input.url) return stableId(['fp/v1', 'url', input.url]);
  const cmd = input.command ? baseName(input.command) : null;
  return stableId(['fp/v1', 'cmd', input.transport, cmd, input.args]);
}

function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return (parts[parts.length - 1] ?? path).toLowerCase().replace(/\.(exe|cmd|bat)$/, '');
}
