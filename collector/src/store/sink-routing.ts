/**
 * Which sinks want which events. The store enqueues an outbox row for an event only for the sinks
 * that want it, so a drainer never has to skip rows.
 */

/** Sink name of AWS Security Hub; it takes findings only. */
export const SECURITY_HUB_SINK = 'securityhub';

/** true when `sink` should receive events of `type`. */
export function sinkWantsEvent(sink: string, type: string): boolean {
  if (sink === SECURITY_HUB_SINK) return type === 'finding.raised' || type === 'finding.resolved';
  return true;
}
