/**
 * Process rules: MCP server processes running with administrator rights, and MCP server
 * processes that no configuration on this machine declares. They read ProcessRecords, whose
 * command lines the collector has already redacted.
 */
import { stableId } from '@mcpwatch/shared/protocol';
import type { Rule, RuleContext, RuleHit } from './rule-types.js';

/** Accounts with full control of the machine, as process owners appear on each OS. */
const ADMIN_USERS = /^(?:root|system|nt authority\\system|local system|localsystem|administrator|builtin\\administrators)$/i;

export const serverAsAdminRule: Rule = {
  id: 'server-process-as-admin',
  severity: 'high',
  title: 'MCP server process runs as an administrator',
  rationale:
    'An MCP server process runs as root / SYSTEM, so any tool call the model is steered into making acts with full ' +
    'control of the machine. Run MCP clients and their servers as an unprivileged user.',
  evaluate(ctx: RuleContext): RuleHit[] {
    const hits: RuleHit[] = [];
    for (const p of ctx.processes ?? []) {
      if (p.kind !== 'server' || !p.user || !ADMIN_USERS.test(p.user.trim())) continue;
      hits.push({
        // pids change on restart: the configured server (or the command line) identifies it.
        key: p.serverKey ?? stableId(['proc', p.name, p.cmd]),
        subject: { serverKey: p.serverKey ?? null, client: p.client ?? null, pid: p.pid },
        evidence: { field: 'process.user', detail: `${p.name} runs as ${p.user}` },
        title: `MCP server ${p.name} runs as ${p.user}`,
      });
    }
    return hits;
  },
};

export const undeclaredServerProcessRule: Rule = {
  id: 'undeclared-server-process',
  severity: 'low',
  title: 'MCP server process not declared in any config',
  rationale:
    'A process that looks like an MCP server runs on this machine, but no MCP client configuration found here ' +
    'launches it: it may be started by a tool or script outside the inventory, or by a client mcpwatch does not ' +
    'know yet. Check where it comes from.',
  evaluate(ctx: RuleContext): RuleHit[] {
    const hits: RuleHit[] = [];
    for (const p of ctx.processes ?? []) {
      if (p.kind !== 'server' || p.serverKey || p.match !== 'pattern') continue;
      hits.push({
        key: stableId(['proc', p.user ?? null, p.name, p.cmd]),
        subject: { client: p.client ?? null, pid: p.pid },
        evidence: { field: 'process', detail: p.cmd.slice(0, 1024) },
        title: `Undeclared MCP server process ${p.name}`,
      });
    }
    return hits;
  },
};
