/**
 * Per-server tool inventory: turns what a server listed (probe/mcp-probe.ts, or a client's cache
 * on disk) into ToolRecords (shared/schemas/tools.ts) and diffs two observations into
 * `tool.added|changed|removed` data.
 *
 * Contract:
 * - Hashes are SHA-256 (hex) of: the description text as given; the canonical JSON (keys sorted,
 *   recursively) of the input schema and of the annotations; the server's instructions. So a
 *   re-ordered schema object is the same schema, a changed word is a new hash.
 * - Descriptions stay on the endpoint: a record carries `description` only when
 *   `shipDescriptions` (policy) is true; the local views keep the text for the rules.
 * - Capabilities (shell-exec, file-write, network-fetch, credential-access) are inferred from the
 *   tool's name, description, input schema property names and annotations; a tool annotated
 *   `readOnlyHint: true` gets no file-write; see tool-capabilities below.
 * - Pure functions; no I/O.
 */
import { createHash } from 'node:crypto';
import type { ToolAnnotationHints, ToolCapability, ToolChangedData, ToolRecord } from '@mcpwatch/shared';
import type { ProbedTool } from '../probe/mcp-probe.js';

export const MAX_TOOLS_PER_SERVER = 500;

/** JSON with object keys sorted at every level (arrays keep their order). */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v ?? null);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

const HINTS = ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const;

function hintsOf(a: Record<string, unknown> | null): ToolAnnotationHints {
  const out: ToolAnnotationHints = {};
  for (const h of HINTS) if (typeof a?.[h] === 'boolean') out[h] = a[h] as boolean;
  return out;
}

const CAPABILITY_PATTERNS: ReadonlyArray<[ToolCapability, RegExp, RegExp]> = [
  // [capability, name pattern, description pattern]
  ['shell-exec', /(?:^|[_\-.])(?:exec|execute|shell|bash|run_?command|run_?script|terminal|spawn|eval|cmd|powershell)(?:$|[_\-.])/i,
    /\b(?:execut(?:e|es|ing) (?:a |an |arbitrary )?(?:shell |system |terminal )?command|run(?:s)? (?:a |arbitrary )?(?:shell|bash|terminal|system) command|shell command|arbitrary code)\b/i],
  ['file-write', /(?:^|[_\-.])(?:write|edit|create|delete|remove|move|rename|save|append|patch)_?(?:file|files|dir|directory|path)?(?:$|[_\-.])/i,
    /\b(?:writ(?:e|es|ing)|overwrit(?:e|es)|delet(?:e|es)|modif(?:y|ies)|creat(?:e|es)) (?:a |the |any )?(?:file|files|directory|directories)\b/i],
  ['network-fetch', /(?:^|[_\-.])(?:fetch|http|curl|wget|download|browse|request|url|web_?search|scrape)(?:$|[_\-.])/i,
    /\b(?:fetch(?:es)? (?:a |any |the )?(?:url|web ?page|website|content from)|http request|download(?:s)? (?:a |any )?(?:file|url)|makes? (?:an? )?(?:http|web) request)\b/i],
  ['credential-access', /(?:secret|credential|password|token|api_?key|keychain|vault)/i,
    /\b(?:secrets?|credentials?|passwords?|api keys?|access tokens?|private keys?|keychain|ssh keys?)\b/i],
];

/** The high-risk capabilities a tool appears to have. */
export function capabilitiesOf(tool: ProbedTool): ToolCapability[] {
  const hints = hintsOf(tool.annotations);
  const props = schemaPropertyNames(tool.inputSchema).join(' ');
  const found = new Set<ToolCapability>();
  for (const [cap, namePat, descPat] of CAPABILITY_PATTERNS) {
    if (namePat.test(tool.name) || descPat.test(tool.description ?? '')) found.add(cap);
  }
  if (/\b(?:command|cmd|script)\b/i.test(props) && /\b(?:run|exec|execute|shell)/i.test(`${tool.name} ${tool.description ?? ''}`)) found.add('shell-exec');
  if (/\burl\b/i.test(props) && /\b(?:fetch|get|download|request|browse)/i.test(`${tool.name} ${tool.description ?? ''}`)) found.add('network-fetch');
  // A server that declares the tool read-only is taken at its word for writes (not for reads of secrets).
  if (hints.readOnlyHint === true && hints.destructiveHint !== true) found.delete('file-write');
  return [...found].sort();
}

