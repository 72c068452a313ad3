/**
 * Metrics of the outbox drainers, per sink: rows sent, send failures (by kind), outbox lag (age
 * of the oldest row in the last claim, 0 when nothing was waiting), records split/summarised,
 * throttled calls. Rendered in the Prometheus text format as a section of the collector's
 * /metrics. Label values are sink names and fixed failure kinds only (bounded).
 */
import type { SinkCounters } from '../sinks/types.js';

type FailureKind = 'retryable' | 'rejected' | 'store';

export class OutletMetrics {
  private readonly sent = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private readonly lagSeconds = new Map<string, number>();
  private readonly sinks = new Map<string, SinkCounters>();

  /** Registers a sink whose own counters are exported too. */
  track(sink: string, counters?: SinkCounters): void {
    this.sent.set(sink, this.sent.get(sink) ?? 0);
    if (counters) this.sinks.set(sink, counters);
  }

  rowsSent(sink: string, n: number): void {
    this.sent.set(sink, (this.sent.get(sink) ?? 0) + n);
  }

  failure(sink: string, kind: FailureKind, n = 1): void {
    const k = `${sink}\u0000${kind}`;
    this.failures.set(k, (this.failures.get(k) ?? 0) + n);
  }

  lag(sink: string, seconds: number): void {
    this.lagSeconds.set(sink, Math.max(0, seconds));
  }

  /** Current values (tests and the bench read them). */
  snapshot(sink: string): { sent: number; lagSeconds: number; failures: Record<FailureKind, number> } {
    const f = (kind: FailureKind) => this.failures.get(`${sink}\u0000${kind}`) ?? 0;
    return { sent: this.sent.get(sink) ?? 0, lagSeconds: this.lagSeconds.get(sink) ?? 0, failures: { retryable: f('retryable'), rejected: f('rejected'), store: f('store') } };
  }

  render(): string {
    const lines: string[] = [];
    const section = (name: string, type: 'counter' | 'gauge', help: string, rows: Array<[string, number]>) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of rows) lines.push(`${name}{${labels}} ${v}`);
    };
    section('mcpwatch_outbox_sent_total', 'counter', 'Outbox rows a sink accepted and the drainer completed.', [...this.sent].map(([s, v]) => [`sink="${s}"`, v]));
    section('mcpwatch_outbox_failures_total', 'counter', 'Outbox rows handed back to the outbox, by sink and kind (retryable, rejected, store).', [...this.failures].map(([k, v]) => {
      const [s, kind] = k.split('\u0000');
      return [`sink="${s}",kind="${kind}"`, v];
    }));
    section('mcpwatch_outbox_lag_seconds', 'gauge', 'Age of the oldest row of the last claim per sink (0 when the outbox was empty).', [...this.lagSeconds].map(([s, v]) => [`sink="${s}"`, Number(v.toFixed(3))]));
    const counter = (name: string, help: string, pick: (c: SinkCounters) => number) =>
      section(name, 'counter', help, [...this.sinks].map(([s, c]) => [`sink="${s}"`, pick(c)]));
    counter('mcpwatch_sink_records_sent_total', 'Records/findings the service accepted.', (c) => c.sent);
    counter('mcpwatch_sink_oversize_split_total', 'Records over the size limit split into parts.', (c) => c.oversizeSplit);
    counter('mcpwatch_sink_oversize_summarised_total', 'Records over the size limit replaced by a summary.', (c) => c.oversizeSummarised);
    counter('mcpwatch_sink_partial_failures_total', 'Records/findings refused inside an accepted call (retried).', (c) => c.partialFailures);
    counter('mcpwatch_sink_throttled_total', 'Calls the service throttled.', (c) => c.throttled);
    return lines.join('\n');
  }
}
