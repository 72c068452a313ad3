/**
 * The scan orchestrator: discover config files → normalize each entry → collect processes and
 * sockets → match them to the configured servers → evaluate rules → one InventoryDocument.
 *
 * It runs in phases so watch mode can redo only what changed: scanConfigs() (files),
 * snapshotRuntime() (ps + sockets, the expensive OS calls) and classifyRuntime() (pure matching of
 * a snapshot against the servers), then assembleInventory().
 *
 * Contract: nothing here throws. A failing phase becomes an entry in `errors` (code
 * `discovery-failed`, `normalize-failed`, `collect-failed`, `rules-failed`; `collect-partial` for a
 * process or socket source that answered without all its fields) and the rest of the
 * inventory is still produced. A process, socket or host-facts source that cannot run is such an
 * entry (path `(processes)`, `(sockets)`, `(host)`; reason led by its MCPW_ERR_* code), never an
 * empty list. Nothing with a secret value leaves: RawServerEntry stays inside,
 * command lines are redacted, records come from the normalizer which drops values, and every
 * error's reason is redacted here, in the one place all outputs are built from (parsers quote
 * lines of the file and the tokens in them).
 */
import { INVENTORY_SCHEMA_ID } from '@mcpwatch/shared/protocol';
import type { ClientRecord, ConfigError, ExtensionRecord, Finding, InventoryDocument, ProcessRecord, ServerEntry, SocketRecord } from '@mcpwatch/shared';
import type { ClientProcessSignature } from '../collect/process-signatures.js';
import type { ProcessRow, ProcessSource, SocketRow, SocketScope, SocketSource, SourceResult } from '../platform/source-types.js';
import type { HostFactsSource } from '../collect/host-facts.js';
import type { HostResolver } from '../collect/host-resolver.js';
import type { UserNameResolver } from '../collect/user-names.js';
import { hostInfo } from '../collect/host-facts.js';
import { redactConfigError } from '../secrets/index.js';
import { AgentCodes, AgentError } from '../errors.js';
import type { ConfigFileResult, DiscoveryResult, RawServerEntry, ScanContext } from '../types.js';
import type { SourceFailureView } from '../rules/rule-types.js';
import { isInEffect } from '../discovery/effective-state.js';
import { extensionFindings } from '../extensions/extension-changes.js';
import { byText } from '../normalize/text-order.js';

/** Which parts of the machine to look at. */
export interface ScanSources {
  configs: boolean;
  processes: boolean;
  sockets: boolean;
}

export const ALL_SOURCES: Readonly<ScanSources> = Object.freeze({ configs: true, processes: true, sockets: true });

/** Result of normalizing one raw entry (normalize/normalize-entry.ts). */
export type NormalizeOutcome = { ok: true; server: ServerEntry; warnings: ConfigError[] } | { ok: false; error: ConfigError };

/** What rules see. */
export interface ScanRulesInput {
  ctx: ScanContext;
  files: readonly ConfigFileResult[];
  servers: readonly ServerEntry[];
  processes: readonly ProcessRecord[];
  sockets: readonly SocketRecord[];
  /** Sources that kept failing (watch mode's source-health.ts; a one-off scan has none). */
  sourceFailures?: readonly SourceFailureView[];
}

/**
 * Collaborators of a scan. `defaultScanDeps()` (scan-deps.ts) wires the real ones; tests pass
 * their own sources so no real processes or sockets are needed.
 */