function schemaPropertyNames(schema: unknown): string[] {
  const props = (schema as { properties?: unknown } | null)?.properties;
  return props && typeof props === 'object' ? Object.keys(props).slice(0, 200) : [];
}

/** Where the tools came from and which server they belong to. */
export interface ToolServerRef {
  serverId: string;
  serverKey?: string | null;
  serverName: string | null;
  serverVersion: string | null;
  protocolVersion?: string | null;
  instructions: string | null;
  source: 'probe' | 'client-cache';
  sourcePath?: string | null;
}

/** A tool record with what stays on the endpoint (the text the rules read). */
export interface ToolView {
  record: ToolRecord;
  description: string | null;
  inputSchema: unknown;
  /** The server's `instructions` text (the same for every tool of the server). */
  instructions?: string | null;
}

/** ToolRecords (and their local views) of one server's tools; bounded to MAX_TOOLS_PER_SERVER. */
export function toolViewsOf(server: ToolServerRef, tools: readonly ProbedTool[], opts: { shipDescriptions?: boolean } = {}): ToolView[] {
  const instructionsSha256 = server.instructions !== null ? sha256Hex(server.instructions) : null;
  const byName = new Map<string, ToolView>();
  for (const t of tools.slice(0, MAX_TOOLS_PER_SERVER)) {
    if (!t.name || byName.has(t.name)) continue;
    const hints = hintsOf(t.annotations);
    const record: ToolRecord = {
      serverId: server.serverId,
      serverKey: server.serverKey ?? null,
      serverName: server.serverName,
      serverVersion: server.serverVersion,
      protocolVersion: server.protocolVersion ?? null,
      source: server.source,
      sourcePath: server.sourcePath ?? null,
      name: t.name,
      title: t.title,
      descriptionSha256: t.description !== null ? sha256Hex(t.description) : null,
      inputSchemaSha256: t.inputSchema !== null && t.inputSchema !== undefined ? sha256Hex(canonicalJson(t.inputSchema)) : null,
      annotationsSha256: t.annotations ? sha256Hex(canonicalJson(t.annotations)) : null,
      annotations: hints,
      instructionsSha256,
      capabilities: capabilitiesOf(t),
    };
    if (opts.shipDescriptions && t.description !== null) record.description = t.description.slice(0, 16_384);
    byName.set(t.name, { record, description: t.description, inputSchema: t.inputSchema, instructions: server.instructions });
  }
  return [...byName.values()];
}

export function toolKey(r: Pick<ToolRecord, 'serverId' | 'name'>): string {
  return `${r.serverId}\u0000${r.name}`;
}

export interface ToolDiff {
  added: ToolRecord[];
  changed: ToolChangedData[];
  removed: ToolRecord[];
}

/**
 * What changed between two observations of the same servers' tools. `servers` limits removal to
 * the servers observed now (a server not probed this time keeps its tools).
 */
export function diffTools(prev: readonly ToolRecord[], next: readonly ToolRecord[], servers: ReadonlySet<string>): ToolDiff {
  const before = new Map(prev.map((r) => [toolKey(r), r]));
  const after = new Map(next.map((r) => [toolKey(r), r]));
  const diff: ToolDiff = { added: [], changed: [], removed: [] };
  for (const [k, r] of after) {
    const p = before.get(k);
    if (!p) {
      diff.added.push(r);
      continue;
    }
    const changedFields: ToolChangedData['changedFields'] = [];
    if (p.descriptionSha256 !== r.descriptionSha256) changedFields.push('description');
    if (p.inputSchemaSha256 !== r.inputSchemaSha256) changedFields.push('inputSchema');
    if (p.annotationsSha256 !== r.annotationsSha256) changedFields.push('annotations');
    if (p.instructionsSha256 !== r.instructionsSha256) changedFields.push('instructions');
    if ((p.title ?? null) !== (r.title ?? null)) changedFields.push('title');
    if (p.serverVersion !== r.serverVersion) changedFields.push('serverVersion');
    if (changedFields.length === 0) continue;
    diff.changed.push({
      ...r,
      changedFields,
      previousDescriptionSha256: p.descriptionSha256,
      previousInputSchemaSha256: p.inputSchemaSha256,
      previousServerVersion: p.serverVersion,
    });
  }
  for (const [k, p] of before) if (!after.has(k) && servers.has(p.serverId)) diff.removed.push(p);
  return diff;
}
