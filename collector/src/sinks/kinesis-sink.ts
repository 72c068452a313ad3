/**
 * Kinesis sink: PutRecords of the rows' records (kinesis-records.ts) to one stream.
 *
 * Contract:
 * - Records go out in row order, in calls of <= 500 records / 5 MiB; partition key = endpoint id.
 * - A partial failure (FailedRecordCount > 0) resends ONLY the failed records, with jittered
 *   backoff, until the per-send deadline; throttling (ProvisionedThroughputExceededException, whole
 *   call or per record) is retried the same way.
 * - A row is reported accepted only when every one of its records was accepted. When a call still
 *   fails at the deadline, its failed rows and every row after it are returned as `failedIds`
 *   (the drainer releases them), so an endpoint's later events do not overtake earlier ones on a
 *   whole-call failure. After a partial failure a resent record can land behind later records of
 *   the same endpoint: consumers order by (batchSeq, event id), which every record carries.
 * - The SDK's own retries are off (maxAttempts 1): retry lives in withRetry (retry.ts).
 */
import { KinesisClient, PutRecordsCommand, type PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import type { OutboxRow } from '../store/types.js';
import { awsClientConfig, type AwsClientOptions } from './aws-client-config.js';
import { classifyAwsError, isThrottle } from './aws-errors.js';
import { chunkRecords, renderKinesisRecords, type KinesisRecordSpec, type RenderOptions } from './kinesis-records.js';
import { withRetry, type RetryOptions } from './retry.js';
import { SinkErrors } from '../errors.js';
import { newCounters, once, type CountingSink, type SendResult } from './types.js';

/** The one call the sink makes (a KinesisClient satisfies it; tests pass a stub). */
export interface KinesisSender {
  send(command: PutRecordsCommand): Promise<PutRecordsCommandOutput>;
  destroy?(): void;
}

export interface KinesisSinkOptions {
  streamName: string;
  client: KinesisSender;
  ocsf?: boolean;
  /** How long one send() keeps retrying failed records before handing them back. */
  sendDeadlineMs?: number;
  retry?: Omit<RetryOptions, 'deadlineMs'>;
  maxRecordBytes?: number;
  onOversize?: RenderOptions['onOversize'];
}

/** A KinesisClient over HTTP/1.1 with the SDK's retries off (retry lives in retry.ts). */
export function createKinesisClient(o: AwsClientOptions): KinesisClient {
  return new KinesisClient(awsClientConfig(o));
}

export class KinesisSink implements CountingSink {
  readonly name = 'kinesis';
  readonly counters = newCounters();
  readonly shutdown: () => Promise<void>;

  constructor(private readonly opts: KinesisSinkOptions) {
    this.shutdown = once(async () => {
      await this.flush();
      opts.client.destroy?.();
    });
  }

  async flush(): Promise<void> {
    // Nothing is buffered: send() returns only after the service answered.
  }

  async send(rows: OutboxRow[]): Promise<SendResult> {
    const render: RenderOptions = { ocsf: this.opts.ocsf ?? false };
    if (this.opts.maxRecordBytes !== undefined) render.maxRecordBytes = this.opts.maxRecordBytes;
    if (this.opts.onOversize) render.onOversize = this.opts.onOversize;
    const records = rows.flatMap((r) => renderKinesisRecords(r, render, this.counters));
    const chunks = chunkRecords(records);
    const failedRows = new Set<string>();
    let lastFailure: Extract<SendResult, { ok: false }> | undefined;
    for (let i = 0; i < chunks.length; i++) {
      const res = await this.putWithRetry(chunks[i]!);
      if (res.failed.length === 0) continue;
      for (const r of res.failed) failedRows.add(r.rowId);
      lastFailure = res.result;
      // Keep per-endpoint order on a whole-call failure: later rows wait too.
      for (const later of chunks.slice(i + 1)) for (const r of later) failedRows.add(r.rowId);
      break;
    }
    if (failedRows.size === 0) return { ok: true };
    const f = lastFailure!;
    return { ...f, failedIds: rows.filter((r) => failedRows.has(r.id)).map((r) => r.id) };
  }

  /** One chunk: PutRecords, then only the failed records again, until ok or the deadline. */
  private async putWithRetry(chunk: KinesisRecordSpec[]): Promise<{ failed: KinesisRecordSpec[]; result?: Extract<SendResult, { ok: false }> }> {
    let pending = chunk;
    const result = await withRetry(async () => {
      let out: PutRecordsCommandOutput;
      try {
        out = await this.opts.client.send(
          new PutRecordsCommand({
            StreamName: this.opts.streamName,
            Records: pending.map((r) => ({ Data: r.data, PartitionKey: r.partitionKey })),
          }),
        );
      } catch (e) {
        const f = classifyAwsError(e, 'Kinesis PutRecords');
        if (isThrottle(e)) this.counters.throttled++;
        return f;
      }
      const results = out.Records ?? [];
      const failed: KinesisRecordSpec[] = [];
      let throttled = 0;
      let firstError = '';
      pending.forEach((rec, i) => {
        const r = results[i];
        if (r && !r.ErrorCode && r.SequenceNumber) return;
        failed.push(rec);
        if (r?.ErrorCode === 'ProvisionedThroughputExceededException') throttled++;
        firstError ||= `${r?.ErrorCode ?? 'MissingResult'}: ${r?.ErrorMessage ?? 'no result for this record'}`;
      });
      this.counters.sent += pending.length - failed.length;
      if (failed.length === 0) {
        pending = [];
        return { ok: true };
      }
      this.counters.partialFailures += failed.length;
      if (throttled > 0) this.counters.throttled++;
      pending = failed;
      return {
        ok: false,
        retryable: true,
        error: SinkErrors.partial(`Kinesis PutRecords: ${failed.length} of ${results.length || failed.length} records failed (${firstError})`),
      };
    }, { deadlineMs: this.opts.sendDeadlineMs ?? 20_000, ...this.opts.retry });
    if (result.ok) return { failed: [] };
    return { failed: pending, result };
  }
}
