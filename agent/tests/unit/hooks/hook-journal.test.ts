/**
 * The hook journal: records come back in order; the size bound drops the oldest files and counts
 * what they held; a torn tail (a record being written, or cut by a crash) is not parsed and not
 * skipped past; a corrupted record is skipped and counted; a cursor resumes where reading ended.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { appendJournal, pruneJournal, readJournal, JOURNAL_DIR } from '../../../src/hooks/hook-journal.js';
import { encodeFrame } from '../../../src/spool/spool.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-journal-'));
const rec = (i: number) => ({ n: i, pad: 'x'.repeat(200) });

test('records come back in append order; a cursor resumes after them', () => {
  const dir = tmp();
  for (let i = 0; i < 5; i++) expect(appendJournal(dir, rec(i))).toEqual({ ok: true, dropped: 0 });
  const first = readJournal(dir);
  expect(first.records.map((r) => (r as { n: number }).n)).toEqual([0, 1, 2, 3, 4]);
  appendJournal(dir, rec(5));
  const next = readJournal(dir, first.cursor);
  expect(next.records.map((r) => (r as { n: number }).n)).toEqual([5]);
  expect(readJournal(dir, next.cursor).records).toEqual([]);
});

test('bounded: past maxBytes the oldest files go, counted in dropped; the newest records stay', () => {
  const dir = tmp();
  const maxBytes = 8 * 1024;
  let dropped = 0;
  for (let i = 0; i < 200; i++) {
    const w = appendJournal(dir, rec(i), { maxBytes });
    expect(w.ok).toBe(true);
    if (w.ok) dropped += w.dropped;
  }
  const files = fs.readdirSync(path.join(dir, JOURNAL_DIR)).filter((f) => f.endsWith('.log'));
  const total = files.reduce((n, f) => n + fs.statSync(path.join(dir, JOURNAL_DIR, f)).size, 0);
  expect(total).toBeLessThanOrEqual(maxBytes + 300);
  const read = readJournal(dir);
  expect(dropped).toBeGreaterThan(0);
  expect(read.dropped.records).toBe(dropped);
  expect(read.records.length + dropped).toBe(200);
  expect((read.records[read.records.length - 1] as { n: number }).n).toBe(199);
});

test('a torn tail is left for the next read; a corrupted record is skipped and counted', () => {
  const dir = tmp();
  appendJournal(dir, rec(0));
  appendJournal(dir, rec(1));
  const file = path.join(dir, JOURNAL_DIR, 'journal-0000000001.log');
  const bytes = fs.readFileSync(file);
  // corrupt one payload byte of the first record
  bytes[20] = bytes[20] === 0x41 ? 0x42 : 0x41;
  const torn = encodeFrame(Buffer.from(JSON.stringify(rec(2)))).subarray(0, 30);
  fs.writeFileSync(file, Buffer.concat([bytes, torn]));
  const read = readJournal(dir);
  expect(read.records.map((r) => (r as { n: number }).n)).toEqual([1]);
  expect(read.corrupted).toBe(1);
  expect(read.cursor.offset).toBe(bytes.length);
  // the writer finishes the torn record: the rest of the frame arrives, and the reader picks it up
  fs.appendFileSync(file, encodeFrame(Buffer.from(JSON.stringify(rec(2)))).subarray(30));
  expect(readJournal(dir, read.cursor).records.map((r) => (r as { n: number }).n)).toEqual([2]);
});

test('pruneJournal deletes files wholly behind the cursor only', () => {
  const dir = tmp();
  for (let i = 0; i < 200; i++) appendJournal(dir, rec(i), { maxBytes: 64 * 1024 });
  const before = fs.readdirSync(path.join(dir, JOURNAL_DIR)).filter((f) => f.endsWith('.log')).length;
  expect(before).toBeGreaterThan(1);
  const { cursor } = readJournal(dir);
  pruneJournal(dir, cursor);
  const after = fs.readdirSync(path.join(dir, JOURNAL_DIR)).filter((f) => f.endsWith('.log'));
  expect(after).toEqual([`journal-${String(cursor.file).padStart(10, '0')}.log`]);
});

test('a record over the size bound is refused with a code, nothing written', () => {
  const dir = tmp();
  const w = appendJournal(dir, { big: 'y'.repeat(70 * 1024) });
  expect(w).toMatchObject({ ok: false, code: 'MCPW_ERR_HOOK_JOURNAL_IO' });
  expect(readJournal(dir).records).toEqual([]);
});

test('a read whose budget runs out a few bytes into the next file loses nothing: it stops at that file\'s start and the next read takes it whole', () => {
  const dir = tmp();
  const n = 3000;
  for (let i = 0; i < n; i++) expect(appendJournal(dir, { n: i, pad: 'x'.repeat(420) }).ok).toBe(true);
  const files = fs.readdirSync(path.join(dir, JOURNAL_DIR)).sort();
  expect(files.length).toBeGreaterThanOrEqual(2);
  // Enough for the first file and 10 bytes of the second: less than one record there.
  const budget = fs.statSync(path.join(dir, JOURNAL_DIR, files[0]!)).size + 10;
  const seen: number[] = [];
  let cursor = { file: 0, offset: 0 };
  let corrupted = 0;
  for (let reads = 0; reads < 100; reads++) {
    const r = readJournal(dir, cursor, reads === 0 ? budget : undefined);
    corrupted += r.corrupted;
    if (r.records.length === 0) break;
    seen.push(...r.records.map((x) => (x as { n: number }).n));
    cursor = r.cursor;
    pruneJournal(dir, cursor);
  }
  expect(corrupted).toBe(0);
  expect(seen).toEqual(Array.from({ length: n }, (_, i) => i));
});
