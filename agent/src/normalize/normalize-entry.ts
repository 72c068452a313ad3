/**
 * Normalizing one raw server entry (any client dialect) into a ServerEntry.
 *
 * Contract:
 * - Never throws. An entry that is not an object, or that has neither a command nor a URL
 *   (and is not a builtin/extension-provided server), yields `{ ok: false, error }` with code
 *   `invalid-entry` naming the entry; its neighbours are unaffected (the caller normalizes each).
 * - A field of the wrong type is ignored, the server is kept, and the problem is returned in
 *   `warnings` (code `invalid-field`), so nothing is lost silently.
 * - The returned ServerEntry carries no secret values: env and header NAMES only, the URL and
 *   bridge URL without userinfo and with secret query values and path segments redacted, and
 *   secret-looking arguments (and command words) replaced by REDACTED. Env and header keys that
 *   carry a value (`"API_KEY=sk-…"`, `"Authorization: Bearer …"` written as the key) are reported
 *   by their name only. The package identity (name, version, remote URL of a bridge) is derived
 *   from the REDACTED command line, so a credential in an install spec (`uvx --from
 *   git+https://user:token@host/…`) cannot reach a package name, a finding title or evidence.
 *   Identity (serverKey, fingerprint) is computed from the redacted form, so no secret
 *   influences a hash either.
 * - Output strings and lists are bounded to the ServerEntry schema limits.
 */
import { computeFingerprint, computeServerKey } from '@mcpwatch/shared/protocol';
import type { ConfigError, PackageIdentity, ServerEntry } from '@mcpwatch/shared';
import { redactArgs, redactKeyName, redactText, redactUrl } from '../secrets/index.js';
import type { RawServerEntry } from '../types.js';
import { readEntryFields } from './entry-fields.js';
import { identifyLaunch } from './package-identity.js';
import { resolveTransport, transportFromUrl } from './transport.js';

export type NormalizeResult =
  | { ok: true; server: ServerEntry; warnings: ConfigError[] }
  | { ok: false; error: ConfigError };

const LIMITS = { str: 4096, arg: 8192, args: 512, keys: 512, key: 512, name: 512, short: 256, wrapper: 128 } as const;

const cut = (s: string, max: number): string => (s.length > max ? s.slice(0, max) : s);

/** Env/header names, sorted and unique, each without a value it may carry. */
function sortedNames(names: Iterable<string>): string[] {
  return [...new Set([...names].map((n) => redactKeyName(n)).filter((n) => n.length > 0).map((n) => cut(n, LIMITS.key)))].sort().slice(0, LIMITS.keys);
}

function entryError(raw: RawServerEntry, code: string, reason: string): ConfigError {
  return { path: raw.configPath, client: raw.client, code, reason: cut(reason, 2048), entry: cut(raw.name, LIMITS.name) };
}

function cleanPackage(p: PackageIdentity | null): PackageIdentity | null {
  if (!p) return null;
  // Derived from the redacted command line already; a second pass costs little and keeps the
  // promise if a launcher parser ever reads a field the redaction did not see.
  const name = /[:@]/.test(p.name) || p.ecosystem === 'local' ? redactUrl(redactText(p.name)) : redactText(p.name);
  return {
    ...p,
    name: cut(name, 512),
    // A pinned VCS revision is a commit hash, not a token: keep it readable.
    version: p.version === null ? null : cut(p.pinned && /^[0-9a-f]{40}$/.test(p.version) ? p.version : redactText(p.version), 256),
    digest: p.digest ? cut(p.digest, 128) : (p.digest ?? null),
    runner: p.runner ? cut(p.runner, 64) : null,
  };
}

/** Header names a bridge sends upstream: `--header "Name: value"`, `-H Name:value`. */
function bridgeHeaderNames(args: readonly string[]): string[] {
  const names: string[] = [];
  args.forEach((a, i) => {
    if (i === 0 || !['--header', '-H', '--headers'].includes(args[i - 1] as string)) return;
    const m = /^\s*([A-Za-z0-9_-]{1,128})\s*:/.exec(a);
    if (m) names.push(m[1] as string);
  });
  return names;
}

