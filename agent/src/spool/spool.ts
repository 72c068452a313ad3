/**
 * The agent's durable, bounded, append-only spool (DESIGN.md "Write before you send").
 *
 * On disk: a directory of segment files `seg-<10 digit index>.spool` and `cursor.json`, the
 * durable position of everything acknowledged by the collector. Each record is framed as
 *
 *   magic 0xFF 0xFE 'M' 'W' | u32 LE payload length | u32 LE CRC-32 of the payload | payload
 *
 * (0xFF never occurs in UTF-8, so the magic cannot hide inside a JSON payload.)
 *
 * Promises:
 * - append() returns only after the record is written (and fsync'ed with fsync policy 'always';
 *   within fsyncIntervalMs with 'interval'; at the OS's leisure with 'never').
 * - Records are read back in append order; ack(position) makes the acknowledged prefix durable
 *   and deletes segments that are wholly acknowledged.
 * - Bounded: the segment files never exceed maxBytes by more than one record. At the limit the
 *   oldest segment(s) are deleted, acknowledged or not; the records lost are counted and reported
 *   once through onDrop (the pipeline turns that into an `agent.dropped` event).
 * - Recovery on open: a torn tail (a frame cut short by kill -9 or power loss, or trailing garbage)
 *   is detected by length/CRC and cut off with ftruncate, never parsed. A corrupted record with
 *   valid records after it is skipped (resynchronised on the next magic + valid CRC) and counted;
 *   the records around it stay intact.
 * - Synchronous file I/O on purpose: records are small, the agent is one event loop, and a
 *   synchronous append cannot interleave with another append.
 *
 * Failure modes: I/O errors surface as PipelineError MCPW_ERR_SPOOL_IO from append/ack/open;
 * a failed append is rolled back (the segment truncated to its previous length).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeFrame, HEADER_BYTES, scanBuffer } from './frame.js';
import { ensurePrivateDir, fsyncDir, readJsonFile, writeFileDurable } from './durable-file.js';
import { AgentCodes, PipelineError } from '../errors.js';

export { encodeFrame, HEADER_BYTES, scanBuffer, type SegmentScan } from './frame.js';

export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface SpoolOptions {
  dir: string;
  /** Upper bound on all segment files together. Default 100 MiB. */
  maxBytes?: number;
  /** Roll to a new segment past this size. Default min(4 MiB, maxBytes / 4). */
  segmentBytes?: number;
  fsync?: FsyncPolicy;
  fsyncIntervalMs?: number;
  /** Records larger than this are refused. Default 16 MiB. */
  maxRecordBytes?: number;
  /** Called (synchronously, after the append that caused it) when records were dropped. */
  onDrop?: (info: SpoolDropInfo) => void;
  /** Dropped records whose payload contains these bytes are handed to onDrop (see SpoolDropInfo). */
  carryMarker?: string;
}

export interface SpoolDropInfo {
  records: number;
  bytes: number;
  segments: number;
  /**
   * Payloads among the dropped records that contain `carryMarker` (the agent's own drop reports),
   * so a report that is itself dropped can be carried into the next one. Empty without a marker.
   */
  carried: Buffer[];
}

/** A position in the spool: a segment index and a byte offset in it. */
export interface SpoolPosition {
  segment: number;
  offset: number;
}

export interface SpoolRead {
  records: Buffer[];
  /** Position just after the last record returned; pass to ack() once they are delivered. */
  end: SpoolPosition;
  bytes: number;
}

export interface SpoolStats {
  /** Records appended and not yet acknowledged. */
  depth: number;
  /** Bytes of those records (payload + framing). */
  pendingBytes: number;
  /** Bytes of all segment files on disk. */
  diskBytes: number;
  segments: number;
  droppedRecords: number;
  droppedBytes: number;
  corruptedRecords: number;
  tornTails: number;
}

const SEGMENT_RE = /^seg-(\d{10})\.spool$/;
const MiB = 1024 * 1024;

interface Segment {
  index: number;
  file: string;
  bytes: number;
  /** Valid records in the file. */
  records: number;
}

function segmentName(index: number): string {
  return `seg-${String(index).padStart(10, '0')}.spool`;
}

