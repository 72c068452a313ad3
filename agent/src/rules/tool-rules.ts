/**
 * Tool rules (issue 12): what the tools of a server say and do.
 *
 * - `tool-changed-without-version`: a tool's description or input schema differs from the hashes
 *   first seen on this endpoint (its pin) while the server reports the same version: a "rug pull"
 *   (Invariant Labs, 2025) — the server changed what it tells the model without a release.
 * - `tool-hidden-instructions`: the description (or the server's instructions) carries text meant
 *   for the model and not the user: invisible Unicode (zero-width, tag characters), bidi
 *   controls, ANSI escape sequences, HTML/XML-ish directive tags (`<IMPORTANT>`), instructions such
 *   as "do not tell the user", requests to read secrets, or references steering other tools
 *   ("tool shadowing"). `hiddenInstructionSignals` is measured on a labelled set of poisoned and
 *   clean descriptions (tests/fixtures/tool-poisoning/labelled.json).
 * - `tool-high-risk-capability`: the tool can run commands, write files, fetch from the network or
 *   reach credentials (tools/tool-inventory.ts capabilitiesOf); `destructiveHint: true` raises the
 *   severity, `readOnlyHint: true` removes the file-write capability.
 *
 * Findings name the tool and the kind of signal, never quote the description (it stays on the
 * endpoint unless policy ships it).
 */
import type { Severity } from '@mcpwatch/shared';
import type { Rule, RuleContext, RuleHit, ToolRuleView } from './rule-types.js';

function toolSubject(v: ToolRuleView) {
  return { serverKey: v.record.serverKey ?? null, serverName: v.record.serverName ?? v.record.serverId };
}

export const toolChangedWithoutVersionRule: Rule = {
  id: 'tool-changed-without-version',
  severity: 'high',
  title: 'MCP tool changed without a new server version',
  rationale:
    'The description or input schema of a tool differs from what this endpoint first saw, yet the server reports ' +
    'the same version. A server that changes what it tells the model without a release is the pattern of a "rug ' +
    'pull": a tool approved as harmless is redefined later. Review the new definition and the server\'s source.',
  evaluate(ctx: RuleContext): RuleHit[] {
    const hits: RuleHit[] = [];
    for (const v of ctx.tools ?? []) {
      const pin = v.pin;
      if (!pin || pin.serverVersion !== v.record.serverVersion) continue;
      const fields: string[] = [];
      if (pin.descriptionSha256 !== v.record.descriptionSha256) fields.push('description');
      if (pin.inputSchemaSha256 !== v.record.inputSchemaSha256) fields.push('inputSchema');
      if (fields.length === 0) continue;
      hits.push({
        key: `${v.record.serverId}\u0000${v.record.name}`,
        subject: toolSubject(v),
        evidence: { field: `tool.${v.record.name}`, kind: fields.join('+'), detail: `pinned at version ${pin.serverVersion ?? 'unknown'} on ${pin.firstSeen}` },
        title: `Tool ${v.record.name} of ${v.record.serverName ?? v.record.serverId} changed without a version change`,
      });
    }
    return hits;
  },
};

