/**
 * Auto-approve / always-allow: settings that let the model call MCP tools without asking.
 *
 * Per server: Cline / Roo Code / Kiro / Cursor `autoApprove` and `alwaysAllow` lists, Gemini CLI
 * `trust: true`, Codex per-tool `approval_mode = "approve"` and `default_tools_approval_mode`.
 * Per file (the parsed document): VS Code `chat.tools.autoApprove` / `chat.tools.global.autoApprove`,
 * Claude Code `enableAllProjectMcpServers`, `permissions.defaultMode = "bypassPermissions"` and
 * `permissions.allow` rules granting whole MCP servers (`mcp__name`, `mcp__name__*`), Codex
 * `approval_policy = "never"` (also in profiles), Goose `GOOSE_MODE: auto`.
 */
import type { Severity } from '@mcpwatch/shared';
import { serverSubject, type Rule, type RuleContext, type RuleHit } from './rule-types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

interface ApprovalHit {
  field: string;
  detail: string;
  severity: Severity;
}

/** Auto-approval settings inside one server entry. */
export function serverApprovals(raw: unknown): ApprovalHit[] {
  if (!isObj(raw)) return [];
  const out: ApprovalHit[] = [];
  for (const key of ['autoApprove', 'alwaysAllow', 'auto_approve', 'autoApproveTools']) {
    const v = raw[key];
    if (v === true || v === '*') out.push({ field: key, detail: 'all tools', severity: 'high' });
    else if (Array.isArray(v) && v.length > 0) {
      const all = v.some((t) => t === '*' || t === 'all');
      out.push({ field: key, detail: all ? 'all tools' : `${v.length} tool(s)`, severity: all ? 'high' : 'medium' });
    }
  }
  if (raw.trust === true) out.push({ field: 'trust', detail: 'trust: true (all tool calls without confirmation)', severity: 'high' });
  if (raw.default_tools_approval_mode === 'approve') out.push({ field: 'default_tools_approval_mode', detail: 'approve', severity: 'high' });
  if (isObj(raw.tools)) {
    const approved = Object.entries(raw.tools).filter(([, t]) => isObj(t) && t.approval_mode === 'approve').length;
    if (approved > 0) out.push({ field: 'tools.*.approval_mode', detail: `${approved} tool(s) approve`, severity: 'medium' });
  }
  return out;
}

function get(doc: unknown, path: string[]): unknown {
  let cur = doc;
  for (const p of path) cur = isObj(cur) ? cur[p] : undefined;
  return cur;
}

/** File-level auto-approval settings in one parsed document. */
export function documentApprovals(doc: unknown): ApprovalHit[] {
  if (!isObj(doc)) return [];
  const out: ApprovalHit[] = [];
  for (const key of ['chat.tools.autoApprove', 'chat.tools.global.autoApprove']) {
    if (doc[key] === true || get(doc, key.split('.')) === true) out.push({ field: key, detail: 'true', severity: 'high' });
  }
  const enableAll = (v: unknown, field: string) => {
    if (v === true) out.push({ field, detail: 'true', severity: 'high' });
  };
  enableAll(doc.enableAllProjectMcpServers, 'enableAllProjectMcpServers');
  if (isObj(doc.projects)) {
    for (const [path, p] of Object.entries(doc.projects)) if (isObj(p)) enableAll(p.enableAllProjectMcpServers, `projects[${path}].enableAllProjectMcpServers`);
  }
  const perms = doc.permissions;
  if (isObj(perms)) {
    if (perms.defaultMode === 'bypassPermissions') out.push({ field: 'permissions.defaultMode', detail: 'bypassPermissions', severity: 'high' });
    if (Array.isArray(perms.allow)) {
      // mcp__server and mcp__server__* grant every tool of a server; mcp__server__tool grants one.
      const whole = perms.allow.filter((r) => {
        if (typeof r !== 'string' || !r.startsWith('mcp__')) return false;
        const parts = r.split('__');
        return parts.length === 2 || parts[1] === '*' || parts[2] === '*';
      });
      if (whole.length > 0) out.push({ field: 'permissions.allow', detail: `${whole.length} whole-server MCP rule(s)`, severity: 'medium' });
    }
  }
  if (doc.approval_policy === 'never') out.push({ field: 'approval_policy', detail: 'never', severity: 'high' });
  if (isObj(doc.profiles)) {
    for (const [name, p] of Object.entries(doc.profiles)) {
      if (isObj(p) && p.approval_policy === 'never') out.push({ field: `profiles.${name}.approval_policy`, detail: 'never', severity: 'medium' });
    }
  }
  if (typeof doc.GOOSE_MODE === 'string' && doc.GOOSE_MODE.toLowerCase() === 'auto') out.push({ field: 'GOOSE_MODE', detail: 'auto', severity: 'high' });
  return out;
}

export const autoApproveRule: Rule = {
  id: 'auto-approve',
  severity: 'medium',
  title: 'MCP tool calls approved without asking',
  rationale:
    'The client is configured to run MCP tools without a human confirming each call, so a prompt injection in any ' +
    'content the model reads can make it act (write files, run commands, send data) unattended. Remove the ' +
    'auto-approve / always-allow / trust setting, or limit it to read-only tools.',
  evaluate(ctx: RuleContext): RuleHit[] {
    const hits: RuleHit[] = [];
    for (const { raw, server } of ctx.views) {
      if (!raw) continue;
      for (const a of serverApprovals(raw.raw)) {
        hits.push({
          key: `${server.serverKey}|${a.field}`,
          subject: serverSubject(server),
          evidence: { field: a.field, detail: a.detail },
          severity: a.severity,
          title: `Auto-approved tools on ${server.name} (${a.field}: ${a.detail})`,
        });
      }
    }
    for (const file of ctx.files) {
      for (const a of documentApprovals(file.document)) {
        hits.push({
          key: `file|${file.path}|${a.field}`,
          subject: { client: file.client, configPath: file.path },
          evidence: { field: a.field, detail: a.detail },
          severity: a.severity,
          title: `Auto-approval enabled in ${file.client} settings (${a.field}: ${a.detail})`,
        });
      }
    }
    return hits;
  },
};