function io(what: string, e: unknown): PipelineError {
  return new PipelineError(AgentCodes.spoolIo, `spool: ${what}: ${(e as Error).message}`, { cause: e });
}

/** See the module comment. Create with `Spool.open()`. */
export class Spool {
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly fsyncPolicy: FsyncPolicy;
  private readonly maxRecordBytes: number;
  private readonly onDrop: ((info: SpoolDropInfo) => void) | undefined;
  private readonly carryMarker: Buffer | null;
  private segments: Segment[] = [];
  private cursor: SpoolPosition = { segment: 1, offset: 0 };
  /** Valid records in the cursor's segment that lie before the cursor. */
  private recordsBeforeCursor = 0;
  private bytesBeforeCursor = 0;
  private fd: number | null = null;
  private dirty = false;
  private fsyncTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private reportingDrop = false;
  private reserved: SpoolPosition | null = null;
  private pendingDrop: SpoolDropInfo = { records: 0, bytes: 0, segments: 0, carried: [] };
  private readonly counters = { droppedRecords: 0, droppedBytes: 0, corruptedRecords: 0, tornTails: 0 };

  private constructor(opts: SpoolOptions) {
    this.dir = opts.dir;
    this.maxBytes = Math.max(opts.maxBytes ?? 100 * MiB, 4096);
    this.segmentBytes = Math.max(1024, opts.segmentBytes ?? Math.min(4 * MiB, Math.floor(this.maxBytes / 4)));
    this.fsyncPolicy = opts.fsync ?? 'interval';
    this.maxRecordBytes = opts.maxRecordBytes ?? 16 * MiB;
    this.onDrop = opts.onDrop;
    this.carryMarker = opts.carryMarker ? Buffer.from(opts.carryMarker, 'utf8') : null;
    if (this.fsyncPolicy === 'interval') {
      this.fsyncTimer = setInterval(() => this.sync(), Math.max(10, opts.fsyncIntervalMs ?? 1000));
      this.fsyncTimer.unref();
    }
  }

  /** Opens (creating if needed) and recovers the spool in `opts.dir`. Throws MCPW_ERR_SPOOL_IO. */
  static open(opts: SpoolOptions): Spool {
    const spool = new Spool(opts);
    try {
      spool.recover();
    } catch (e) {
      spool.close();
      throw e instanceof PipelineError ? e : io('open', e);
    }
    return spool;
  }

