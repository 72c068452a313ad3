/**
 * Secrets written into MCP configuration: in a server's env values, headers, arguments, command
 * and URL, and anywhere else in a config document (a misplaced server block, a top-level key).
 * Findings name the field (env.GITHUB_TOKEN, headers.Authorization, args[3] (--api-key),
 * url.userinfo) and the kind of credential, never the value. Field names are built from keys as
 * written, so a key that carries its value (`"API_KEY=sk-…"` as an env key, `"Authorization:
 * Bearer …"` as a header key, either in env_keys-style name lists too) is reported by its name
 * only (redactKeyName), with the carried value classified like a value.
 */
import { computeServerKey } from '@mcpwatch/shared/protocol';
import type { Severity } from '@mcpwatch/shared';
import { readEntryFields } from '../normalize/index.js';
import {
  classifyHeader,
  classifySecret,
  isSecretName,
  redactArgsDetailed,
  redactKeyName,
  redactTextDetailed,
  redactUrlDetailed,
  splitKeyName,
  type SecretHit,
} from '../secrets/index.js';
import type { RawServerEntry } from '../types.js';
import { serverSubject, type Rule, type RuleContext, type RuleHit } from './rule-types.js';

/** Severity by kind: live keys of big providers and private keys are high; generic guesses medium. */
function severityOf(kind: string): Severity {
  if (kind === 'private-key' || kind === 'aws-secret-access-key') return 'critical';
  if (kind === 'generic-high-entropy' || kind === 'credential' || kind === 'jwt' || kind === 'url-credentials') return 'high';
  return 'critical';
}

/** Fields holding a secret in one raw entry: [field, kind]. */
export function secretFieldsOf(raw: RawServerEntry): Array<[string, string]> {
  const f = readEntryFields(raw.raw, raw.dialect);
  if (!f) return [];
  const out: Array<[string, string]> = [];
  // A key may carry its own value (`API_KEY=sk-…`): classify that value too, report the name only.
  const named = (prefix: string, key: string, value: string, classify: (n: string, v: string) => SecretHit | null): void => {
    const split = splitKeyName(key);
    const hit = (split.value !== null ? classify(split.name, split.value) : null) ?? classify(split.name, value);
    if (hit) out.push([`${prefix}.${redactKeyName(key)}`, hit.kind]);
  };
  for (const [name, value] of Object.entries(f.env)) named('env', name, value, classifySecret);
  for (const name of f.extraEnvKeys) named('env', name, '', classifySecret);
  for (const [name, value] of Object.entries(f.headers)) named('headers', name, value, classifyHeader);
  for (const name of f.extraHeaderKeys) named('headers', name, '', classifyHeader);
  if (f.command) for (const kind of redactTextDetailed(f.command).kinds) out.push(['command', kind]);
  for (const h of redactArgsDetailed(f.args).hits) out.push([h.field, h.kind]);
  if (f.url) for (const h of redactUrlDetailed(f.url).hits) out.push([h.field, h.kind]);
  if (f.cwd) for (const kind of redactTextDetailed(f.cwd).kinds) out.push(['cwd', kind]);
  return out;
}

const MAX_WALK_NODES = 50_000;

/** Walk a parsed document for secrets outside server entries (skipping `skip` subtrees). */
function documentSecrets(doc: unknown, skip: Set<unknown>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let budget = MAX_WALK_NODES;
  const walk = (node: unknown, path: string, key: string | null): void => {
    if (budget-- <= 0 || skip.has(node)) return;
    if (typeof node === 'string') {
      // Outside server entries, settings files hold ids and hashes (userID, machine ids): only
      // known credential formats count, or any credential under a credential-ish key.
      const hit = classifySecret(key, node);
      if (hit && (hit.kind !== 'generic-high-entropy' || (key !== null && isSecretName(key)))) out.push([path, hit.kind]);
      return;
    }
    if (Array.isArray(node)) {
      node.forEach((v, i) => walk(v, `${path}[${i}]`, key));
      return;
    }
    if (node !== null && typeof node === 'object') {
      for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
        const name = redactKeyName(k);
        const carried = splitKeyName(k).value;
        if (carried !== null) {
          const hit = classifySecret(name, carried);
          if (hit) out.push([path ? `${path}.${name}` : name, hit.kind]);
        }
        walk(v, path ? `${path}.${name}` : name, splitKeyName(k).name);
      }
    }
  };
  walk(doc, '', null);
  return out;
}

export const secretInConfigRule: Rule = {
  id: 'secret-in-config',
  severity: 'high',
  title: 'Secret written in MCP configuration',
  rationale:
    'A credential is stored in clear text in an MCP client configuration file, where any process running as the user, ' +
    'backups, dotfile repositories and support bundles can read it. Move it to the OS keychain or an environment ' +
    'variable reference (${env:NAME}, ${input:id}) and rotate the exposed credential.',
  evaluate(ctx: RuleContext): RuleHit[] {
    const hits: RuleHit[] = [];
    const push = (subject: RuleHit['subject'], keyBase: string, field: string, kind: string) => {
      hits.push({
        key: `${keyBase}|${field}`,
        subject,
        evidence: { field, kind },
        severity: severityOf(kind),
        title: `Secret (${kind}) in ${field}`,
        notAllowListable: true,
      });
    };
    for (const view of ctx.views) {
      if (!view.raw) continue;
      for (const [field, kind] of secretFieldsOf(view.raw)) push(serverSubject(view.server), view.server.serverKey, field, kind);
    }
    for (const raw of ctx.orphans) {
      const key = computeServerKey({ client: raw.client, scope: raw.scope, configPath: raw.configPath, name: raw.name });
      for (const [field, kind] of secretFieldsOf(raw)) {
        push({ serverKey: key, serverName: raw.name, client: raw.client, configPath: raw.configPath }, key, field, kind);
      }
    }
    for (const file of ctx.files) {
      if (file.document === undefined) continue;
      // Server entries were checked above; skip them (by identity) in the document walk.
      const skip = new Set<unknown>([...file.entries, ...ctx.raw].map((e) => e.raw).filter((r) => r !== null && typeof r === 'object'));
      for (const [field, kind] of documentSecrets(file.document, skip)) {
        push({ client: file.client, configPath: file.path }, `file|${file.path}`, field, kind);
      }
    }
    return hits;
  },
};
