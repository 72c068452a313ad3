/**
 * Security Hub sink: mcpwatch findings as ASFF through BatchImportFindings.
 *
 * Contract:
 * - Rows of `finding.raised` / `finding.resolved` become one ASFF finding each (resolved =
 *   RecordState ARCHIVED): the agent's events and those the store derives when a snapshot raises
 *   or resolves a finding (store/projection.ts), the one path of findings to every sink (see
 *   store/sink-routing.ts); a `collector.seq_gap` / `collector.chain_broken` row becomes one
 *   finding about the endpoint (MEDIUM / HIGH, Id stable per endpoint + kind + seq, see asff.ts).
 *   Other rows, `inventory.snapshot` included (its findings arrive as those derived events), have
 *   nothing to publish here: they count as `skipped` and are accepted.
 * - Within one send, findings with the same Id collapse to the latest state; a retried row whose
 *   state is older than one already sent is skipped (FirstSeenMemory), so a retry never reopens a
 *   resolved finding. CreatedAt is the first raise, UpdatedAt rises.
 * - Calls carry <= 100 findings and <= 6 MB; each finding <= 240 KB. A client-side token bucket
 *   keeps to 10 calls/s with bursts of 30.
 * - FailedFindings are retried (with backoff, until the send deadline) when the error can pass
 *   (throttling, internal); others are reported through `onRejected` and their rows handed back as
 *   failed with retryable=false — never dropped.
 */
import {
  BatchImportFindingsCommand,
  SecurityHubClient,
  type AwsSecurityFinding,
  type BatchImportFindingsCommandOutput,
} from '@aws-sdk/client-securityhub';
import type { Finding } from '@mcpwatch/shared';
import type { OutboxRow } from '../store/types.js';
import { awsClientConfig, type AwsClientOptions } from './aws-client-config.js';
import { chunkBy } from './batching.js';
import { ASFF_LIMITS, asffId, collectorAsffId, collectorEventAsff, measureAsff, toAsff, type AsffFinding } from './asff.js';
import { classifyAwsError, isThrottle } from './aws-errors.js';
import { isCollectorEvent } from './collector-findings.js';
import { FirstSeenMemory } from './first-seen-memory.js';
import { TokenBucket } from './rate-limiter.js';
import { withRetry, type RetryOptions } from './retry.js';
import { SinkErrors } from '../errors.js';
import { newCounters, once, type CountingSink, type SendResult, type SinkCounters } from './types.js';

/** The one call the sink makes (a SecurityHubClient satisfies it; tests pass a stub). */
export interface SecurityHubSender {
  send(command: BatchImportFindingsCommand): Promise<BatchImportFindingsCommandOutput>;
  destroy?(): void;
}

/** Looks up the host name of an endpoint (the store's agent row); null when unknown. */
export type HostLookup = (row: OutboxRow) => Promise<string | null>;

export interface RenderedFinding {
  asff: AsffFinding;
  rowIds: string[];
}

/** One finding a row carries: its ASFF Id, and its ASFF once the times are known. */
interface RowFinding {
  id: string;
  generatorId: string;
  render: (times: { createdAt: string; updatedAt: string }) => AsffFinding;
}

export interface FindingRendererOptions {
  accountId: string;
  region: string;
  memory: FirstSeenMemory;
  hostOf?: HostLookup;
}

/** Turns outbox rows into ASFF findings (shared by the Security Hub sink and the file sink). */
export class FindingRenderer {
  constructor(private readonly opts: FindingRendererOptions) {
    if (!/^\d{12}$/.test(opts.accountId)) throw SinkErrors.config(`AWS account id must be 12 digits, got "${opts.accountId}" (set MCPWATCH_AWS_ACCOUNT_ID)`);
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(opts.region)) throw SinkErrors.config(`AWS region "${opts.region}" is not valid (set AWS_REGION)`);
  }

  /** Renders rows in order; `rowIds` of a finding are every row whose state it carries. */
  async render(rows: OutboxRow[], counters: SinkCounters): Promise<RenderedFinding[]> {
    const byId = new Map<string, RenderedFinding>();
    const hosts = new Map<string, string | null>();
    const hostOf = async (row: OutboxRow): Promise<string | null> => {
      if (!this.opts.hostOf) return null;
      if (!hosts.has(row.agentId)) hosts.set(row.agentId, await this.opts.hostOf(row).catch(() => null));
      return hosts.get(row.agentId) ?? null;
    };
    for (const row of rows) {
      const e = row.event;
      const where = { accountId: this.opts.accountId, region: this.opts.region, endpointId: row.endpointId, agentId: row.agentId, eventId: e.id };
      const fromFinding = (f: Finding, resolved: boolean, host: string | null, user: string | null): RowFinding => ({
        id: asffId(row.endpointId, f),
        generatorId: f.ruleId,
        render: (times) => toAsff(f, { ...where, ...times, host, user, resolved }),
      });
      let items: RowFinding[];
      if (e.type === 'finding.raised' || e.type === 'finding.resolved') {
        items = [fromFinding(e.data, e.type === 'finding.resolved', await hostOf(row), null)];
      } else if (isCollectorEvent(e)) {
        const host = await hostOf(row);
        items = [{ id: collectorAsffId(row.endpointId, e), generatorId: e.type, render: (times) => collectorEventAsff(e, { ...where, ...times, host }) }];
      } else {
        items = [];
      }
      if (items.length === 0) counters.skipped++;
      for (const it of items) {
        const id = it.id;
        const times = this.opts.memory.stamp(id, e.time);
        const prev = byId.get(id);
        if (!times) {
          counters.skipped++;
          continue;
        }
        const asff = it.render(times);
        if (measureAsff(asff) > ASFF_LIMITS.bytesPerFinding) {
          counters.oversizeSummarised++;
          asff.Resources[0]!.Details.Other = {};
          asff.ProductFields = { 'mcpwatch/ruleId': it.generatorId, 'mcpwatch/summarised': 'finding over 240 KB' };
        }
        byId.delete(id); // re-insert so the map's order is the order of the latest state
        byId.set(id, { asff, rowIds: prev ? [...new Set([...prev.rowIds, row.id])] : [row.id] });
      }
    }
    return [...byId.values()];
  }
}