  private recover(): void {
    ensurePrivateDir(this.dir);
    const indexes = fs
      .readdirSync(this.dir)
      .map((n) => SEGMENT_RE.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    let cursor: SpoolPosition | null = null;
    try {
      const c = readJsonFile<SpoolPosition>(this.cursorFile());
      if (c && Number.isInteger(c.segment) && Number.isInteger(c.offset) && c.segment >= 0 && c.offset >= 0) cursor = c;
    } catch {
      cursor = null; // unreadable cursor: replay from the oldest segment (the collector dedups by seq)
    }
    for (const index of indexes) {
      const file = path.join(this.dir, segmentName(index));
      if (cursor && index < cursor.segment) {
        fs.rmSync(file, { force: true }); // wholly acknowledged before the crash
        continue;
      }
      const buf = fs.readFileSync(file);
      const scan = scanBuffer(buf, 0, this.maxRecordBytes);
      this.counters.corruptedRecords += scan.corrupted;
      let bytes = buf.length;
      if (scan.tornAt !== null) {
        fs.truncateSync(file, scan.tornAt);
        bytes = scan.tornAt;
        this.counters.tornTails++;
      }
      this.segments.push({ index, file, bytes, records: scan.frames.length });
      if (cursor && index === cursor.segment) {
        const off = Math.min(cursor.offset, bytes);
        const before = scan.frames.filter((f) => f.offset < off);
        this.recordsBeforeCursor = before.length;
        this.bytesBeforeCursor = off;
        cursor = { segment: index, offset: off };
      }
    }
    const first = this.segments[0];
    if (!first) {
      const index = cursor ? Math.max(cursor.segment, 1) : 1;
      this.cursor = { segment: index, offset: 0 };
      this.createSegment(index);
    } else if (!cursor || cursor.segment < first.index || cursor.segment > this.lastSegment().index) {
      this.cursor = { segment: first.index, offset: 0 };
      this.recordsBeforeCursor = 0;
      this.bytesBeforeCursor = 0;
    } else {
      this.cursor = cursor;
    }
    this.openActive();
    this.writeCursor();
  }

  private cursorFile(): string {
    return path.join(this.dir, 'cursor.json');
  }

  private lastSegment(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  private createSegment(index: number): void {
    const file = path.join(this.dir, segmentName(index));
    fs.closeSync(fs.openSync(file, 'a', 0o600));
    fsyncDir(this.dir);
    this.segments.push({ index, file, bytes: 0, records: 0 });
  }

  private openActive(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = fs.openSync(this.lastSegment().file, 'a', 0o600);
  }

  private writeCursor(): void {
    writeFileDurable(this.cursorFile(), JSON.stringify(this.cursor));
  }

  /**
   * Appends one record. Throws MCPW_ERR_SPOOL_RECORD_TOO_LARGE (nothing written) or
   * MCPW_ERR_SPOOL_IO (the partial write rolled back).
   */
  append(payload: Uint8Array): void {
    if (this.closed || this.fd === null) throw new PipelineError(AgentCodes.spoolClosed, 'spool is closed');
    if (payload.length > this.maxRecordBytes) {
      throw new PipelineError(
        AgentCodes.spoolRecordTooLarge,
        `record of ${payload.length} bytes exceeds the spool's maxRecordBytes ${this.maxRecordBytes}`,
      );
    }
    const frame = encodeFrame(payload);
    const dropped = this.makeRoom(frame.length);
    const seg = this.lastSegment();
    try {
      fs.writeSync(this.fd, frame);
      if (this.fsyncPolicy === 'always') fs.fsyncSync(this.fd);
      else this.dirty = true;
    } catch (e) {
      try {
        fs.ftruncateSync(this.fd, seg.bytes);
      } catch {
        // the torn tail is cut on the next open
      }
      throw io('append', e);
    }
    seg.bytes += frame.length;
    seg.records++;
    if (seg.bytes >= this.segmentBytes) this.roll();
    if (dropped.records > 0 || dropped.segments > 0) this.reportDrop(dropped);
  }

  private roll(): void {
    if (this.fd !== null) {
      try {
        fs.fsyncSync(this.fd);
      } catch (e) {
        throw io('fsync', e);
      }
    }
    this.dirty = false;
    this.createSegment(this.lastSegment().index + 1);
    this.openActive();
  }

  /** Deletes the oldest segments until `incoming` more bytes fit under maxBytes. */
  private makeRoom(incoming: number): SpoolDropInfo {
    const info: SpoolDropInfo = { records: 0, bytes: 0, segments: 0, carried: [] };
    while (this.diskBytes() + incoming > this.maxBytes) {
      if (this.segments.length === 1) {
        if (this.lastSegment().bytes === 0) break; // a single record larger than the bound: allowed
        this.roll();
      }
      const oldest = this.segments.shift()!;
      const isCursorSeg = oldest.index === this.cursor.segment;
      let lostRecords = isCursorSeg ? oldest.records - this.recordsBeforeCursor : this.cursor.segment > oldest.index ? 0 : oldest.records;
      let lostBytes = isCursorSeg ? oldest.bytes - this.bytesBeforeCursor : this.cursor.segment > oldest.index ? 0 : oldest.bytes;
      let lostFrom = isCursorSeg ? this.bytesBeforeCursor : 0;
      const r = this.reserved;
      if (r && r.segment > oldest.index) {
        lostRecords = 0; // all of it was handed to the shipper (a batch in flight): not lost
        lostBytes = 0;
      } else if (r && r.segment === oldest.index && r.offset > lostFrom) {
        const kept = this.countFrom(oldest, r.offset);
        lostRecords = kept.records;
        lostBytes = kept.bytes;
        lostFrom = r.offset;
      }
      if (this.carryMarker && lostRecords > 0) info.carried.push(...this.carriedIn(oldest, lostFrom));
      fs.rmSync(oldest.file, { force: true });
      info.records += lostRecords;
      info.bytes += lostBytes;
      info.segments++;
      if (this.cursor.segment <= oldest.index) {
        this.cursor = { segment: this.segments[0]!.index, offset: 0 };
        this.recordsBeforeCursor = 0;
        this.bytesBeforeCursor = 0;
      }
    }
    if (info.segments > 0) {
      this.counters.droppedRecords += info.records;
      this.counters.droppedBytes += info.bytes;
      fsyncDir(this.dir);
      this.writeCursor();
    }
    return info;
  }

  /**
   * Marks everything before `end` as handed off (a batch persisted by the shipper and in flight):
   * if the spool must drop it before the ack, it is not counted as lost. null clears the mark.
   */
  reserve(end: SpoolPosition | null): void {
    this.reserved = end ? { ...end } : null;
  }

  /** Valid records (and their framed bytes) of a segment from `offset` on. */
  private countFrom(seg: Segment, offset: number): { records: number; bytes: number } {
    try {
      const buf = fs.readFileSync(seg.file);
      const frames = scanBuffer(buf, Math.min(offset, buf.length), this.maxRecordBytes).frames;
      return { records: frames.length, bytes: frames.reduce((n, f) => n + HEADER_BYTES + f.length, 0) };
    } catch {
      return { records: seg.records, bytes: seg.bytes };
    }
  }

  /** Payloads holding the carry marker in a segment about to be dropped, from `from` on. */
  private carriedIn(seg: Segment, from: number): Buffer[] {
    try {
      const buf = fs.readFileSync(seg.file);
      if (!this.carryMarker || buf.indexOf(this.carryMarker, from) === -1) return [];
      return scanBuffer(buf, from, this.maxRecordBytes)
        .frames.filter((f) => f.payload.includes(this.carryMarker!))
        .map((f) => Buffer.from(f.payload));
    } catch {
      return []; // unreadable: its reports are lost with it, and counted as records
    }
  }

  /**
   * Reports drops through onDrop. The callback usually appends (an agent.dropped event), which can
   * drop again: those drops are queued and reported after it returns, so none goes unreported.
   */
  private reportDrop(info: SpoolDropInfo): void {
    if (!this.onDrop) return;
    const q = this.pendingDrop;
    q.records += info.records;
    q.bytes += info.bytes;
    q.segments += info.segments;
    q.carried.push(...info.carried);
    if (this.reportingDrop) return;
    this.reportingDrop = true;
    try {
      while (this.pendingDrop.segments > 0) {
        const next = this.pendingDrop;
        this.pendingDrop = { records: 0, bytes: 0, segments: 0, carried: [] };
        this.onDrop(next);
      }
    } finally {
      this.reportingDrop = false;
    }
  }

  /**
   * Reads up to `maxRecords` records / about `maxBytes` payload bytes from the acknowledged
   * cursor on (at least one record when any is pending). Does not move the cursor.
   */
  read(maxRecords: number, maxBytes: number): SpoolRead {
    const records: Buffer[] = [];
    let bytes = 0;
    let end: SpoolPosition = { ...this.cursor };
    for (const seg of this.segments) {
      if (seg.index < this.cursor.segment) continue;
      const from = seg.index === this.cursor.segment ? this.cursor.offset : 0;
      if (from >= seg.bytes) {
        end = { segment: seg.index, offset: seg.bytes };
        continue;
      }
      const want = Math.min(seg.bytes - from, Math.max(maxBytes, 0) + HEADER_BYTES * Math.max(maxRecords, 1));
      let buf = this.readRange(seg, from, want);
      let scan = scanBuffer(buf, 0, this.maxRecordBytes);
      if (scan.frames.length === 0 && from + buf.length < seg.bytes) {
        // the next record is larger than the window, or the window starts in a corrupted region
        buf = this.readRange(seg, from, seg.bytes - from);
        scan = scanBuffer(buf, 0, this.maxRecordBytes);
      }
      let stop = false;
      let consumed = 0;
      for (const f of scan.frames) {
        if (records.length >= maxRecords || (records.length > 0 && bytes + f.length > maxBytes)) {
          stop = true;
          break;
        }
        records.push(Buffer.from(f.payload));
        bytes += f.length;
        consumed = f.offset + HEADER_BYTES + f.length;
      }
      if (!stop && from + buf.length >= seg.bytes) consumed = buf.length; // skip a corrupted tail of a sealed segment
      end = { segment: seg.index, offset: from + consumed };
      if (stop || from + consumed < seg.bytes) break;
    }
    return { records, end, bytes };
  }

  private readRange(seg: Segment, from: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(length);
    let fd: number | undefined;
    try {
      fd = fs.openSync(seg.file, 'r');
      const n = fs.readSync(fd, buf, 0, length, from);
      return buf.subarray(0, n);
    } catch (e) {
      throw io('read', e);
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }

  /**
   * Marks everything before `end` as delivered (durably) and deletes wholly delivered segments.
   * A position at or before the cursor (e.g. after a drop moved it on) is ignored.
   */
  ack(end: SpoolPosition): void {
    if (this.closed) throw new PipelineError(AgentCodes.spoolClosed, 'spool is closed');
    const c = this.cursor;
    if (end.segment < c.segment || (end.segment === c.segment && end.offset <= c.offset)) return;
    const target = this.segments.find((s) => s.index === end.segment);
    if (!target) return;
    const offset = Math.min(end.offset, target.bytes);
    const from = end.segment === c.segment ? c.offset : 0;
    const counted = scanBuffer(this.readRange(target, from, offset - from), 0, this.maxRecordBytes).frames.length;
    this.recordsBeforeCursor = (end.segment === c.segment ? this.recordsBeforeCursor : 0) + counted;
    this.bytesBeforeCursor = offset;
    this.cursor = { segment: end.segment, offset };
    this.writeCursor();
    let removed = false;
    while (this.segments.length > 1 && this.segments[0]!.index < end.segment) {
      fs.rmSync(this.segments.shift()!.file, { force: true });
      removed = true;
    }
    if (removed) fsyncDir(this.dir);
  }

  private diskBytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.bytes;
    return n;
  }

  /** Current counts; cheap (no I/O). */
  stats(): SpoolStats {
    let depth = 0;
    let pendingBytes = 0;
    for (const s of this.segments) {
      if (s.index < this.cursor.segment) continue;
      if (s.index === this.cursor.segment) {
        depth += s.records - this.recordsBeforeCursor;
        pendingBytes += s.bytes - this.bytesBeforeCursor;
      } else {
        depth += s.records;
        pendingBytes += s.bytes;
      }
    }
    return { depth, pendingBytes, diskBytes: this.diskBytes(), segments: this.segments.length, ...this.counters };
  }

  /** fsync the active segment if anything was written since the last sync. Never throws. */
  sync(): void {
    if (!this.dirty || this.fd === null) return;
    try {
      fs.fsyncSync(this.fd);
      this.dirty = false;
    } catch {
      // retried on the next tick; a lost tail is cut on the next open
    }
  }

  /** Syncs and closes. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fsyncTimer) clearInterval(this.fsyncTimer);
    this.sync();
    if (this.fd !== null) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // already closed
      }
      this.fd = null;
    }
  }
}

/**
 * Read-only look at a spool directory (for `status` while an agent may be running): counts the
 * records after the durable cursor. Never modifies anything; a torn tail is simply not counted.
 */
export function inspectSpool(dir: string, maxRecordBytes = 16 * MiB): { depth: number; pendingBytes: number; diskBytes: number; segments: number } | null {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => SEGMENT_RE.test(n)).sort();
  } catch {
    return null;
  }
  let cursor: SpoolPosition = { segment: 0, offset: 0 };
  try {
    cursor = readJsonFile<SpoolPosition>(path.join(dir, 'cursor.json')) ?? cursor;
  } catch {
    // unreadable cursor: count everything
  }
  let depth = 0;
  let pendingBytes = 0;
  let diskBytes = 0;
  for (const name of names) {
    const index = Number(SEGMENT_RE.exec(name)![1]);
    let buf: Buffer;
    try {
      buf = fs.readFileSync(path.join(dir, name));
    } catch {
      continue;
    }
    diskBytes += buf.length;
    if (index < cursor.segment) continue;
    const from = index === cursor.segment ? Math.min(cursor.offset, buf.length) : 0;
    const scan = scanBuffer(buf, from, maxRecordBytes);
    depth += scan.frames.length;
    pendingBytes += (scan.tornAt ?? buf.length) - from;
  }
  return { depth, pendingBytes, diskBytes, segments: names.length };
}
