import os from 'node:os';
import { parseProcStat, readProcProcesses, type ProcCache } from '../../src/collect/linux-proc-source.js';

describe('parseProcStat', () => {
  it('takes the name from inside the last parentheses, even with spaces and parentheses in it', () => {
    const text = '4242 (my (weird) name) S 17 4242 4242 0 -1 4194560 1 0 0 0 3 1 0 0 20 0 1 0 98765 1000 100 18446744073709551615';
    expect(parseProcStat(text)).toEqual({ name: 'my (weird) name', ppid: 17, startTicks: 98765 });
  });

  it('rejects text that is not a stat line', () => {
    expect(parseProcStat('garbage')).toBeNull();
  });
});

(os.platform() === 'linux' ? describe : describe.skip)('readProcProcesses (this machine)', () => {
  it('lists this process with its parent, command line, uid and start time', async () => {
    const result = await readProcProcesses();
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const me = result.rows.find((r) => r.pid === process.pid);
    expect(me).toMatchObject({ ppid: process.ppid, uid: process.getuid?.() ?? null, path: process.execPath });
    expect(me?.cmd).toContain('jest');
    expect(me?.cmd.split(' ')).toEqual(expect.arrayContaining(process.execArgv));
    expect(Date.parse(me?.startedAt ?? '')).toBeLessThanOrEqual(Date.now());
  });

  it('hands back the same row for a process it has seen, and forgets processes that are gone', async () => {
    const cache: ProcCache = new Map();
    cache.set(999_999_999, { startTicks: 1, row: { pid: 999_999_999, ppid: 1, name: 'gone', cmd: 'gone', uid: 0, startedAt: null } });
    const first = await readProcProcesses({ cache });
    const second = await readProcProcesses({ cache });
    if (!first.ok || !second.ok) throw new Error('proc unreadable');
    expect(second.rows.find((r) => r.pid === process.pid)).toBe(first.rows.find((r) => r.pid === process.pid));
    expect(cache.has(999_999_999)).toBe(false);
    expect(cache.has(process.pid)).toBe(true);
  });

  it('reports an unreadable proc root as a failure value', async () => {
    const result = await readProcProcesses({ procRoot: '/nonexistent-proc' });
    expect(result.ok).toBe(false);
  });
});
