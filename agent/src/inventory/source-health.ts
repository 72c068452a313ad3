/**
 * Which process, socket and host-facts sources are failing, poll after poll.
 *
 * Contract:
 * - `observe()` takes one poll: the sources that poll asked (`polled`) and the error records it
 *   produced (paths `(processes)`, `(sockets)`, `(host)`, as scan.ts writes them). A polled source
 *   with an error continues (or starts) its run of failures; a polled source without one has
 *   recovered and is forgotten. A source the poll did not ask (sockets are read only when MCP
 *   processes exist) keeps its state: nothing was learned about it.
 * - `current()` is every source failing at its latest poll, for the heartbeat; `persistent()` those
 *   that failed at least `minPolls` consecutive polls AND for at least `minDurationMs` since the
 *   first failure of the run (the `source-unavailable` rule's input). Both are bounded
 *   (MAX_HEARTBEAT_SOURCE_ERRORS) and sorted by source; strings are cut to the schema's limits.
 * - Pure state, no I/O, never throws.
 */
import { MAX_HEARTBEAT_SOURCE_ERRORS, type ConfigError, type HeartbeatSourceError } from '@mcpwatch/shared';
import { byText } from '../normalize/text-order.js';

/** The sources tracked, by the error path scan.ts gives their failures. */
export const SOURCE_ERROR_PATHS: Readonly<Record<string, string>> = Object.freeze({ '(processes)': 'processes', '(sockets)': 'sockets', '(host)': 'host' });

/** A source failing for long enough to be a finding. */
export interface PersistentSourceFailure {
  source: string;
  code: string;
  reason: string;
  /** When the run of failures began. */
  since: string;
}

export interface SourceHealthOptions {
  /** Consecutive failed polls before a failure is persistent (at least 1). */
  minPolls: number;
  /** Time since the first failure of the run before it is persistent. */
  minDurationMs: number;
}

interface Run {
  code: string;
  reason: string;
  sinceMs: number;
  polls: number;
}

const CODE = /^(MCPW_ERR_[A-Z0-9_]+):\s*/;

/** The MCPW_ERR_* code at the head of a reason, and the reason without it. */
function splitCode(e: ConfigError): { code: string; reason: string } {
  const m = CODE.exec(e.reason);
  return m ? { code: (m[1] as string).slice(0, 64), reason: e.reason.slice(m[0].length).slice(0, 1024) } : { code: e.code.slice(0, 64) || 'collect-failed', reason: e.reason.slice(0, 1024) };
}

/** Tracks failing sources across polls (one per watch engine). */
export class SourceHealth {
  private readonly runs = new Map<string, Run>();
  private readonly minPolls: number;
  private readonly minDurationMs: number;

  constructor(o: SourceHealthOptions) {
    this.minPolls = Math.max(1, Math.floor(o.minPolls));
    this.minDurationMs = Math.max(0, o.minDurationMs);
  }

  /** Records one poll. `polled`: the sources it asked; `errors`: its error records (others are ignored). */
  observe(polled: Iterable<string>, errors: readonly ConfigError[], nowMs: number): void {
    const failed = new Map<string, { code: string; reason: string }>();
    for (const e of errors) {
      const source = SOURCE_ERROR_PATHS[e.path];
      if (source && !failed.has(source)) failed.set(source, splitCode(e));
    }
    for (const source of polled) {
      const failure = failed.get(source);
      if (!failure) {
        this.runs.delete(source);
        continue;
      }
      const run = this.runs.get(source);
      if (run) {
        run.polls += 1;
        run.code = failure.code;
        run.reason = failure.reason;
      } else if (this.runs.size < MAX_HEARTBEAT_SOURCE_ERRORS) {
        this.runs.set(source, { ...failure, sinceMs: nowMs, polls: 1 });
      }
    }
  }

  /** Every source failing at its latest poll (the heartbeat's sourceErrors). */
  current(): HeartbeatSourceError[] {
    return this.sorted().map(([source, r]) => ({ source, code: r.code, reason: r.reason, since: new Date(r.sinceMs).toISOString() }));
  }

  /** Sources failing for at least minPolls polls and minDurationMs at `nowMs`. */
  persistent(nowMs: number): PersistentSourceFailure[] {
    return this.sorted()
      .filter(([, r]) => r.polls >= this.minPolls && nowMs - r.sinceMs >= this.minDurationMs)
      .map(([source, r]) => ({ source, code: r.code, reason: r.reason, since: new Date(r.sinceMs).toISOString() }));
  }

  private sorted(): [string, Run][] {
    return [...this.runs.entries()].sort(([a], [b]) => byText(a, b));
  }
}
