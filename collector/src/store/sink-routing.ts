/**
 * Which sinks want which events. The store enqueues an outbox row for an event only for the sinks
 * that want it, so a drainer never has to skip rows.
 *
 * One routing decision for findings, the same for every sink: a finding is published only as a
 * `finding.raised` / `finding.resolved` event, either the agent's own or one the store derives
 * when a snapshot raises or resolves a finding (projection.ts; a snapshot repeating an open finding
 * unchanged derives nothing). A snapshot's `findings` array is inventory state: no sink renders it
 * as findings (ASFF, OCSF detections), so nothing reaches one sink by a path another lacks.
 */
import { COLLECTOR_EVENT_TYPES } from './types.js';

/** Sink name of AWS Security Hub; it takes findings (the agents' and the collector's) only. */
export const SECURITY_HUB_SINK = 'securityhub';

/** What Security Hub publishes: finding events (the agents' and those derived from snapshots) and the collector's tamper/gap events. */
const SECURITY_HUB_TYPES: ReadonlySet<string> = new Set(['finding.raised', 'finding.resolved', ...COLLECTOR_EVENT_TYPES]);

/** Sink name of the webhook (Slack-compatible or generic JSON notifications: sinks/webhook-sink.ts). */
export const WEBHOOK_SINK = 'webhook';

/** What the webhook notifies about: raised findings (it filters by severity) and containment results. */
export const WEBHOOK_TYPES: ReadonlySet<string> = new Set(['finding.raised', 'server.quarantined', 'server.restored', 'command.failed']);

/** true when `sink` should receive events of `type`. */
export function sinkWantsEvent(sink: string, type: string): boolean {
  if (sink === SECURITY_HUB_SINK) return SECURITY_HUB_TYPES.has(type);
  if (sink === WEBHOOK_SINK) return WEBHOOK_TYPES.has(type);
  return true;
}