/** Groups findings into calls of <= 100 findings and <= 6 MB (1 KB kept for the request frame). */
export function chunkFindings(findings: RenderedFinding[]): RenderedFinding[][] {
  return chunkBy(findings, ASFF_LIMITS.findingsPerCall, ASFF_LIMITS.bytesPerCall - 1024, (f) => measureAsff(f.asff) + 1);
}

/** A SecurityHubClient over HTTP/1.1 with the SDK's retries off (retry lives in retry.ts). */
export function createSecurityHubClient(o: AwsClientOptions): SecurityHubClient {
  return new SecurityHubClient(awsClientConfig(o));
}

export interface SecurityHubSinkOptions extends FindingRendererOptions {
  client: SecurityHubSender;
  limiter?: TokenBucket;
  sendDeadlineMs?: number;
  retry?: Omit<RetryOptions, 'deadlineMs'>;
  /** Told about every finding Security Hub refused for a reason a retry cannot fix. */
  onRejected?: (info: { id: string; errorCode: string; errorMessage: string; rowIds: string[] }) => void;
}

const RETRYABLE_FINDING_ERROR = /internal|throttl|limit|unavailable|timeout/i;

export class SecurityHubSink implements CountingSink {
  readonly name = 'securityhub';
  readonly counters = newCounters();
  readonly shutdown: () => Promise<void>;
  readonly limiter: TokenBucket;
  private readonly renderer: FindingRenderer;

  constructor(private readonly opts: SecurityHubSinkOptions) {
    this.renderer = new FindingRenderer(opts);
    this.limiter = opts.limiter ?? new TokenBucket({ ratePerS: 10, burst: 30 });
    this.shutdown = once(async () => {
      await this.flush();
      opts.client.destroy?.();
    });
  }

  async flush(): Promise<void> {
    await this.opts.memory.save();
  }

  async send(rows: OutboxRow[]): Promise<SendResult> {
    const findings = await this.renderer.render(rows, this.counters);
    const failedRows = new Set<string>();
    let failure: Extract<SendResult, { ok: false }> | undefined;
    let anyRejected = false;
    for (const chunk of chunkFindings(findings)) {
      const res = await this.importWithRetry(chunk);
      for (const f of [...res.retryable, ...res.rejected]) for (const id of f.rowIds) failedRows.add(id);
      if (res.rejected.length > 0) anyRejected = true;
      if (res.result) failure ??= res.result;
    }
    await this.opts.memory.save().catch(() => undefined);
    if (failedRows.size === 0) return { ok: true };
    const base = failure ?? { ok: false as const, retryable: !anyRejected, error: SinkErrors.rejected('Security Hub refused some findings') };
    return { ...base, retryable: base.retryable && !anyRejected, failedIds: rows.filter((r) => failedRows.has(r.id)).map((r) => r.id) };
  }

  private async importWithRetry(chunk: RenderedFinding[]): Promise<{ retryable: RenderedFinding[]; rejected: RenderedFinding[]; result?: Extract<SendResult, { ok: false }> }> {
    let pending = chunk;
    const rejected: RenderedFinding[] = [];
    const result = await withRetry(async () => {
      await this.limiter.acquire();
      let out: BatchImportFindingsCommandOutput;
      try {
        out = await this.opts.client.send(new BatchImportFindingsCommand({ Findings: pending.map((f) => f.asff as AwsSecurityFinding) }));
      } catch (e) {
        if (isThrottle(e)) this.counters.throttled++;
        const f = classifyAwsError(e, 'Security Hub BatchImportFindings');
        if (!f.retryable) {
          for (const r of pending) this.opts.onRejected?.({ id: r.asff.Id, errorCode: f.error.message, errorMessage: (e as Error).message ?? '', rowIds: r.rowIds });
          rejected.push(...pending);
          pending = [];
        }
        return f;
      }
      const failed = new Map((out.FailedFindings ?? []).map((f) => [f.Id ?? '', f]));
      const again: RenderedFinding[] = [];
      for (const f of pending) {
        const err = failed.get(f.asff.Id);
        if (!err) {
          this.counters.sent++;
          continue;
        }
        this.counters.partialFailures++;
        const code = err.ErrorCode ?? 'Unknown';
        if (RETRYABLE_FINDING_ERROR.test(code)) {
          again.push(f);
        } else {
          rejected.push(f);
          this.opts.onRejected?.({ id: f.asff.Id, errorCode: code, errorMessage: err.ErrorMessage ?? '', rowIds: f.rowIds });
        }
      }
      pending = again;
      if (again.length === 0) return { ok: true };
      return { ok: false, retryable: true, error: SinkErrors.partial(`Security Hub: ${again.length} findings failed with a retryable error`) };
    }, { deadlineMs: this.opts.sendDeadlineMs ?? 20_000, ...this.opts.retry });
    return { retryable: pending, rejected, ...(result.ok ? {} : { result }) };
  }
}
