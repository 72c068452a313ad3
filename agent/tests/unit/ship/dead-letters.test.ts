import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DeadLetters } from '../../../src/ship/dead-letters.js';
import type { PendingBatch } from '../../../src/ship/batch-builder.js';

const batch = (seq: number, body: string): PendingBatch => ({ agentId: 'a1', seq, prevHash: '', end: { segment: 1, offset: 0 }, count: 2, body });

describe('DeadLetters (ship/dead-letters): refused batches kept, bounded', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-dl-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps the body as sent with why it was refused', () => {
    const { file, dropped } = new DeadLetters(dir, 1024 * 1024).put(batch(4, '{"x":1}'), { status: 400, code: 'MCPW_ERR_SCHEMA', error: 'bad' }, 1000);
    expect(dropped).toBe(0);
    expect(path.dirname(file)).toBe(path.join(dir, 'dead-letter'));
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ agentId: 'a1', seq: 4, status: 400, code: 'MCPW_ERR_SCHEMA', error: 'bad', deadLetteredAt: '1970-01-01T00:00:01.000Z', events: 2, body: '{"x":1}' });
  });

  it('drops the oldest past maxBytes, counts them, and always keeps the newest', () => {
    const dl = new DeadLetters(dir, 600);
    const big = 'x'.repeat(300);
    expect(dl.put(batch(1, big), { error: 'e' }, 1).dropped).toBe(0);
    expect(dl.put(batch(2, big), { error: 'e' }, 2).dropped).toBe(1);
    expect(dl.put(batch(3, 'y'.repeat(5000)), { error: 'e' }, 3).dropped).toBe(1);
    expect(fs.readdirSync(dl.dir)).toEqual(['000000000000003-seq3.json']);
  });
});
