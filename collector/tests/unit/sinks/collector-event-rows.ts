/**
 * Builders of outbox rows carrying the collector's own tamper/gap events (`collector.seq_gap`,
 * `collector.chain_broken`), shaped as the store records them (see KyselyStore#collectorEvent), for
 * the sink tests.
 */
import { newEventId } from '@mcpwatch/shared';
import type { CollectorEvent, OutboxRow } from '../../../src/store/types.js';

export interface CollectorRowOptions {
  endpointId?: string;
  agentId?: string;
  at?: Date;
}

function collectorRow(sink: string, type: CollectorEvent['type'], data: Omit<CollectorEvent['data'], 'agentId'>, over: CollectorRowOptions): OutboxRow {
  const endpointId = over.endpointId ?? 'ep-1';
  const agentId = over.agentId ?? `agent-of-${endpointId}`;
  const at = over.at ?? new Date('2026-01-01T00:00:00.000Z');
  const event: CollectorEvent = { v: 1, id: newEventId(at.getTime()), type, time: at.toISOString(), endpointId, data: { agentId, ...data } };
  return { id: `${event.id}:${sink}`, sink, endpointId, agentId, batchSeq: data.seq, certFingerprint: 'ab'.repeat(32), event, attempts: 0, createdAt: at.toISOString() };
}

/** A `collector.seq_gap` row: batch `seq` arrived when `expectedSeq` was due. */
export function seqGapRow(sink: string, seq: number, expectedSeq: number, over: CollectorRowOptions = {}): OutboxRow {
  return collectorRow(sink, 'collector.seq_gap', { seq, expectedSeq }, over);
}

/** A `collector.chain_broken` row: batch `seq` claims `prevHash`, the last accepted batch hashed `expectedPrevHash`. */
export function chainBrokenRow(sink: string, seq: number, over: CollectorRowOptions & { prevHash?: string; expectedPrevHash?: string } = {}): OutboxRow {
  return collectorRow(sink, 'collector.chain_broken', { seq, expectedPrevHash: over.expectedPrevHash ?? 'e'.repeat(64), prevHash: over.prevHash ?? 'f'.repeat(64) }, over);
}
