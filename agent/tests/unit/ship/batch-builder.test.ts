import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeEvent } from '@mcpwatch/shared';
import { Spool } from '../../../src/spool/spool.js';
import { buildBatch, withEndpointId } from '../../../src/ship/batch-builder.js';

describe('buildBatch (ship/batch-builder)', () => {
  let dir: string;
  let spool: Spool;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-bb-'));
    spool = Spool.open({ dir });
  });
  afterEach(() => {
    spool.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const header = { agentId: 'a1', endpointId: 'ep-new', seq: 7, prevHash: 'h6', sentAt: '2026-12-06T00:00:00.000Z' };

  it('cuts up to maxEvents spooled events into one body under the seq, re-addressing old endpoint ids', () => {
    for (const ep of ['ep-old', 'ep-new', 'ep-old']) spool.append(Buffer.from(JSON.stringify(makeEvent('agent.dropped', ep, { count: 1, bytes: 0, reason: 'r' }))));
    const b = buildBatch(spool, header, 2, 1024 * 1024);
    expect(b).toMatchObject({ agentId: 'a1', seq: 7, prevHash: 'h6', count: 2 });
    const body = JSON.parse(b!.body);
    expect(body).toMatchObject({ agentId: 'a1', seq: 7, prevHash: 'h6', sentAt: header.sentAt });
    expect(body.events.map((e: { endpointId: string }) => e.endpointId)).toEqual(['ep-new', 'ep-new']);
  });

  it('returns null on an empty spool', () => {
    expect(buildBatch(spool, header, 10, 1024)).toBeNull();
  });

  it('splices the envelope endpointId in place, escaped quotes included, and leaves records without one alone', () => {
    expect(withEndpointId('{"v":2,"endpointId":"o\\"ld","data":{"endpointId":"x"}}', 'n')).toBe('{"v":2,"endpointId":"n","data":{"endpointId":"x"}}');
    expect(withEndpointId('{"v":2}', 'n')).toBe('{"v":2}');
  });
});
