/**
 * What goes to Kinesis for one outbox row: one record per event (or per OCSF rendering), partition
 * key = endpoint id so one endpoint's events stay in order on one shard. Used by the Kinesis sink
 * and by the file sink (which writes exactly these records).
 *
 * Findings: a snapshot record is the agent's event as sent, and its `findings` array is the
 * endpoint's inventory state, not a publication. A finding is raised or resolved on the stream
 * only by a finding.raised / finding.resolved record (the agent's, or the one the store derives
 * when a snapshot raises or resolves it), exactly as in Security Hub; in OCSF mode the snapshot
 * renders no Detection Finding.
 *
 * Size contract: a record (data + partition key) is at most 1 MiB. A larger inventory snapshot is
 * SPLIT into parts (its arrays spread over several records, each marked `part: {index, count}`);
 * any other record still too large is SUMMARISED (the event's data replaced by its size, sha256 and
 * reason; the full event stays in the collector's store). Both are counted, never silent.
 */
import { createHash } from 'node:crypto';
import type { McpEvent } from '@mcpwatch/shared';
import type { OutboxRow } from '../store/types.js';
import { chunkBy } from './batching.js';
import { toOcsf } from './ocsf.js';
import type { SinkCounters } from './types.js';

export const KINESIS_LIMITS = {
  recordsPerCall: 500,
  bytesPerCall: 5 * 1024 * 1024,
  bytesPerRecord: 1024 * 1024,
} as const;

export const RECORD_SCHEMA = 'mcpwatch.kinesis/v1';

export interface KinesisRecordSpec {
  rowId: string;
  partitionKey: string;
  data: Buffer;
}

export interface RenderOptions {
  ocsf: boolean;
  /** Override of the 1 MiB record limit (tests). */
  maxRecordBytes?: number;
  /** Told about every split or summarised record. */
  onOversize?: (info: { rowId: string; eventId: string; bytes: number; action: 'split' | 'summarised' }) => void;
}

function envelope(row: OutboxRow, event: unknown, extra?: Record<string, unknown>): Record<string, unknown> {
  return {
    schema: RECORD_SCHEMA,
    endpointId: row.endpointId,
    agentId: row.agentId,
    certFingerprint: row.certFingerprint,
    batchSeq: row.batchSeq,
    event,
    ...extra,
  };
}

const SNAPSHOT_ARRAYS = ['clients', 'servers', 'processes', 'sockets', 'findings', 'errors'] as const;

/** Spreads a snapshot's arrays over parts that each fit `limit` bytes; null when one item alone cannot fit. */
function splitSnapshot(row: OutboxRow, event: Extract<McpEvent, { type: 'inventory.snapshot' }>, limit: number): Buffer[] | null {
  const emptyData = () => ({ host: event.data.host, clients: [], servers: [], processes: [], sockets: [], findings: [], errors: [] }) as Record<string, unknown[] | unknown>;
  const frame = Buffer.byteLength(JSON.stringify(envelope(row, { ...event, data: emptyData() }, { part: { index: 99999, count: 99999 } }))) + Buffer.byteLength(row.endpointId);
  const budget = limit - frame;
  const parts: Array<Record<string, unknown>> = [];
  let cur = emptyData();
  let used = 0;
  for (const key of SNAPSHOT_ARRAYS) {
    for (const item of event.data[key] as unknown[]) {
      const size = Buffer.byteLength(JSON.stringify(item)) + 1;
      if (size > budget) return null;
      if (used + size > budget) {
        parts.push(cur);
        cur = emptyData();
        used = 0;
      }
      (cur[key] as unknown[]).push(item);
      used += size;
    }
  }
  parts.push(cur);
  return parts.map((data, index) =>
    Buffer.from(JSON.stringify(envelope(row, { ...event, data }, { part: { index, count: parts.length } }))),
  );
}

function summary(row: OutboxRow, full: Buffer, subject: unknown): Buffer {
  const e = row.event;
  return Buffer.from(
    JSON.stringify(
      envelope(row, { v: e.v, id: e.id, type: e.type, time: e.time, endpointId: e.endpointId, data: null }, {
        summary: {
          reason: 'record-too-large',
          originalBytes: full.length,
          sha256: createHash('sha256').update(full).digest('hex'),
          detail: subject,
        },
      }),
    ),
  );
}

/** Renders the Kinesis records of one outbox row, splitting or summarising what is too large. */
export function renderKinesisRecords(row: OutboxRow, opts: RenderOptions, counters: SinkCounters): KinesisRecordSpec[] {
  const limit = opts.maxRecordBytes ?? KINESIS_LIMITS.bytesPerRecord;
  const keyBytes = Buffer.byteLength(row.endpointId);
  const bodies: unknown[] = opts.ocsf ? toOcsf(row) : [envelope(row, row.event)];
  const out: KinesisRecordSpec[] = [];
  for (const body of bodies) {
    const data = Buffer.from(JSON.stringify(body));
    if (data.length + keyBytes <= limit) {
      out.push({ rowId: row.id, partitionKey: row.endpointId, data });
      continue;
    }
    const parts = !opts.ocsf && row.event.type === 'inventory.snapshot' ? splitSnapshot(row, row.event, limit) : null;
    if (parts) {
      counters.oversizeSplit++;
      opts.onOversize?.({ rowId: row.id, eventId: row.event.id, bytes: data.length, action: 'split' });
      for (const p of parts) out.push({ rowId: row.id, partitionKey: row.endpointId, data: p });
    } else {
      counters.oversizeSummarised++;
      opts.onOversize?.({ rowId: row.id, eventId: row.event.id, bytes: data.length, action: 'summarised' });
      const cls = (body as { class_uid?: number }).class_uid;
      out.push({ rowId: row.id, partitionKey: row.endpointId, data: summary(row, data, cls === undefined ? null : { ocsfClassUid: cls }) });
    }
  }
  return out;
}

/** Groups records into PutRecords calls of at most 500 records and 5 MiB, keeping their order. */
export function chunkRecords(records: KinesisRecordSpec[], maxRecords: number = KINESIS_LIMITS.recordsPerCall, maxBytes: number = KINESIS_LIMITS.bytesPerCall): KinesisRecordSpec[][] {
  return chunkBy(records, maxRecords, maxBytes, (r) => r.data.length + Buffer.byteLength(r.partitionKey));
}
