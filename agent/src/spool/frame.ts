/**
 * The record framing of the spool, and of every other append-only file of the agent that must
 * survive a torn write (the hook journal): one codec, one scanner.
 *
 *   magic 0xFF 0xFE 'M' 'W' | u32 LE payload length | u32 LE CRC-32 of the payload | payload
 *
 * (0xFF never occurs in UTF-8, so the magic cannot hide inside a JSON payload.) scanBuffer() never
 * parses a frame whose length or CRC does not check out: it resynchronises on the next magic that
 * starts a valid frame and counts the corrupted region; trailing bytes that are not a whole valid
 * frame are reported as a torn tail. Pure: no I/O, only node:zlib (through crc32.ts).
 */
import { crc32 } from './crc32.js';

export const HEADER_BYTES = 12;
export const MAGIC = Buffer.from([0xff, 0xfe, 0x4d, 0x57]);

export interface Frame {
  offset: number;
  length: number; // payload length
  payload: Buffer;
}

/** Build the on-disk frame of one record. */
export function encodeFrame(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  MAGIC.copy(frame, 0);
  frame.writeUInt32LE(payload.length, 4);
  frame.writeUInt32LE(crc32(payload), 8);
  frame.set(payload, HEADER_BYTES);
  return frame;
}

/** Parses a frame at `at` in `buf`; null when it is not a complete, valid frame. */
function frameAt(buf: Buffer, at: number, maxRecordBytes: number): Frame | null {
  if (at + HEADER_BYTES > buf.length) return null;
  if (buf.compare(MAGIC, 0, 4, at, at + 4) !== 0) return null;
  const length = buf.readUInt32LE(at + 4);
  if (length > maxRecordBytes || at + HEADER_BYTES + length > buf.length) return null;
  const payload = buf.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length);
  if (crc32(payload) !== buf.readUInt32LE(at + 8)) return null;
  return { offset: at, length, payload };
}

/** Outcome of scanning a whole segment buffer. */
export interface SegmentScan {
  frames: Frame[];
  /** Corrupted regions skipped between valid frames. */
  corrupted: number;
  /** Offset where trailing garbage (a torn tail) starts, or null when the file ends cleanly. */
  tornAt: number | null;
}

/** Scans `buf` from `from` for valid frames (also used by the hook journal: one framing, one reader). */
export function scanBuffer(buf: Buffer, from: number, maxRecordBytes: number): SegmentScan {
  const frames: Frame[] = [];
  let corrupted = 0;
  let at = from;
  while (at < buf.length) {
    const f = frameAt(buf, at, maxRecordBytes);
    if (f) {
      frames.push(f);
      at += HEADER_BYTES + f.length;
      continue;
    }
    // resynchronise: the next magic that starts a valid frame
    let next = buf.indexOf(MAGIC, at + 1);
    while (next !== -1 && !frameAt(buf, next, maxRecordBytes)) next = buf.indexOf(MAGIC, next + 1);
    if (next === -1) return { frames, corrupted, tornAt: at };
    corrupted++;
    at = next;
  }
  return { frames, corrupted, tornAt: null };
}
