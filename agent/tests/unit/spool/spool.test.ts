import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { crc32, crc32Table } from '../../../src/spool/crc32.js';
import { Spool, HEADER_BYTES, type SpoolDropInfo } from '../../../src/spool/spool.js';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-spool-'));
}
const rec = (i: number, pad = 0) => Buffer.from(JSON.stringify({ i, pad: 'x'.repeat(pad) }));
const ids = (records: Buffer[]) => records.map((r) => (JSON.parse(r.toString()) as { i: number }).i);
function segFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.endsWith('.spool')).sort();
}

describe('crc32', () => {
  it('matches the IEEE check value and the zlib implementation', () => {
    expect(crc32Table(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 31) & 0xff));
    expect(crc32(data)).toBe(crc32Table(data));
    expect(crc32Table(Buffer.alloc(0))).toBe(0);
  });
});

describe('Spool', () => {
  it('reads records back in order, acks durably and survives a reopen', () => {
    const dir = tmpDir();
    const s = Spool.open({ dir, fsync: 'always' });
    for (let i = 1; i <= 10; i++) s.append(rec(i));
    expect(s.stats().depth).toBe(10);
    const first = s.read(4, 1 << 20);
    expect(ids(first.records)).toEqual([1, 2, 3, 4]);
    s.ack(first.end);
    expect(s.stats().depth).toBe(6);
    s.close();

    const again = Spool.open({ dir });
    expect(again.stats().depth).toBe(6);
    expect(ids(again.read(100, 1 << 20).records)).toEqual([5, 6, 7, 8, 9, 10]);
    again.close();
  });

  it('limits a read by bytes but always returns at least one record', () => {
    const s = Spool.open({ dir: tmpDir(), fsync: 'never' });
    for (let i = 1; i <= 5; i++) s.append(rec(i, 100));
    const r = s.read(100, 250);
    expect(ids(r.records)).toEqual([1, 2]);
    const tiny = s.read(100, 1);
    expect(ids(tiny.records)).toEqual([1]);
    s.close();
  });

  it('rolls segments and deletes wholly acknowledged ones', () => {
    const dir = tmpDir();
    const s = Spool.open({ dir, segmentBytes: 1024, maxBytes: 1 << 20 });
    for (let i = 1; i <= 40; i++) s.append(rec(i, 100));
    expect(segFiles(dir).length).toBeGreaterThan(3);
    let seen: number[] = [];
    for (;;) {
      const r = s.read(7, 1 << 20);
      if (r.records.length === 0) break;
      seen = seen.concat(ids(r.records));
      s.ack(r.end);
    }
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(s.stats().depth).toBe(0);
    expect(segFiles(dir).length).toBe(1);
    s.close();
  });

  it('cuts a torn tail on open and keeps every complete record', () => {
    const dir = tmpDir();
    const s = Spool.open({ dir });
    for (let i = 1; i <= 5; i++) s.append(rec(i));
    s.close();
    const file = path.join(dir, segFiles(dir)[0]!);
    const size = fs.statSync(file).size;
    // a frame cut short: header and half a payload, as kill -9 mid-write leaves it
    const torn = Buffer.concat([Buffer.from([0xff, 0xfe, 0x4d, 0x57]), Buffer.from([200, 0, 0, 0, 1, 2, 3, 4]), Buffer.from('{"i":6,')]);
    fs.appendFileSync(file, torn);

    const again = Spool.open({ dir });
    expect(again.stats().tornTails).toBe(1);
    expect(fs.statSync(file).size).toBe(size);
    again.append(rec(6));
    expect(ids(again.read(100, 1 << 20).records)).toEqual([1, 2, 3, 4, 5, 6]);
    again.close();
  });

  it('skips a corrupted record in the middle, counts it and keeps the rest intact', () => {
    const dir = tmpDir();
    const s = Spool.open({ dir });
    const sizes: number[] = [];
    for (let i = 1; i <= 5; i++) {
      s.append(rec(i));
      sizes.push(rec(i).length + HEADER_BYTES);
    }
    s.close();
    const file = path.join(dir, segFiles(dir)[0]!);
    const buf = fs.readFileSync(file);
    const thirdPayload = sizes[0]! + sizes[1]! + HEADER_BYTES + 3;
    buf[thirdPayload] = buf[thirdPayload]! ^ 0xff; // bit rot in record 3
    fs.writeFileSync(file, buf);

    const again = Spool.open({ dir });
    expect(again.stats().corruptedRecords).toBe(1);
    expect(again.stats().depth).toBe(4);
    expect(ids(again.read(100, 1 << 20).records)).toEqual([1, 2, 4, 5]);
    again.close();
  });

  it('treats a corrupted length field like any other corruption', () => {
    const dir = tmpDir();
    const s = Spool.open({ dir });
    for (let i = 1; i <= 3; i++) s.append(rec(i));
    s.close();
    const file = path.join(dir, segFiles(dir)[0]!);
    const buf = fs.readFileSync(file);
    buf.writeUInt32LE(0xfffffff0, 4); // record 1's length
    fs.writeFileSync(file, buf);
    const again = Spool.open({ dir });
    expect(ids(again.read(100, 1 << 20).records)).toEqual([2, 3]);
    expect(again.stats().corruptedRecords).toBe(1);
    again.close();
  });

  it('drops the oldest segments at the byte bound, counts them and reports once per append', () => {
    const dir = tmpDir();
    const drops: SpoolDropInfo[] = [];
    const s = Spool.open({ dir, maxBytes: 8192, segmentBytes: 2048, onDrop: (d) => drops.push(d) });
    for (let i = 1; i <= 200; i++) s.append(rec(i, 50));
    const st = s.stats();
    expect(st.diskBytes).toBeLessThanOrEqual(8192);
    expect(st.droppedRecords).toBeGreaterThan(0);
    expect(st.droppedRecords + st.depth).toBe(200);
    expect(drops.reduce((n, d) => n + d.records, 0)).toBe(st.droppedRecords);
    const left = ids(s.read(1000, 1 << 20).records);
    expect(left[left.length - 1]).toBe(200);
    expect(left).toEqual(Array.from({ length: left.length }, (_, k) => 201 - left.length + k));
    s.close();
  });

  it('hands dropped records carrying the marker to onDrop, so drop reports are never lost silently', () => {
    const drops: SpoolDropInfo[] = [];
    const s = Spool.open({ dir: tmpDir(), maxBytes: 8192, segmentBytes: 2048, carryMarker: '"report"', onDrop: (d) => drops.push(d) });
    s.append(Buffer.from('{"report":1}'));
    for (let i = 1; i <= 300; i++) s.append(rec(i, 50));
    expect(drops.length).toBeGreaterThan(1);
    const carried = drops.flatMap((d) => d.carried.map((b) => b.toString()));
    expect(carried).toEqual(['{"report":1}']);
    s.close();
  });

  it('does not count records handed to the shipper (reserved) as lost when their segment is dropped', () => {
    const plain = Spool.open({ dir: tmpDir(), maxBytes: 8192, segmentBytes: 2048 });
    const held = Spool.open({ dir: tmpDir(), maxBytes: 8192, segmentBytes: 2048 });
    for (const s of [plain, held]) for (let i = 1; i <= 20; i++) s.append(rec(i, 50));
    const batch = held.read(10, 1 << 20); // a batch of 10 in flight
    held.reserve(batch.end);
    for (const s of [plain, held]) for (let i = 21; i <= 300; i++) s.append(rec(i, 50));
    expect(plain.stats().droppedRecords - held.stats().droppedRecords).toBe(10);
    expect(held.stats().droppedRecords + held.stats().depth + 10).toBe(300);
    held.ack(batch.end); // the ack of a batch whose segment is gone changes nothing
    expect(held.stats().droppedRecords + held.stats().depth + 10).toBe(300);
    plain.close();
    held.close();
  });

  it('refuses a record larger than maxRecordBytes and writes nothing', () => {
    const s = Spool.open({ dir: tmpDir(), maxRecordBytes: 100 });
    expect(() => s.append(Buffer.alloc(101))).toThrow(expect.objectContaining({ code: 'MCPW_ERR_SPOOL_RECORD_TOO_LARGE' }));
    expect(s.stats().depth).toBe(0);
    s.close();
    expect(() => s.append(Buffer.from('x'))).toThrow(expect.objectContaining({ code: 'MCPW_ERR_SPOOL_CLOSED' }));
  });

  it('replays from the oldest segment when cursor.json is unreadable', () => {
    const dir = tmpDir();
    const s = Spool.open({ dir });
    for (let i = 1; i <= 3; i++) s.append(rec(i));
    s.ack(s.read(1, 1 << 20).end);
    s.close();
    fs.writeFileSync(path.join(dir, 'cursor.json'), '{not json');
    const again = Spool.open({ dir });
    expect(ids(again.read(100, 1 << 20).records)).toEqual([1, 2, 3]);
    again.close();
  });
});
