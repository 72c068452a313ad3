/**
 * Turns a process snapshot into the MCP-related ProcessRecords of the inventory:
 *  - client processes (catalog signatures), the top-most of each client's process tree only;
 *  - server processes matched to a configured entry (match: 'config'), or recognised by name
 *    (match: 'pattern'), plus their descendants (the node/python a launcher re-execs into, which
 *    is the process that owns the server's sockets), each linked to the client up its parent chain;
 *  - the user who runs each one.
 * Everything else on the machine is left out. Command lines pass through `redact` first, so a
 * secret in argv never leaves. Pure apart from the injected functions; never throws.
 */
import type { ProcessRecord, ServerEntry } from '@mcpwatch/shared';
import type { ProcessRow } from './process-source.js';
import { type ClientProcessSignature, looksLikeMcpServer, matchClientSignature } from './process-signatures.js';
import { buildServerMatchers, matchServers } from './server-matcher.js';
import type { UserNameResolver } from './user-names.js';

/** How far up the parent chain a link is looked for. */
export const MAX_ANCESTOR_DEPTH = 32;
const MAX_CMD_CHARS = 8192;

export interface ClassifyInput {
  rows: readonly ProcessRow[];
  servers: readonly ServerEntry[];
  signatures: readonly ClientProcessSignature[];
  /** Replaces secret-looking values in a command line. */
  redact: (text: string) => string;
  resolveUser: UserNameResolver;
  /** Processes never reported (the agent itself). */
  excludePids?: ReadonlySet<number>;
}

interface Direct {
  kind: 'client' | 'server';
  client: string | null;
  entry: ServerEntry | null;
}

/** Classifies a snapshot; returns records sorted by pid. */
export function classifyProcesses(input: ClassifyInput): ProcessRecord[] {
  const byPid = new Map<number, ProcessRow>();
  for (const row of input.rows) byPid.set(row.pid, row);
  const exclude = input.excludePids ?? new Set<number>();
  const matchers = buildServerMatchers(input.servers);

  const ancestors = (row: ProcessRow): ProcessRow[] => {
    const out: ProcessRow[] = [];
    const seen = new Set<number>([row.pid]);
    let cur = row.ppid;
    while (cur !== null && cur > 0 && out.length < MAX_ANCESTOR_DEPTH && !seen.has(cur)) {
      seen.add(cur);
      const parent = byPid.get(cur);
      if (!parent) break;
      out.push(parent);
      cur = parent.ppid;
    }
    return out;
  };

  // Pass 1: clients by signature.
  const clientOf = new Map<number, string>();
  for (const row of input.rows) {
    const client = matchClientSignature(row, input.signatures);
    if (client) clientOf.set(row.pid, client);
  }
  const nearestClient = (chain: ProcessRow[]): string | null => {
    for (const a of chain) {
      const c = clientOf.get(a.pid);
      if (c) return c;
    }
    return null;
  };

  // Pass 2: servers matched directly (config first, then name pattern).
  const direct = new Map<number, Direct>();
  const chains = new Map<number, ProcessRow[]>();
  for (const row of input.rows) {
    if (exclude.has(row.pid)) continue;
    const chain = ancestors(row);
    chains.set(row.pid, chain);
    const client = clientOf.get(row.pid);
    if (client) {
      direct.set(row.pid, { kind: 'client', client, entry: null });
      continue;
    }
    const launchedBy = nearestClient(chain);
    const [entry] = matchServers(row.cmd, matchers, launchedBy);
    if (entry) direct.set(row.pid, { kind: 'server', client: launchedBy, entry });
    else if (looksLikeMcpServer(row.cmd)) direct.set(row.pid, { kind: 'server', client: launchedBy, entry: null });
  }

  // Pass 3: records. A server inherits the config match of a server ancestor (npm exec → node);
  // descendants of a server are reported as part of it; nested client helpers are collapsed.
  const out: ProcessRecord[] = [];
  for (const row of input.rows) {
    if (exclude.has(row.pid)) continue;
    const chain = chains.get(row.pid) ?? [];
    const self = direct.get(row.pid);
    if (self?.kind === 'client') {
      if (chain.some((a) => clientOf.get(a.pid) === self.client)) continue;
      out.push(record(row, input, 'client', self.client, null, null));
      continue;
    }
    // Nearest server ancestor with a config match, and whether any ancestor is a server at all.
    const ancestorServers = chain.map((a) => direct.get(a.pid)).filter((d): d is Direct => d?.kind === 'server');
    const ancestorEntry = ancestorServers.find((d) => d.entry)?.entry ?? null;
    const launchedBy = nearestClient(chain);
    if (self?.entry) {
      out.push(record(row, input, 'server', launchedBy, self.entry.serverKey, 'config'));
    } else if (ancestorEntry) {
      out.push(record(row, input, 'server', launchedBy, ancestorEntry.serverKey, 'config'));
    } else if (self || ancestorServers.length > 0) {
      out.push(record(row, input, 'server', launchedBy, null, 'pattern'));
    }
  }
  return out.sort((a, b) => a.pid - b.pid);
}

function record(
  row: ProcessRow,
  input: ClassifyInput,
  kind: 'client' | 'server',
  client: string | null,
  serverKey: string | null,
  match: 'config' | 'pattern' | null,
): ProcessRecord {
  let cmd: string;
  try {
    cmd = input.redact(row.cmd);
  } catch {
    cmd = row.name; // redaction failed: never risk the raw command line
  }
  return {
    pid: row.pid,
    ppid: row.ppid,
    name: row.name.slice(0, 512),
    cmd: cmd.slice(0, MAX_CMD_CHARS),
    user: (row.user ?? input.resolveUser(row.uid))?.slice(0, 256) ?? null,
    kind,
    client,
    serverKey,
    match,
    startedAt: row.startedAt,
  };
}
