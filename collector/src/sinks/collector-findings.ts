/**
 * What the outlets say about the collector's own tamper/gap events (`collector.seq_gap`,
 * `collector.chain_broken`): one severity, message, title and description per event, shared by the
 * OCSF and ASFF renderings so a SIEM and Security Hub read the same words. Pure functions: no I/O.
 *
 * - seq_gap (MEDIUM): batches between the last accepted seq and this one never arrived (lost,
 *   dropped by the agent, or withheld on the way).
 * - chain_broken (HIGH): the batch's prevHash is not the hash of the last accepted batch, so batches
 *   were altered, dropped or replayed between the agent and the collector.
 * Hashes are batch body digests, not secrets; they are carried so an analyst can compare them.
 */
import type { Severity } from '@mcpwatch/shared';
import { COLLECTOR_EVENT_TYPES, type CollectorEvent, type StoredEvent } from '../store/types.js';

export interface CollectorFindingText {
  severity: Severity;
  /** One line: "batch sequence gap: expected seq N, got M" / "batch hash chain broken at seq M". */
  message: string;
  /** Names the agent and the seq. */
  title: string;
  description: string;
}

/** true when `e` is an event the collector recorded (not an agent's event). */
export function isCollectorEvent(e: StoredEvent): e is CollectorEvent {
  return (COLLECTOR_EVENT_TYPES as readonly string[]).includes(e.type);
}

/** The stable identity of a collector finding: endpoint + kind + seq (a re-send names the same one). */
export function collectorFindingKey(endpointId: string, e: CollectorEvent): string {
  return `${endpointId}/${e.type}/${e.data.seq}`;
}

/** Severity and words for one collector event. */
export function collectorFindingText(e: CollectorEvent): CollectorFindingText {
  const { agentId, seq } = e.data;
  if (e.type === 'collector.seq_gap') {
    const expected = e.data.expectedSeq ?? 'unknown';
    const missing = typeof e.data.expectedSeq === 'number' && seq > e.data.expectedSeq ? ` (${seq - e.data.expectedSeq} batches missing)` : '';
    return {
      severity: 'medium',
      message: `batch sequence gap: expected seq ${expected}, got ${seq}`,
      title: `Batch sequence gap from agent ${agentId} at seq ${seq}`,
      description:
        `Agent ${agentId} sent batch seq ${seq} when seq ${expected} was expected${missing}: ` +
        'batches in between never reached the collector (lost, dropped on the endpoint, or withheld on the way).',
    };
  }
  const hashes =
    e.data.expectedPrevHash !== undefined || e.data.prevHash !== undefined
      ? ` The batch claims prevHash ${e.data.prevHash ?? 'unknown'}; the last accepted batch hashed ${e.data.expectedPrevHash ?? 'unknown'}.`
      : '';
  return {
    severity: 'high',
    message: `batch hash chain broken at seq ${seq}`,
    title: `Batch hash chain broken for agent ${agentId} at seq ${seq}`,
    description: `The hash chain of agent ${agentId} breaks at batch seq ${seq}: batches were altered, dropped or replayed between the agent and the collector.${hashes}`,
  };
}
