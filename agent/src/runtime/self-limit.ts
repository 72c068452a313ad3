/**
 * Self-limits: the agent watches its own CPU and memory and, when it goes over budget, lengthens
 * its polling intervals (doubling a factor up to maxFactor); when it is comfortably under budget
 * again it halves the factor back towards 1. The decision and its reason go into the heartbeat.
 * Pure apart from ProcessMeter, which reads process.cpuUsage() / memoryUsage.rss().
 */

export interface ResourceSample {
  /** CPU time used since the previous sample, as % of one core. */
  cpuPercent: number;
  rssBytes: number;
}

/** Measures this process's CPU % between calls, and its RSS. Clock and readers injectable. */
export class ProcessMeter {
  private lastCpuUs: number;
  private lastWallMs: number;

  constructor(
    private readonly cpuUs: () => number = () => {
      const u = process.cpuUsage();
      return u.user + u.system;
    },
    private readonly rss: () => number = () => process.memoryUsage.rss(),
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.lastCpuUs = this.cpuUs();
    this.lastWallMs = this.nowMs();
  }

  /** CPU % of one core since the previous sample (or since construction). */
  sample(): ResourceSample {
    const cpu = this.cpuUs();
    const wall = this.nowMs();
    const elapsedMs = Math.max(1, wall - this.lastWallMs);
    const cpuPercent = Math.max(0, ((cpu - this.lastCpuUs) / 1000 / elapsedMs) * 100);
    this.lastCpuUs = cpu;
    this.lastWallMs = wall;
    return { cpuPercent: Math.round(cpuPercent * 1000) / 1000, rssBytes: this.rss() };
  }
}

export interface SelfLimitOptions {
  cpuBudgetPercent: number;
  rssBudgetMb: number;
  /** Largest interval multiplier. Default 8. */
  maxFactor?: number;
}

export interface SelfLimitDecision {
  factor: number;
  throttled: boolean;
  reason: string | null;
  /** true when the factor changed with this sample. */
  changed: boolean;
}

/** Turns samples into an interval factor. See the module comment. */
export class SelfLimiter {
  private factor = 1;
  private reason: string | null = null;
  private readonly maxFactor: number;

  constructor(private readonly opts: SelfLimitOptions) {
    this.maxFactor = opts.maxFactor ?? 8;
  }

  evaluate(s: ResourceSample): SelfLimitDecision {
    const rssMb = s.rssBytes / (1024 * 1024);
    const overCpu = s.cpuPercent > this.opts.cpuBudgetPercent;
    const overRss = rssMb > this.opts.rssBudgetMb;
    const before = this.factor;
    if (overCpu || overRss) {
      this.factor = Math.min(this.maxFactor, this.factor * 2);
      const parts: string[] = [];
      if (overCpu) parts.push(`CPU ${s.cpuPercent.toFixed(2)}% > budget ${this.opts.cpuBudgetPercent}%`);
      if (overRss) parts.push(`RSS ${rssMb.toFixed(0)} MB > budget ${this.opts.rssBudgetMb} MB`);
      this.reason = `${parts.join('; ')}: intervals x${this.factor}`;
    } else if (this.factor > 1 && s.cpuPercent < this.opts.cpuBudgetPercent / 2 && rssMb < this.opts.rssBudgetMb * 0.9) {
      this.factor = Math.max(1, this.factor / 2);
      this.reason = this.factor > 1 ? `recovering: intervals x${this.factor}` : null;
    }
    return { factor: this.factor, throttled: this.factor > 1, reason: this.reason, changed: this.factor !== before };
  }

  current(): { factor: number; throttled: boolean; reason: string | null } {
    return { factor: this.factor, throttled: this.factor > 1, reason: this.reason };
  }
}
