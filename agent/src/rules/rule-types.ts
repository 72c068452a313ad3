/**
 * The shape of a findings rule and of what it sees.
 *
 * A rule is data plus one pure function: `evaluate(ctx)` returns hits; the engine turns hits
 * into Findings with stable ids (rule + subject key), applies allow-lists and disabled rules, and
 * isolates failures (a rule that throws is reported and skipped, never fatal).
 *
 * Rules see raw entries (with secret values) only to DETECT; whatever a hit carries (field
 * names, kinds, details) must come from names or from the already-redacted ServerEntry.
 */
import type { Finding, ProcessRecord, ServerEntry, Severity, SocketRecord } from '@mcpwatch/shared';
import type { EntryFields } from '../normalize/index.js';
import type { ConfigFileResult, Platform, RawServerEntry } from '../types.js';
import type { ToolView } from '../tools/tool-inventory.js';
import type { ToolPin } from '../tools/tool-pins.js';
import type { SocketMcpServer } from '../probe/listener-prober.js';

/** A tool as the tool rules see it: its record, its local text, and the pin that applied before this observation. */
export interface ToolRuleView extends ToolView {
  pin: ToolPin | null;
}

/** What evaluateRules is given. */
export interface RulesInput {
  files: ConfigFileResult[];
  raw: RawServerEntry[];
  servers: ServerEntry[];
  platform: Platform;
  processes?: ProcessRecord[];
  sockets?: SocketRecord[];
  /** Tools of probed or cached servers, with their first-seen pins (tool-rules.ts). */
  tools?: ToolRuleView[];
  /** Listening sockets that answered MCP (probe/listener-prober.ts). */
  mcpListeners?: SocketMcpServer[];
  /** Process/socket/host-facts sources failing for long enough (inventory/source-health.ts). */
  sourceFailures?: SourceFailureView[];
  /** mcpwatch's hook in each client hook file the running agent keeps (hooks/hook-keeper.ts). */
  hookStates?: HookStateView[];
}

/** The state of mcpwatch's hook in one client hook file, as the hook keeper last saw it. */
export interface HookStateView {
  client: string;
  scope: 'user' | 'managed';
  path: string;
  state: 'installed' | 'missing' | 'tampered' | 'error';
  detail?: string;
  /** When this state was first seen (ISO). */
  since?: string;
}

/** A source that kept failing: which one, its MCPW_ERR_* code and reason, since when. */
export interface SourceFailureView {
  source: string;
  code: string;
  reason: string;
  since: string;
}

/** A raw entry joined to its normalized form and its dialect-independent fields. */
export interface ServerView {
  raw: RawServerEntry | null;
  fields: EntryFields | null;
  server: ServerEntry;
}

/** What every rule sees: the input plus joins computed once. */
export interface RuleContext extends RulesInput {
  /** Every normalized server with its raw entry (null when the raw entry was not passed). */
  views: ServerView[];
  /** Raw entries that have no normalized server (invalid entries): still checked for secrets. */
  orphans: RawServerEntry[];
}

/** One thing a rule found. */
export interface RuleHit {
  /** Distinguishes hits of one rule; with the rule id it makes the stable Finding id. */
  key: string;
  subject: Finding['subject'];
  evidence?: Finding['evidence'];
  /** Overrides the rule's default severity for this hit. */
  severity?: Severity;
  /** Overrides the rule's title for this hit (must hold no secret value). */
  title?: string;
  /** true when an allow-listed server must NOT silence this hit (secrets). */
  notAllowListable?: boolean;
}

export interface Rule {
  id: string;
  severity: Severity;
  title: string;
  /** Why it matters and what to do: becomes Finding.description. */
  rationale: string;
  evaluate(ctx: RuleContext): RuleHit[];
}

/** Subject of a finding about one server. */
export function serverSubject(server: ServerEntry): Finding['subject'] {
  return { serverKey: server.serverKey, serverName: server.name, client: server.client, configPath: server.configPath };
}
