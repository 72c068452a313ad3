/**
 * Cuts the next batch from the spool: up to maxEvents events / maxBytes bytes, in spool order,
 * under the given seq and prevHash. The JSON body is built by concatenating the spooled records
 * (CRC-checked JSON this agent wrote), not by parsing and re-encoding them; a record naming
 * another endpoint id (spooled before a re-enrollment) gets this identity's id spliced in place.
 * The result is what `inflight.json` holds, so after a crash the same bytes go out again.
 */
import type { Spool, SpoolPosition } from '../spool/spool.js';

/** A batch on its way: written durably before its first byte is sent. */
export interface PendingBatch {
  agentId: string;
  seq: number;
  prevHash: string;
  /** Spool position just past the batch's last event (released on ack). */
  end: SpoolPosition;
  count: number;
  /** The uncompressed JSON body, exactly as sent. */
  body: string;
}

export interface BatchHeader {
  agentId: string;
  endpointId: string | undefined;
  seq: number;
  prevHash: string;
  sentAt: string;
}

/** The next batch, or null when the spool holds none (a corrupted tail is skipped). */
export function buildBatch(spool: Pick<Spool, 'read' | 'ack'>, header: BatchHeader, maxEvents: number, maxBytes: number): PendingBatch | null {
  const read = spool.read(maxEvents, maxBytes);
  if (read.records.length === 0) {
    spool.ack(read.end); // skip a corrupted tail, if any
    return null;
  }
  const { agentId, endpointId, seq, prevHash, sentAt } = header;
  const head = JSON.stringify({ agentId, seq, prevHash, sentAt });
  const marker = endpointId === undefined ? null : `"endpointId":${JSON.stringify(endpointId)}`;
  const events = read.records.map((r) => {
    const text = r.toString('utf8');
    return marker === null || text.includes(marker) ? text : withEndpointId(text, endpointId as string);
  });
  const body = `${head.slice(0, -1)},"events":[${events.join(',')}]}`;
  return { agentId, seq, prevHash, end: read.end, count: read.records.length, body };
}

/**
 * A spooled event with its envelope's endpointId set to `endpointId` (events spooled before
 * enrollment, or before a re-enrollment gave a new endpoint id), spliced in place: the record is
 * not parsed and re-encoded. The envelope is written by makeEvent with `endpointId` before `data`,
 * and a quote inside any string value is escaped, so the first `"endpointId":"` is the envelope's.
 * A record without one (cannot happen for events this agent wrote) is sent as it is.
 */
export function withEndpointId(text: string, endpointId: string): string {
  const key = '"endpointId":"';
  const at = text.indexOf(key);
  if (at < 0) return text;
  let end = at + key.length;
  while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
  return `${text.slice(0, at)}"endpointId":${JSON.stringify(endpointId)}${text.slice(end + 1)}`;
}
