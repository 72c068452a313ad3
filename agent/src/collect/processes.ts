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
import type { ProcessRow } from '../platform/source-types.js';
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

/**
 * Per-row results that do not depend on the rest of the snapshot, remembered across snapshots
 * for rows the source hands back unchanged (the /proc source returns the same object for the
 * same process): the client signature match, and the config / pattern match against one list of
 * servers. Keyed weakly by the row, so they go when the row goes.
 */
const clientMemo = new WeakMap<ProcessRow, { signatures: readonly ClientProcessSignature[]; client: string | null }>();
const serverMemo = new WeakMap<ProcessRow, { servers: readonly ServerEntry[]; launchedBy: string | null; entry: ServerEntry | null; pattern: boolean }>();
/**
 * The redacted command line of a reported row, per redaction function (redaction is a pure
 * function of the text; its secret patterns cost more than anything else per record and poll).
 */
const redactMemo = new WeakMap<ProcessRow, { redact: (text: string) => string; cmd: string }>();

/** What a process inherits from its ancestors. */
interface Lineage {
  /** Nearest client process up the chain. */
  client: string | null;
  /** Nearest config-matched server up the chain. */
  entry: ServerEntry | null;
  /** Any server process up the chain. */
  underServer: boolean;
}

const NO_LINEAGE: Lineage = { client: null, entry: null, underServer: false };

/** Classifies a snapshot; returns records sorted by pid. */
export function classifyProcesses(input: ClassifyInput): ProcessRecord[] {
  const byPid = new Map<number, ProcessRow>();
  for (const row of input.rows) byPid.set(row.pid, row);
  const exclude = input.excludePids ?? new Set<number>();
  let matchers: ReturnType<typeof buildServerMatchers> | null = null;
  // host client → the extension clients it runs (vscode → cline, roo-code, continue).
  const hosted = new Map<string, Set<string>>();
  for (const sig of input.signatures) {
    for (const host of sig.hostedBy ?? []) hosted.set(host, (hosted.get(host) ?? new Set([host])).add(sig.client));
  }
  const preferred = (launchedBy: string | null): ReadonlySet<string> | string | null =>
    launchedBy === null ? null : (hosted.get(launchedBy) ?? launchedBy);
  /** The client to report for a server: its entry's client when the launching app hosts it. */
  const clientFor = (launchedBy: string | null, entry: ServerEntry | null): string | null =>
    entry && launchedBy && entry.client !== launchedBy && hosted.get(launchedBy)?.has(entry.client) ? entry.client : launchedBy;

  const clientOf = (row: ProcessRow): string | null => {
    const memo = clientMemo.get(row);
    if (memo && memo.signatures === input.signatures) return memo.client;
    const client = matchClientSignature(row, input.signatures);
    clientMemo.set(row, { signatures: input.signatures, client });
    return client;
  };

  // Direct classification of one row (needs the client up its chain to prefer that client's entry).
  const directMemo = new Map<number, Direct | null>();
  const lineageMemo = new Map<number, Lineage>();
  const direct = (row: ProcessRow): Direct | null => {
    if (directMemo.has(row.pid)) return directMemo.get(row.pid) ?? null;
    directMemo.set(row.pid, null); // cycle guard
    let out: Direct | null = null;
    if (!exclude.has(row.pid)) {
      const client = clientOf(row);
      if (client) out = { kind: 'client', client, entry: null };
      else {
        const launchedBy = lineage(row).client;
        const memo = serverMemo.get(row);
        let entry: ServerEntry | null;
        let pattern: boolean;
        if (memo && memo.servers === input.servers && memo.launchedBy === launchedBy) {
          ({ entry, pattern } = memo);
        } else {
          matchers ??= buildServerMatchers(input.servers);
          entry = matchServers(row.cmd, matchers, preferred(launchedBy))[0] ?? null;
          pattern = !entry && looksLikeMcpServer(row.cmd);
          serverMemo.set(row, { servers: input.servers, launchedBy, entry, pattern });
        }
        if (entry || pattern) out = { kind: 'server', client: launchedBy, entry };
      }
    }
    directMemo.set(row.pid, out);
    return out;
  };

  // What a row inherits from its parent chain (memoized; bounded depth; cycles cut).
  const lineage = (row: ProcessRow, depth = 0): Lineage => {
    const memo = lineageMemo.get(row.pid);
    if (memo) return memo;
    lineageMemo.set(row.pid, NO_LINEAGE); // cycle guard
    const parent = row.ppid !== null && row.ppid > 0 && row.ppid !== row.pid ? byPid.get(row.ppid) : undefined;
    let out = NO_LINEAGE;
    if (parent && depth < MAX_ANCESTOR_DEPTH) {
      const up = lineage(parent, depth + 1);
      const client = exclude.has(parent.pid) ? null : clientOf(parent);
      const d = client ? null : direct(parent);
      out = {
        client: client ?? up.client,
        entry: d?.entry ?? up.entry,
        underServer: d?.kind === 'server' || up.underServer,
      };
    }
    lineageMemo.set(row.pid, out);
    return out;
  };

  // A server inherits the config match of a server ancestor (npm exec → node); descendants of a
  // server are reported as part of it; nested client helpers are collapsed into the top one.
  const out: ProcessRecord[] = [];
  for (const row of input.rows) {
    if (exclude.has(row.pid)) continue;
    const self = direct(row);
    const up = lineage(row);
    if (self?.kind === 'client') {
      if (up.client === self.client) continue;
      out.push(record(row, input, 'client', self.client, null, null));
    } else if (self?.entry) {
      out.push(record(row, input, 'server', clientFor(up.client, self.entry), self.entry.serverKey, 'config'));
    } else if (up.entry && (self || up.underServer)) {
      out.push(record(row, input, 'server', clientFor(up.client, up.entry), up.entry.serverKey, 'config'));
    } else if (self || up.underServer) {
      out.push(record(row, input, 'server', up.client, null, 'pattern'));
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
  const memo = redactMemo.get(row);
  if (memo && memo.redact === input.redact) cmd = memo.cmd;
  else {
    try {
      cmd = input.redact(row.cmd);
      redactMemo.set(row, { redact: input.redact, cmd });
    } catch {
      cmd = row.name; // redaction failed: never risk the raw command line
    }
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
