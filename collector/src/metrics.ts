/**
 * The collector's metrics, rendered in the Prometheus text exposition format (version 0.0.4).
 *
 * Contract: counters and histograms live in memory (bounded: label values come from fixed sets —
 * error codes and route names — never from request data); `render()` adds gauges read at scrape
 * time (outbox depth per sink). No dependency on a metrics library.
 */

type Labels = Record<string, string>;

function labelText(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
}

/** A monotonically increasing counter with optional labels. */
export class Counter {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly maxSeries = 256,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const prev = this.values.get(key);
    if (prev === undefined && this.values.size >= this.maxSeries) return; // bounded: drop new series
    this.values.set(key, (prev ?? 0) + by);
  }

  /** Current value for `labels` (0 when never incremented). */
  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels)) ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const [k, v] of this.values) lines.push(`${this.name}${k} ${v}`);
    return lines.join('\n');
  }
}

/** A histogram with fixed buckets (seconds). */
export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count += 1;
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= (this.buckets[i] as number)) {
        this.counts[i] = (this.counts[i] as number) + 1;
        break;
      }
    }
  }

  get observations(): number {
    return this.count;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    let cumulative = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      cumulative += this.counts[i] as number;
      lines.push(`${this.name}_bucket{le="${this.buckets[i]}"} ${cumulative}`);
    }
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`, `${this.name}_sum ${this.sum}`, `${this.name}_count ${this.count}`);
    return lines.join('\n');
  }
}

/** Every metric the collector exports. One instance per app. */
export class CollectorMetrics {
  readonly batchesAccepted = new Counter('mcpwatch_batches_accepted_total', 'Batches stored (new) and acknowledged.');
  readonly batchesDuplicate = new Counter('mcpwatch_batches_duplicate_total', 'Re-sent batches answered with the same ack.');
  readonly eventsAccepted = new Counter('mcpwatch_events_accepted_total', 'Events stored from accepted batches.');
  readonly batchRejects = new Counter('mcpwatch_batch_rejects_total', 'Batches refused, by reason code.');
  readonly chainBreaks = new Counter('mcpwatch_batch_chain_breaks_total', 'Accepted batches whose prevHash did not chain (tamper) or whose seq skipped (gap).');
  readonly enrollments = new Counter('mcpwatch_enrollments_total', 'Agents enrolled, by outcome.');
  readonly enrollRejects = new Counter('mcpwatch_enroll_rejects_total', 'Enrollments refused, by reason code.');
  readonly authFailures = new Counter('mcpwatch_auth_failures_total', 'Failed authentications, by kind (token, enroll, agent).');
  readonly throttled = new Counter('mcpwatch_throttled_total', 'Requests refused with 429 by the abuse guard, by reason (auth-failures-*, enroll-per-secret, enroll-global, enroll-key-reused).');
  readonly overloadRejects = new Counter('mcpwatch_overload_rejects_total', 'Requests shed with 503 under event-loop or heap pressure, by type.');
  readonly batchLatency = new Histogram('mcpwatch_batch_duration_seconds', 'Time from request start to response for POST /v1/batches.', [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
  ]);

  private readonly sections: Array<() => string> = [];

  /** Adds a block of exposition text, rendered after the built-in metrics (the outbox drainers' own). */
  addSection(render: () => string): void {
    this.sections.push(render);
  }

  /**
   * The exposition text; `outboxDepth` is read at scrape time (null when the store cannot say);
   * `storeUp`: the store's health check at scrape time (default: the depth could be read).
   */
  render(outboxDepth: Record<string, number> | null, storeUp: boolean = outboxDepth !== null, projection: { lagBatches: number; lagSeconds: number } | null = null): string {
    const parts = [
      this.batchesAccepted,
      this.batchesDuplicate,
      this.eventsAccepted,
      this.batchRejects,
      this.chainBreaks,
      this.enrollments,
      this.enrollRejects,
      this.authFailures,
      this.throttled,
      this.overloadRejects,
      this.batchLatency,
    ].map((m) => m.render());
    const depth = ['# HELP mcpwatch_outbox_depth Outbox rows waiting per sink.', '# TYPE mcpwatch_outbox_depth gauge'];
    for (const [sink, n] of Object.entries(outboxDepth ?? {})) depth.push(`mcpwatch_outbox_depth${labelText({ sink })} ${n}`);
    parts.push(depth.join('\n'));
    parts.push(
      '# HELP mcpwatch_store_up 1 when the store passed its health check (there, same file, readable) at this scrape.',
      '# TYPE mcpwatch_store_up gauge',
      `mcpwatch_store_up ${storeUp ? 1 : 0}`,
    );
    if (projection) {
      parts.push(
        '# HELP mcpwatch_projection_lag_seconds Age of the oldest batch-log row not yet projected (index, inventory, findings, outbox); 0 when caught up.',
        '# TYPE mcpwatch_projection_lag_seconds gauge',
        `mcpwatch_projection_lag_seconds ${projection.lagSeconds}`,
        '# HELP mcpwatch_projection_lag_batches Batch-log rows not yet projected (all collectors sharing the database).',
        '# TYPE mcpwatch_projection_lag_batches gauge',
        `mcpwatch_projection_lag_batches ${projection.lagBatches}`,
      );
    }
    for (const section of this.sections) parts.push(section());
    return parts.join('\n') + '\n';
  }
}