/**
 * Normalize one raw entry. See the module contract: never throws, never returns secret values.
 */
export function normalizeEntry(raw: RawServerEntry): NormalizeResult {
  try {
    return normalizeUnsafe(raw);
  } catch (err) {
    // A defect here must not cost the rest of the scan; report it against the entry.
    return { ok: false, error: entryError(raw, 'invalid-entry', `entry could not be normalized: ${err instanceof Error ? err.message : String(err)}`) };
  }
}

function normalizeUnsafe(raw: RawServerEntry): NormalizeResult {
  const fields = readEntryFields(raw.raw, raw.dialect);
  if (!fields) return { ok: false, error: entryError(raw, 'invalid-entry', `server entry "${raw.name}" is not an object`) };
  if (fields.command === null && fields.url === null && !fields.builtin) {
    return { ok: false, error: entryError(raw, 'invalid-entry', `server entry "${raw.name}" has neither a command nor a url`) };
  }
  const warnings = fields.problems.map((p) => entryError(raw, 'invalid-field', `server entry "${raw.name}": ${p}`));

  const transport = resolveTransport(fields.explicitType, fields.command, fields.url, fields.urlKey, raw.client);
  const isStdio = transport === 'stdio' || (transport === 'unknown' && fields.command !== null);
  // Redact first, then derive: package names, versions and bridge URLs come from the redacted words.
  const redactedCommand = isStdio && fields.command !== null ? redactText(fields.command) : null;
  const redactedArgs = isStdio ? redactArgs(fields.args.slice(0, LIMITS.args)) : [];
  const launch = isStdio ? identifyLaunch(redactedCommand, redactedArgs) : { package: null, wrappers: [], remoteUrl: null };

  const command = redactedCommand !== null ? cut(redactedCommand, LIMITS.str) : null;
  const args = redactedArgs.map((a) => cut(a, LIMITS.arg));
  const url = fields.url !== null && !isStdio ? cut(redactUrl(fields.url), LIMITS.str) : null;
  const remoteUrl = launch.remoteUrl !== null ? cut(redactUrl(launch.remoteUrl), LIMITS.str) : null;
  const pkg = cleanPackage(launch.package);
  const wrapper = launch.wrappers.length > 0 ? cut(launch.wrappers.join(' > '), LIMITS.wrapper) : null;

  const serverKey = computeServerKey({ client: raw.client, scope: raw.scope, configPath: raw.configPath, name: raw.name });
  // A bridge is counted as the remote server it reaches, so `npx mcp-remote URL` and `{url: URL}`
  // share a fingerprint; otherwise the package identity, URL or command line decides.
  const fingerprint = remoteUrl
    ? computeFingerprint({ transport: transportFromUrl(remoteUrl, null), command: null, args: [], url: remoteUrl, package: null })
    : computeFingerprint({ transport, command, args, url, package: pkg });

  const server: ServerEntry = {
    client: raw.client,
    scope: raw.scope,
    configPath: raw.configPath,
    user: raw.user,
    projectPath: raw.projectPath,
    name: cut(raw.name, LIMITS.name),
    transport,
    command,
    args,
    url,
    envKeys: sortedNames([...Object.keys(fields.env), ...fields.extraEnvKeys]),
    headerKeys: sortedNames([...Object.keys(fields.headers), ...fields.extraHeaderKeys, ...(remoteUrl ? bridgeHeaderNames(fields.args) : [])]),
    cwd: fields.cwd !== null ? cut(redactText(fields.cwd), LIMITS.str) : null,
    disabled: fields.disabled,
    package: pkg,
    wrapper,
    remoteUrl,
    serverKey,
    fingerprint,
  };
  return { ok: true, server, warnings };
}