export interface ScanDeps {
  discover: (ctx: ScanContext) => Promise<DiscoveryResult>;
  normalize: (raw: RawServerEntry) => NormalizeOutcome;
  evaluateRules: (input: ScanRulesInput) => Finding[];
  processSource: ProcessSource;
  socketSource: SocketSource;
  hostFacts: HostFactsSource;
  resolveHosts: HostResolver;
  resolveUser: UserNameResolver;
  redact: (text: string) => string;
  signatures: (platform: ScanContext['platform']) => readonly ClientProcessSignature[];
  /** Pids never reported (the agent itself). */
  selfPids: ReadonlySet<number>;
  /** Decides what is in effect per server (discovery/effective-state.ts); absent: no state recorded. */
  resolveEffective?: (ctx: ScanContext, servers: readonly ServerEntry[], files: readonly ConfigFileResult[]) => Promise<{ servers: ServerEntry[]; errors: ConfigError[] }>;
  /** Finds skills, hooks and plugins (extensions/extension-finder.ts); absent: not looked for. */
  findExtensions?: (ctx: ScanContext, projects: readonly string[]) => Promise<{ extensions: ExtensionRecord[]; errors: ConfigError[] }>;
}

/** Config-side state: what the files say. */
export interface ConfigState {
  files: ConfigFileResult[];
  /** Project folders discovery read (watch mode watches their config paths). */
  projects: string[];
  clients: ClientRecord[];
  servers: ServerEntry[];
  errors: ConfigError[];
  /** Skills, hooks and plugins, when the scan looked for them (deps.findExtensions). */
  extensions?: ExtensionRecord[];
}

/**
 * A raw OS snapshot (kept by watch mode so a config change can re-match without a new ps).
 * `sockets` stays null until needed: the socket table is only read when MCP processes exist.
 */
export interface RuntimeSnapshot {
  rows: ProcessRow[];
  sockets: SocketRow[] | null;
  errors: ConfigError[];
}

/** Runtime-side state: MCP-related processes and sockets. */
export interface RuntimeState {
  processes: ProcessRecord[];
  sockets: SocketRecord[];
  errors: ConfigError[];
  /** Sources failing for long enough to be a finding (set by watch mode after each poll). */
  sourceFailures?: SourceFailureView[];
}

export const EMPTY_RUNTIME: RuntimeState = Object.freeze({ processes: [], sockets: [], errors: [] }) as RuntimeState;
const EMPTY_CONFIG: ConfigState = { files: [], projects: [], clients: [], servers: [], errors: [] };

/** A coded source failure (AgentError) keeps its MCPW_ERR_* code at the head of the reason. */
function errorRecord(path: string, code: string, error: unknown): ConfigError {
  const reason = error instanceof AgentError ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
  return { path, client: null, code, reason: reason.slice(0, 2048) };
}

/** Reads and normalizes every config file. Never throws. */
export async function scanConfigs(ctx: ScanContext, deps: Pick<ScanDeps, 'discover' | 'normalize' | 'resolveEffective' | 'findExtensions'>): Promise<ConfigState> {
  let discovery: DiscoveryResult;
  try {
    discovery = await deps.discover(ctx);
  } catch (error) {
    return { ...EMPTY_CONFIG, errors: [errorRecord('(discovery)', 'discovery-failed', error)] };
  }
  const errors: ConfigError[] = [...discovery.errors];
  const byKey = new Map<string, ServerEntry>();
  for (const file of discovery.files) {
    errors.push(...file.errors);
    for (const raw of file.entries) {
      let outcome: NormalizeOutcome;
      try {
        outcome = deps.normalize(raw);
      } catch (error) {
        outcome = { ok: false, error: { ...errorRecord(raw.configPath, 'normalize-failed', error), client: raw.client, entry: raw.name.slice(0, 512) } };
      }
      if (outcome.ok) {
        if (!byKey.has(outcome.server.serverKey)) byKey.set(outcome.server.serverKey, outcome.server);
        errors.push(...outcome.warnings);
      } else errors.push(outcome.error);
    }
  }
  let servers = [...byKey.values()].sort(compareServers);
  if (deps.resolveEffective) {
    const effective = await deps.resolveEffective(ctx, servers, discovery.files);
    servers = effective.servers;
    errors.push(...effective.errors);
  }
  const clients = discovery.clients
    .map((c) => ({
      ...c,
      serverCount: servers.filter((s) => s.client === c.client && (c.user == null || s.user == null || s.user === c.user)).length,
    }))
    .sort((a, b) => byText(a.client, b.client) || byText(a.user ?? '', b.user ?? ''));
  let extensions: ExtensionRecord[] | undefined;
  if (deps.findExtensions) {
    const found = await deps.findExtensions(ctx, discovery.projects ?? []);
    extensions = found.extensions;
    errors.push(...found.errors);
  }
  return { files: discovery.files, clients, servers, errors, projects: discovery.projects ?? [], ...(extensions ? { extensions } : {}) };
}