const DIRECTIVE_TAGS = 'important|system|instructions?|hidden|secret|admin|prompt|assistant|context|sidenote|note_to_(?:ai|model|assistant)|ai_?instructions?';
const SIGNALS: ReadonlyArray<[string, RegExp]> = [
  ['invisible-unicode', /[\u200B-\u200F\u2060-\u2064\uFEFF\u00AD\u180E]|[\u{E0000}-\u{E007F}]/u],
  ['bidi-control', /[\u202A-\u202E\u2066-\u2069]/u],
  // Detecting terminal escape codes is the point of this pattern.
  // eslint-disable-next-line no-control-regex
  ['ansi-escape', /\u001B\[|\u001B\]|\u009B/u],
  ['directive-tag', new RegExp(`<\\s*/?\\s*(?:${DIRECTIVE_TAGS})\\s*>`, 'i')],
  ['conceal-from-user', /\b(?:do not|don't|never|must not)\s+(?:tell|mention|inform|notify|alert|reveal|show|disclose)(?:\s+(?:this|that|it|anything))?\s+(?:to\s+)?(?:the\s+)?user\b|\bwithout\s+(?:telling|informing|notifying|alerting|asking)\s+the\s+user\b|\b(?:the\s+)?user\s+(?:must|should|will)\s+not\s+(?:know|see|notice|be told)\b|\bkeep\s+(?:this|it)\s+(?:secret|hidden)\s+from\b/i],
  ['override-instructions', /\bignore\s+(?:all\s+)?(?:previous|prior|above|earlier|other)\s+(?:instructions|rules|directions)\b|\b(?:disregard|override)\s+(?:the\s+)?(?:system|previous|user'?s?)\s+(?:prompt|instructions)\b|\byou\s+are\s+now\b/i],
  ['secret-exfiltration', /(?:~\/\.ssh|id_rsa|id_ed25519|\.aws\/credentials|mcp\.json|\.env\b|\/etc\/passwd|private key|\.npmrc|\.netrc)[\s\S]{0,200}\b(?:pass|send|include|read|upload|append|add)\b|\b(?:read|pass|send|include|upload)\b[\s\S]{0,120}(?:~\/\.ssh|id_rsa|id_ed25519|\.aws\/credentials|mcp\.json|\/etc\/passwd|\.npmrc|\.netrc)/i],
  ['cross-tool-steering', /\b(?:when|whenever|before|after)\s+(?:the\s+)?(?:user|you|assistant|model)\s+(?:calls?|uses?|invokes?|runs?)\s+(?:the\s+|any\s+)?[`'"]?[\w.-]+[`'"]?\s+tool\b|\b(?:all|every)\s+(?:e-?mails?|messages?|requests?|payments?)\s+(?:must|should|shall)\s+(?:be\s+)?(?:sent|forwarded|redirected|cc'?d|copied)\s+to\b|\binstead\s+of\s+(?:using\s+)?the\s+[`'"]?[\w.-]+[`'"]?\s+tool\b|\bthis\s+tool\s+has\s+a\s+very\s+important\s+side\s+effect\b|\bbefore\s+using\s+(?:this|any\s+other)\s+tool\b/i],
];

/** The kinds of hidden-instruction signal in a text (empty when none). */
export function hiddenInstructionSignals(text: string | null | undefined): string[] {
  if (!text) return [];
  return SIGNALS.filter(([, re]) => re.test(text)).map(([kind]) => kind);
}

export const toolHiddenInstructionsRule: Rule = {
  id: 'tool-hidden-instructions',
  severity: 'critical',
  title: 'MCP tool description carries hidden instructions for the model',
  rationale:
    'The description a server gives the model for this tool holds text aimed at the model rather than the user: ' +
    'invisible or direction-changing Unicode, terminal escape codes, directive tags such as <IMPORTANT>, orders to ' +
    'hide actions from the user, to read secrets, or to change how other tools behave ("tool poisoning"). The ' +
    'model reads all of it; the user sees little of it. Remove the server until its tools are reviewed.',
  evaluate(ctx: RuleContext): RuleHit[] {
    const hits: RuleHit[] = [];
    const serversChecked = new Set<string>();
    for (const v of ctx.tools ?? []) {
      // The server's instructions reach the model too: checked once per server.
      if (!serversChecked.has(v.record.serverId)) {
        serversChecked.add(v.record.serverId);
        const kinds = hiddenInstructionSignals(v.instructions);
        if (kinds.length > 0) {
          hits.push({
            key: `${v.record.serverId}\u0000(instructions)`,
            subject: toolSubject(v),
            evidence: { field: 'server.instructions', kind: kinds.join(',') },
            title: `Server ${v.record.serverName ?? v.record.serverId} gives the model hidden instructions`,
          });
        }
      }
      const schemaText = v.inputSchema === null || v.inputSchema === undefined ? '' : JSON.stringify(v.inputSchema);
      const kinds = [...new Set([...hiddenInstructionSignals(v.description), ...hiddenInstructionSignals(schemaText).map((k) => `schema:${k}`)])];
      if (kinds.length > 0) {
        hits.push({
          key: `${v.record.serverId}\u0000${v.record.name}`,
          subject: toolSubject(v),
          evidence: { field: `tool.${v.record.name}.description`, kind: kinds.join(',') },
          title: `Tool ${v.record.name} of ${v.record.serverName ?? v.record.serverId} hides instructions for the model`,
        });
      }
    }
    return hits;
  },
};

const CAPABILITY_SEVERITY: Record<string, Severity> = {
  'shell-exec': 'high',
  'credential-access': 'high',
  'file-write': 'medium',
  'network-fetch': 'medium',
};
const RANK: Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

export const toolHighRiskCapabilityRule: Rule = {
  id: 'tool-high-risk-capability',
  severity: 'medium',
  title: 'MCP tool with a high-risk capability',
  rationale:
    'A tool can run commands, write files, fetch from the network or reach credentials. A model steered by ' +
    'injected content can call it with the user\'s rights. Keep such tools behind approval, and prefer servers that ' +
    'declare read-only tools. A tool the server marks destructive (destructiveHint) is rated higher; one it marks ' +
    'read-only is not counted as writing files.',
  evaluate(ctx: RuleContext): RuleHit[] {
    const hits: RuleHit[] = [];
    for (const v of ctx.tools ?? []) {
      const caps = v.record.capabilities;
      if (caps.length === 0) continue;
      let rank = Math.max(...caps.map((c) => RANK.indexOf(CAPABILITY_SEVERITY[c] ?? 'medium')));
      if (v.record.annotations.destructiveHint === true) rank = Math.min(rank + 1, RANK.indexOf('high'));
      else if (v.record.annotations.readOnlyHint === true) rank = Math.max(rank - 1, RANK.indexOf('low'));
      hits.push({
        key: `${v.record.serverId}\u0000${v.record.name}`,
        subject: toolSubject(v),
        severity: RANK[rank],
        evidence: {
          field: `tool.${v.record.name}`,
          kind: caps.join(','),
          detail: `annotations: ${JSON.stringify(v.record.annotations)}`,
        },
        title: `Tool ${v.record.name} of ${v.record.serverName ?? v.record.serverId} can ${caps.join(', ')}`,
      });
    }
    return hits;
  },
};

export const unconfiguredMcpListenerRule: Rule = {
  id: 'mcp-listener-unconfigured-all-interfaces',
  severity: 'high',
  title: 'Unconfigured MCP server listening on all interfaces',
  rationale:
    'A process on this machine answers MCP on a port bound to every network interface, and no MCP client ' +
    'configuration here names it. Anyone who can reach the machine can list and call its tools. Bind it to ' +
    'the loopback, put authentication in front of it, or stop it.',
  evaluate(ctx: RuleContext): RuleHit[] {
    return (ctx.mcpListeners ?? [])
      .filter((l) => l.allInterfaces && !l.configured)
      .map((l) => ({
        key: `${l.bind}\u0000${l.port}\u0000${l.processName}`,
        subject: { serverKey: null, serverName: l.serverName ?? `${l.processName}:${l.port}`, pid: l.pid },
        evidence: { field: 'listener', kind: l.authRequired ? 'auth-required' : 'no-auth', detail: `${l.processName} (pid ${l.pid ?? '?'}, user ${l.user ?? '?'}) on ${l.bind}:${l.port} ${l.transport}` },
        severity: l.authRequired ? 'medium' : 'high',
        title: `MCP server ${l.serverName ?? l.processName} listens on ${l.bind}:${l.port} and no config names it`,
      }));
  },
};

/** The tool rules, in reporting order (registered in rules-engine RULES). */
export const TOOL_RULES: readonly Rule[] = [toolHiddenInstructionsRule, toolChangedWithoutVersionRule, toolHighRiskCapabilityRule, unconfiguredMcpListenerRule];
