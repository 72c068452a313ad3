/**
 * Builders of outbox rows (what the store's ingest transaction enqueues per sink) for the sink and
 * drainer tests. Events follow the shared schemas.
 */
import { makeEvent, type EventOf, type EventType, type Finding, type HostInfo, type ServerEntry } from '@mcpwatch/shared';
import type { OutboxRow } from '../../src/store/types.js';
import { finding, hostInfo, serverEntry } from './store-fixtures.js';

export { finding, hostInfo, serverEntry };

let seq = 0;

/** An outbox row for `sink` carrying one event of `type`. */
export function outboxRow<K extends EventType>(
  sink: string,
  type: K,
  data: EventOf<K>['data'],
  over: { endpointId?: string; agentId?: string; at?: Date; batchSeq?: number } = {},
): OutboxRow {
  const endpointId = over.endpointId ?? 'ep-1';
  const event = makeEvent(type, endpointId, data, over.at ?? new Date('2026-01-01T00:00:00.000Z'));
  return {
    id: `${event.id}:${sink}`,
    sink,
    endpointId,
    agentId: over.agentId ?? `agent-of-${endpointId}`,
    batchSeq: over.batchSeq ?? ++seq,
    certFingerprint: 'ab'.repeat(32),
    event,
    attempts: 0,
    createdAt: new Date().toISOString(),
  };
}

export function processRow(sink: string, pid: number, over: Parameters<typeof outboxRow>[3] = {}): OutboxRow {
  return outboxRow(sink, 'process.started', { pid, ppid: 1, name: 'node', cmd: `node server-${pid}.js --token [REDACTED]`, user: 'alice', kind: 'server', client: 'cursor', serverKey: null, match: 'pattern', startedAt: null }, over);
}

export function findingRow(sink: string, f: Finding, resolved = false, over: Parameters<typeof outboxRow>[3] = {}): OutboxRow {
  return outboxRow(sink, resolved ? 'finding.resolved' : 'finding.raised', f, over);
}

export function snapshotRow(sink: string, servers: ServerEntry[], findings: Finding[] = [], host: HostInfo = hostInfo(), over: Parameters<typeof outboxRow>[3] = {}): OutboxRow {
  return outboxRow(sink, 'inventory.snapshot', { host, clients: [], servers, processes: [], sockets: [], findings, errors: [] }, over);
}

/** A copy of `row` for another sink (same event, id `${eventId}:${sink}`). */
export function forSink(row: OutboxRow, sink: string): OutboxRow {
  return { ...row, sink, id: `${row.event.id}:${sink}` };
}