function compareServers(a: ServerEntry, b: ServerEntry): number {
  return byText(a.client, b.client) || byText(a.configPath, b.configPath) || byText(a.name, b.name);
}

/** Takes the process snapshot the sources ask for (sockets are read later, when needed). Never throws. */
export async function snapshotRuntime(sources: ScanSources, deps: Pick<ScanDeps, 'processSource'>): Promise<RuntimeSnapshot> {
  const out: RuntimeSnapshot = { rows: [], sockets: null, errors: [] };
  if (!sources.processes && !sources.sockets) return out;
  const procs = await safe(() => deps.processSource());
  if (procs.ok) out.rows = procs.rows;
  if (procs.ok && procs.partial) out.errors.push(errorRecord('(processes)', 'collect-partial', procs.partial));
  if (!procs.ok) out.errors.push(errorRecord('(processes)', 'collect-failed', procs.error));
  return out;
}

async function safe<T>(fn: () => Promise<SourceResult<T>>): Promise<SourceResult<T>> {
  try {
    return await fn();
  } catch (error) {
    return { ok: false as const, error: error instanceof Error ? error : new Error(String(error)) };
  }
}

/** Upper bound on processes whose sockets are read in one pass. */
const MAX_SOCKET_SCOPE = 5000;

/** The processes whose sockets matter: MCP server processes, and every process of a client's tree. */
function socketScope(rows: readonly ProcessRow[], processes: readonly ProcessRecord[]): SocketScope {
  const pids = new Set<number>();
  const children = new Map<number, number[]>();
  for (const r of rows) {
    if (r.ppid === null) continue;
    const list = children.get(r.ppid) ?? [];
    list.push(r.pid);
    children.set(r.ppid, list);
  }
  const queue: number[] = [];
  for (const p of processes) {
    pids.add(p.pid);
    if (p.kind === 'client') queue.push(p.pid);
  }
  while (queue.length > 0 && pids.size < MAX_SOCKET_SCOPE) {
    for (const child of children.get(queue.pop() as number) ?? []) {
      if (!pids.has(child)) {
        pids.add(child);
        queue.push(child);
      }
    }
  }
  const names = new Map(rows.filter((r) => pids.has(r.pid)).map((r) => [r.pid, r.name]));
  return { pids, names };
}

/** Matches a snapshot against the configured servers. Never throws. */
export async function classifyRuntime(
  ctx: ScanContext,
  sources: ScanSources,
  snapshot: RuntimeSnapshot,
  servers: readonly ServerEntry[],
  deps: Pick<ScanDeps, 'socketSource' | 'resolveHosts' | 'resolveUser' | 'redact' | 'signatures' | 'selfPids'>,
): Promise<RuntimeState> {
  const errors = [...snapshot.errors];
  const socketErrors: ConfigError[] = [];
  if (!sources.processes && !sources.sockets) return { processes: [], sockets: [], errors };
  try {
    // Loaded here, not at the top: a configs-only scan (`--home`) never needs them.
    const { classifyProcesses } = await import('../collect/processes.js');
    const { collectSockets, remoteTargets } = await import('../collect/sockets.js');
    const processes = classifyProcesses({
      rows: snapshot.rows,
      servers,
      signatures: deps.signatures(ctx.platform),
      redact: deps.redact,
      resolveUser: deps.resolveUser,
      excludePids: deps.selfPids,
    });
    let sockets: SocketRecord[] = [];
    if (sources.sockets && processes.length > 0) {
      if (snapshot.sockets === null) {
        const scope = socketScope(snapshot.rows, processes);
        const socks = await safe(() => deps.socketSource(scope));
        snapshot.sockets = socks.ok ? socks.rows : [];
        if (!socks.ok) socketErrors.push(errorRecord('(sockets)', 'collect-failed', socks.error));
        else if (socks.partial) socketErrors.push(errorRecord('(sockets)', 'collect-partial', socks.partial));
      }
      const hosts = remoteTargets(servers).map((t) => t.host);
      const resolved = hosts.length > 0 ? await deps.resolveHosts(hosts) : new Map<string, string[]>();
      sockets = collectSockets({ sockets: snapshot.sockets, rows: snapshot.rows, processes, servers, resolved });
    }
    return { processes: sources.processes ? processes : [], sockets, errors: [...errors, ...socketErrors] };
  } catch (error) {
    return { processes: [], sockets: [], errors: [...errors, errorRecord('(processes)', 'collect-failed', error)] };
  }
}

