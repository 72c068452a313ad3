/**
 * Which sinks want which events. The store enqueues an outbox row for an event only for the sinks
 * that want it, so a drainer never has to skip rows.
 */
import { COLLECTOR_EVENT_TYPES } from './types.js';

/** Sink name of AWS Security Hub; it takes findings (the agents' and the collector's) only. */
export const SECURITY_HUB_SINK = 'securityhub';

/** What Security Hub publishes: the agents' findings and the collector's tamper/gap events. */
const SECURITY_HUB_TYPES: ReadonlySet<string> = new Set(['finding.raised', 'finding.resolved', ...COLLECTOR_EVENT_TYPES]);

/** true when `sink` should receive events of `type`. */
export function sinkWantsEvent(sink: string, type: string): boolean {
  if (sink === SECURITY_HUB_SINK) return SECURITY_HUB_TYPES.has(type);
  return true;
}
