/**
 * Inventory diff: two inventories in, the events that turn the first into the second out
 * (server.added|changed|removed, client.detected|removed, process.started|stopped,
 * socket.opened|closed, finding.raised|resolved, config.error). Pure; never throws.
 *
 * Identity of each record: servers by serverKey; clients by client + user; processes by pid +
 * start time (a reused pid is a new process); sockets by pid + kind + addresses; findings by id;
 * config errors by path + code + position + entry (an error is reported when it first appears;
 * one that stays is not repeated, one that goes away raises nothing: the file now parses).
 */
import { canonicalJson, makeEvent, type ClientRecord, type ConfigError, type Finding, type McpEvent, type ProcessRecord, type ServerEntry, type SocketRecord } from '@mcpwatch/shared';

/** The parts of an inventory a diff looks at. */
export interface DiffableInventory {
  clients: readonly ClientRecord[];
  servers: readonly ServerEntry[];
  processes: readonly ProcessRecord[];
  sockets: readonly SocketRecord[];
  findings: readonly Finding[];
  errors: readonly ConfigError[];
}

export const EMPTY_INVENTORY: DiffableInventory = Object.freeze({
  clients: [], servers: [], processes: [], sockets: [], findings: [], errors: [],
});

/** Which record kinds to compare (watch mode diffs config state and runtime state separately). */
export interface DiffScope {
  configs?: boolean;
  runtime?: boolean;
}

export const clientKey = (c: ClientRecord): string => `${c.client}\u0000${c.user ?? ''}`;
export const processKey = (p: ProcessRecord): string => `${p.pid}\u0000${p.startedAt ?? ''}\u0000${p.kind}`;
export const socketKey = (s: SocketRecord): string =>
  [s.pid, s.kind, s.protocol, s.localAddress, s.localPort, s.peerAddress ?? '', s.peerPort ?? ''].join('\u0000');
export const errorKey = (e: ConfigError): string =>
  [e.path, e.code, e.line ?? '', e.column ?? '', e.entry ?? '', e.reason].join('\u0000');

function index<T>(items: readonly T[], key: (t: T) => string): Map<string, T> {
  const m = new Map<string, T>();
  for (const it of items) m.set(key(it), it);
  return m;
}

/** Top-level fields of two server entries that differ. */
export function changedFields(a: ServerEntry, b: ServerEntry): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const out: string[] = [];
  for (const k of keys) {
    const va = (a as Record<string, unknown>)[k];
    const vb = (b as Record<string, unknown>)[k];
    if (canonicalJson(va ?? null) !== canonicalJson(vb ?? null)) out.push(k);
  }
  return out.sort().slice(0, 64);
}

/**
 * Events that lead from `prev` to `next`, in a stable order: config errors, clients, servers,
 * processes, sockets, findings (removals before additions within a kind).
 */
export function diffInventories(
  prev: DiffableInventory,
  next: DiffableInventory,
  endpointId: string,
  now: Date = new Date(),
  scope: DiffScope = { configs: true, runtime: true },
): McpEvent[] {
  const out: McpEvent[] = [];
  const pair = <T>(
    a: readonly T[],
    b: readonly T[],
    key: (t: T) => string,
    gone: ((t: T) => McpEvent) | null,
    came: (t: T) => McpEvent,
  ): void => {
    const ia = index(a, key);
    const ib = index(b, key);
    if (gone) for (const [k, v] of ia) if (!ib.has(k)) out.push(gone(v));
    for (const [k, v] of ib) if (!ia.has(k)) out.push(came(v));
  };

  if (scope.configs) {
    pair(prev.errors, next.errors, errorKey, null, (e) => makeEvent('config.error', endpointId, e, now));
    pair(prev.clients, next.clients, clientKey, (c) => makeEvent('client.removed', endpointId, c, now), (c) => makeEvent('client.detected', endpointId, c, now));
    const pa = index(prev.servers, (s) => s.serverKey);
    const nb = index(next.servers, (s) => s.serverKey);
    for (const [k, s] of pa) if (!nb.has(k)) out.push(makeEvent('server.removed', endpointId, s, now));
    for (const [k, s] of nb) {
      const before = pa.get(k);
      if (!before) out.push(makeEvent('server.added', endpointId, s, now));
      else {
        const fields = changedFields(before, s);
        if (fields.length > 0) out.push(makeEvent('server.changed', endpointId, { ...s, changedFields: fields }, now));
      }
    }
  }
  if (scope.runtime) {
    pair(prev.processes, next.processes, processKey, (p) => makeEvent('process.stopped', endpointId, p, now), (p) => makeEvent('process.started', endpointId, p, now));
    pair(prev.sockets, next.sockets, socketKey, (s) => makeEvent('socket.closed', endpointId, s, now), (s) => makeEvent('socket.opened', endpointId, s, now));
  }
  // Findings can come from either side (a config rule, a process rule): always compared.
  pair(prev.findings, next.findings, (f) => f.id, (f) => makeEvent('finding.resolved', endpointId, f, now), (f) => makeEvent('finding.raised', endpointId, f, now));
  return out;
}