/** Runs the rules and builds the document. Never throws. */
export async function assembleInventory(
  ctx: ScanContext,
  config: ConfigState,
  runtime: RuntimeState,
  deps: Pick<ScanDeps, 'evaluateRules' | 'hostFacts'>,
  now: Date = new Date(),
): Promise<InventoryDocument> {
  const errors = [...config.errors, ...runtime.errors];
  let findings: Finding[] = [];
  try {
    // Findings are raised on servers in effect; inert ones stay listed in the inventory (issue 14).
    findings = deps.evaluateRules({ ctx, files: config.files, servers: config.servers.filter(isInEffect), processes: runtime.processes, sockets: runtime.sockets, ...(runtime.sourceFailures ? { sourceFailures: runtime.sourceFailures } : {}) });
  } catch (error) {
    errors.push(errorRecord('(rules)', 'rules-failed', error));
  }
  if (config.extensions) findings.push(...extensionFindings(config.extensions));
  const unique = new Map(findings.map((f) => [f.id, f]));
  let facts;
  try {
    facts = await deps.hostFacts();
    for (const problem of facts.errors ?? []) errors.push({ path: '(host)', client: null, code: 'collect-failed', reason: `${problem.code}: ${problem.reason}`.slice(0, 2048) });
  } catch (error) {
    facts = { hostname: 'unknown', osName: null, osRelease: null, arch: null, hardwareUuid: null, serial: null };
    errors.push(errorRecord('(host)', 'collect-failed', new AgentError(AgentCodes.hostFacts, `host facts failed: ${error instanceof Error ? error.message : String(error)}`)));
  }
  return {
    schema: INVENTORY_SCHEMA_ID,
    generatedAt: now.toISOString(),
    host: hostInfo(facts, ctx.platform, ctx.homes.map((h) => h.user)),
    clients: config.clients,
    servers: config.servers,
    processes: runtime.processes,
    sockets: runtime.sockets,
    findings: [...unique.values()].sort((a, b) => byText(a.id, b.id)),
    errors: errors.map((e) => redactConfigError(e)),
    ...(config.extensions ? { extensions: config.extensions } : {}),
  };
}

/** Options of one full scan. */
export interface ScanOptions {
  ctx: ScanContext;
  sources?: ScanSources;
  now?: Date;
}

/** Everything one scan learned (the document plus the internal states watch mode keeps). */
export interface ScanOutcome {
  document: InventoryDocument;
  config: ConfigState;
  snapshot: RuntimeSnapshot;
  runtime: RuntimeState;
}

/** One full scan. Never throws. */
export async function runScan(options: ScanOptions, deps: ScanDeps): Promise<ScanOutcome> {
  const sources = options.sources ?? ALL_SOURCES;
  const [config, snapshot] = await Promise.all([
    sources.configs ? scanConfigs(options.ctx, deps) : Promise.resolve(EMPTY_CONFIG),
    snapshotRuntime(sources, deps),
  ]);
  const runtime = await classifyRuntime(options.ctx, sources, snapshot, config.servers, deps);
  const document = await assembleInventory(options.ctx, config, runtime, deps, options.now);
  return { document, config, snapshot, runtime };
}
