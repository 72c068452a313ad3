/**
 * Hook rules: mcpwatch's tool-call hook, installed in a client's hook file, was removed or changed
 * by someone else (hooks/hook-installer.ts decides "tampered": our entry gone or its command
 * altered after our install). From then on that client's MCP tool calls are neither seen nor
 * checked against the tool policy on this endpoint. One finding per hook file; it resolves when
 * the hook is back (the running agent re-installs it when the `hooks` setting says so, or an
 * administrator runs `mcpwatch-agent hooks install`). The evidence names the file and what
 * changed, never the file's other content.
 */
import type { Rule, RuleContext, RuleHit } from './rule-types.js';

export const hookTamperedRule: Rule = {
  id: 'hook-tampered',
  severity: 'high',
  title: "mcpwatch's tool-call hook was removed or changed in an MCP client",
  rationale:
    "mcpwatch's hook runs around every MCP tool call of this client: it records the call and applies the " +
    'tool policy (audit or block). It was removed from the client\'s hook file, or its command was changed, after ' +
    'mcpwatch installed it, so tool calls of this client are no longer seen or checked. Someone with access to the ' +
    'file did it: a user opting out, another tool rewriting the file, or software hiding its tool calls. Find out ' +
    'who changed the file; the finding resolves when the hook is back (the agent re-installs it when the hooks ' +
    'setting is audit or enforce, or run `mcpwatch-agent hooks install`).',
  evaluate(ctx: RuleContext): RuleHit[] {
    return (ctx.hookStates ?? [])
      .filter((h) => h.state === 'tampered')
      .map((h) => ({
        key: `hook:${h.client}:${h.scope}:${h.path}`,
        subject: { client: h.client, configPath: h.path },
        evidence: { field: `hooks.${h.client}`, kind: 'hook-tampered', detail: `${h.since ? `since ${h.since}: ` : ''}${h.detail ?? 'changed after install'}`.slice(0, 1024) },
        title: `mcpwatch's tool-call hook was removed or changed in ${h.client}'s hook file`,
        // Accepting a server never accepts a blinded client.
        notAllowListable: true,
      }));
  },
};
