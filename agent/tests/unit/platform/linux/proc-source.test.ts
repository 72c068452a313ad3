import {
  MAX_HELD_FDS,
  parseProcStat,
  readProcProcesses,
  releaseProcCache,
  type ProcCache,
  type ProcFs,
} from '../../../../src/platform/linux/proc-source.js';

describe('parseProcStat', () => {
  it('takes the name from inside the last parentheses, even with spaces and parentheses in it', () => {
    const text = '4242 (my (weird) name) S 17 4242 4242 0 -1 4194560 1 0 0 0 3 1 0 0 20 0 1 0 98765 1000 100 18446744073709551615';
    expect(parseProcStat(text)).toEqual({ name: 'my (weird) name', ppid: 17, startTicks: 98765 });
  });

  it('rejects text that is not a stat line', () => {
    expect(parseProcStat('garbage')).toBeNull();
  });
});

/** One process of the fake /proc; `incarnation` changes when its pid is reused. */
interface FakeProcess {
  incarnation: number;
  name: string;
  ppid: number;
  startTicks: number;
  cmdline: string;
  uid: number;
  exe: string;
}

function errno(code: string): Error {
  return Object.assign(new Error(code), { code });
}

/**
 * An in-memory /proc with the kernel's semantics for the stat file: an open descriptor stays
 * bound to the process it was opened for, and reading it once that process is gone fails with
 * ESRCH (even when its pid names another process by then). Counts every operation.
 */
class FakeProc implements ProcFs {
  readonly procs = new Map<number, FakeProcess>();
  readonly open = new Map<number, { pid: number; incarnation: number }>();
  readonly counts = { open: 0, statRead: 0, close: 0, cmdline: 0, stat: 0, readlink: 0 };
  private nextFd = 100;
  private nextIncarnation = 1;

  start(pid: number, p: Omit<FakeProcess, 'incarnation'>): void {
    this.procs.set(pid, { ...p, incarnation: this.nextIncarnation++ });
  }

  exit(pid: number): void {
    this.procs.delete(pid);
  }

  openSync(path: string): number {
    const m = /^\/fake\/(\d+)\/stat$/.exec(path);
    const proc = m ? this.procs.get(Number(m[1])) : undefined;
    if (!m || !proc) throw errno(m && this.hidden.has(Number(m[1])) ? 'EACCES' : 'ENOENT');
    this.counts.open++;
    const fd = this.nextFd++;
    this.open.set(fd, { pid: Number(m[1]), incarnation: proc.incarnation });
    return fd;
  }

  readSync(fd: number, buffer: Buffer, offset: number, length: number): number {
    const bound = this.open.get(fd);
    if (!bound) throw errno('EBADF');
    const proc = this.procs.get(bound.pid);
    if (!proc || proc.incarnation !== bound.incarnation) throw errno('ESRCH');
    this.counts.statRead++;
    const text = `${bound.pid} (${proc.name}) S ${proc.ppid} 1 1 0 -1 4194560 1 0 0 0 3 1 0 0 20 0 1 0 ${proc.startTicks} 1000 100 18446744073709551615\n`;
    return buffer.write(text, offset, length, 'utf8');
  }

  closeSync(fd: number): void {
    if (!this.open.delete(fd)) throw errno('EBADF');
    this.counts.close++;
  }

  /** The allocator's last pid as /proc/loadavg shows it (null: no loadavg, as before the allocator check). */
  lastPid: number | null = null;
  /** Pids listed in /proc whose files cannot be read (a process on its way out, no permission). */
  readonly hidden = new Set<number>();

  readFileSync(path: string): Buffer {
    if (path === '/fake/stat') return Buffer.from('cpu 1 2 3\nbtime 1700000000\n');
    if (path === '/fake/loadavg' && this.lastPid !== null) return Buffer.from(`0.10 0.20 0.30 2/345 ${this.lastPid}\n`);
    if (path === '/fake/sys/kernel/pid_max') return Buffer.from('4194304\n');
    const proc = this.procAt(path, 'cmdline');
    this.counts.cmdline++;
    return Buffer.from(`${proc.cmdline.split(' ').join('\0')}\0`);
  }

  readdirSync(): string[] {
    return ['self', 'stat', ...[...this.procs.keys(), ...this.hidden].map(String)];
  }

  readlinkSync(path: string): string {
    this.counts.readlink++;
    return this.procAt(path, 'exe').exe;
  }

  statSync(path: string): { uid: number } {
    this.counts.stat++;
    return { uid: this.procAt(path, '').uid };
  }

  private procAt(path: string, file: string): FakeProcess {
    const m = new RegExp(`^/fake/(\\d+)${file ? `/${file}` : ''}$`).exec(path);
    const proc = m ? this.procs.get(Number(m[1])) : undefined;
    if (!proc) throw errno('ENOENT');
    return proc;
  }
}

function fakeWith(count: number): FakeProc {
  const fake = new FakeProc();
  for (let pid = 100; pid < 100 + count; pid++) {
    fake.start(pid, { name: 'sleep', ppid: 1, startTicks: 5000 + pid, cmdline: `sleep ${pid}`, uid: 1000, exe: '/usr/bin/sleep' });
  }
  return fake;
}

async function snapshot(fake: FakeProc, cache?: ProcCache) {
  const result = await readProcProcesses({ procRoot: '/fake', fs: fake, ...(cache ? { cache } : {}) });
  if (!result.ok) throw result.error;
  return result.rows;
}

describe('readProcProcesses with a cache (fake /proc)', () => {
  it('reads a process once: later snapshots read only its stat, through a held descriptor, and hand back the same row', async () => {
    const fake = fakeWith(3);
    const cache: ProcCache = new Map();

    const first = await snapshot(fake, cache);
    expect(first.map((r) => r.cmd)).toEqual(['sleep 100', 'sleep 101', 'sleep 102']);
    expect(fake.counts).toMatchObject({ cmdline: 3, stat: 3, readlink: 3, open: 3 });
    expect(fake.open.size).toBe(0); // a first snapshot holds nothing

    const second = await snapshot(fake, cache);
    expect(second[1]).toBe(first[1]);
    expect(fake.counts).toMatchObject({ cmdline: 3, stat: 3, readlink: 3, open: 6 });
    expect(fake.open.size).toBe(3); // seen twice: stat descriptors kept

    const before = { ...fake.counts };
    const third = await snapshot(fake, cache);
    expect(third).toEqual(first);
    expect(third[2]).toBe(first[2]);
    expect(fake.counts).toEqual({ ...before, statRead: before.statRead + 3 }); // one read per process, nothing else
  });

  it('re-reads a pid reused by another program (the held descriptor fails, the start time differs)', async () => {
    const fake = fakeWith(2);
    const cache: ProcCache = new Map();
    await snapshot(fake, cache);
    await snapshot(fake, cache);
    expect(cache.get(101)?.fd).toBeDefined();

    fake.exit(101);
    fake.start(101, { name: 'node', ppid: 100, startTicks: 9999, cmdline: 'node mcp-server-fetch', uid: 1001, exe: '/usr/bin/node' });
    const rows = await snapshot(fake, cache);

    expect(rows.find((r) => r.pid === 101)).toMatchObject({ name: 'node', ppid: 100, cmd: 'node mcp-server-fetch', uid: 1001, path: '/usr/bin/node' });
    expect(cache.get(101)?.startTicks).toBe(9999);
    expect(fake.open.size).toBe(1); // the old process's descriptor was closed; the new one is held from its second sighting
    expect(fake.counts.cmdline).toBe(3);
  });

  it('re-reads a pid reused with a different start time even when the old descriptor still reads', async () => {
    const fake = fakeWith(1);
    const cache: ProcCache = new Map();
    await snapshot(fake, cache);
    await snapshot(fake, cache);
    // Same incarnation, new start time and command line: only the start time tells.
    const proc = fake.procs.get(100);
    if (!proc) throw new Error('fake process missing');
    proc.startTicks = 123_456;
    proc.cmdline = 'python -m mcp_server_time';

    const rows = await snapshot(fake, cache);
    expect(rows[0]?.cmd).toBe('python -m mcp_server_time');
    expect(cache.get(100)?.fd).toBeUndefined();
    expect(fake.open.size).toBe(0);
  });

  it('sees a new parent of a known process (re-parented to init when its parent exits)', async () => {
    const fake = fakeWith(2);
    const cache: ProcCache = new Map();
    const proc = fake.procs.get(101);
    if (!proc) throw new Error('fake process missing');
    proc.ppid = 100;
    await snapshot(fake, cache);
    await snapshot(fake, cache);

    fake.exit(100);
    proc.ppid = 1;
    const rows = await snapshot(fake, cache);
    expect(rows).toEqual([expect.objectContaining({ pid: 101, ppid: 1, cmd: 'sleep 101' })]);
  });

  it('sees new processes and forgets exited ones, closing their descriptors: the cache stays one entry per running process', async () => {
    const fake = fakeWith(5);
    const cache: ProcCache = new Map();
    let nextPid = 1000;
    for (let round = 0; round < 50; round++) {
      const rows = await snapshot(fake, cache);
      expect(rows.map((r) => r.pid).sort((a, b) => a - b)).toEqual([...fake.procs.keys()].sort((a, b) => a - b));
      expect(cache.size).toBe(fake.procs.size);
      expect(fake.open.size).toBeLessThanOrEqual(fake.procs.size);
      expect(cache.heldFds?.size).toBe(fake.open.size);
      // churn: the oldest exits, a new one starts
      const oldest = Math.min(...fake.procs.keys());
      fake.exit(oldest);
      fake.start(nextPid, { name: 'sh', ppid: 1, startTicks: nextPid, cmdline: `sh -c job${nextPid}`, uid: 0, exe: '/bin/sh' });
      nextPid++;
    }
    const last = await snapshot(fake, cache);
    expect(last.map((r) => r.cmd)).toEqual([...fake.procs.values()].map((p) => p.cmdline));
    expect([...cache.keys()].every((pid) => fake.procs.has(pid))).toBe(true);
  });

  it('holds at most MAX_HELD_FDS descriptors and still reports every process', async () => {
    const fake = fakeWith(MAX_HELD_FDS + 10);
    const cache: ProcCache = new Map();
    await snapshot(fake, cache);
    const rows = await snapshot(fake, cache);
    expect(rows).toHaveLength(MAX_HELD_FDS + 10);
    expect(fake.open.size).toBe(MAX_HELD_FDS);
    expect(cache.heldFds?.size).toBe(MAX_HELD_FDS);
  });

  it('releaseProcCache closes every held descriptor; a snapshot without a cache holds none', async () => {
    const fake = fakeWith(4);
    const cache: ProcCache = new Map();
    await snapshot(fake, cache);
    await snapshot(fake, cache);
    expect(fake.open.size).toBe(4);
    releaseProcCache(cache);
    expect(fake.open.size).toBe(0);
    expect(cache.size).toBe(0);

    await snapshot(fake);
    await snapshot(fake);
    expect(fake.open.size).toBe(0);
  });

  it('reads names with spaces and parentheses, and the start time from boot time and ticks', async () => {
    const fake = fakeWith(1);
    fake.start(200, { name: 'my (weird) name', ppid: 100, startTicks: 77, cmdline: '', uid: 0, exe: '/x' });
    const rows = await snapshot(fake, new Map());
    expect(rows.find((r) => r.pid === 200)).toMatchObject({ name: 'my (weird) name', ppid: 100, cmd: '[my (weird) name]' });
    expect(rows.find((r) => r.pid === 200)?.startedAt).toBe(new Date(1_700_000_000_000 + 770).toISOString());
  });
});

describe('readProcProcesses with the pid allocator (fake /proc/loadavg)', () => {
  /** A fake whose allocator has handed out every pid up to the highest running one. */
  function allocating(count: number): FakeProc {
    const fake = fakeWith(count);
    fake.lastPid = 100 + count - 1;
    return fake;
  }
  const startNew = (fake: FakeProc, pid: number, over: Partial<FakeProcess> = {}) => {
    fake.start(pid, { name: 'sh', ppid: 1, startTicks: 90_000 + pid, cmdline: `sh job${pid}`, uid: 0, exe: '/bin/sh', ...over });
    fake.lastPid = Math.max(fake.lastPid ?? 0, pid);
  };

  it('reads no known process again while the allocator shows no pid could have been reused; new ones are read', async () => {
    const fake = allocating(3);
    fake.hidden.add(150); // listed, never readable: it must not make every snapshot a full one
    const cache: ProcCache = new Map();
    const first = await snapshot(fake, cache);
    await snapshot(fake, cache);
    const before = { ...fake.counts };
    const third = await snapshot(fake, cache);
    expect(third).toEqual(first);
    expect(third[0]).toBe(first[0]);
    expect(fake.counts.statRead).toBe(before.statRead);
    fake.lastPid = 400; // others' processes came and went
    startNew(fake, 300);
    const fourth = await snapshot(fake, cache);
    expect(fourth.map((r) => r.pid)).toEqual([100, 101, 102, 300]);
    expect(fake.counts.statRead).toBe(before.statRead + 1);
    expect(fake.counts.cmdline).toBe(before.cmdline + 1);
  });

  it('a pid handed out again after the allocator wrapped is read again and seen as the new process', async () => {
    const fake = allocating(3);
    const cache: ProcCache = new Map();
    await snapshot(fake, cache);
    await snapshot(fake, cache);
    fake.exit(101);
    fake.lastPid = 40; // wrapped past pid_max
    startNew(fake, 101, { name: 'node', cmdline: 'node mcp-server-fetch', startTicks: 777 });
    fake.lastPid = 101;
    const rows = await snapshot(fake, cache);
    expect(rows.find((r) => r.pid === 101)).toMatchObject({ name: 'node', cmd: 'node mcp-server-fetch' });
  });

  it('does not trust an allocator that disagrees with /proc (a new pid at or below its previous value: another pid namespace, a wrap)', async () => {
    const fake = allocating(3);
    const cache: ProcCache = new Map();
    await snapshot(fake, cache);
    await snapshot(fake, cache);
    // Pid 101 reused and a new pid 99, while the allocator did not move: /proc says otherwise.
    fake.exit(101);
    fake.start(101, { name: 'node', ppid: 1, startTicks: 777, cmdline: 'node mcp-server-git', uid: 0, exe: '/usr/bin/node' });
    fake.start(99, { name: 'sh', ppid: 1, startTicks: 778, cmdline: 'sh', uid: 0, exe: '/bin/sh' });
    const before = fake.counts.statRead;
    const rows = await snapshot(fake, cache);
    expect(rows.find((r) => r.pid === 101)).toMatchObject({ cmd: 'node mcp-server-git' });
    expect(fake.counts.statRead - before).toBeGreaterThanOrEqual(2); // every known process read again
  });

  it('reads every process every few snapshots anyway: a new parent (adopted when its parent exits) shows within them', async () => {
    const fake = allocating(2);
    const proc = fake.procs.get(101)!;
    proc.ppid = 100;
    const cache: ProcCache = new Map();
    await snapshot(fake, cache);
    fake.exit(100);
    proc.ppid = 1;
    let seenAt = -1;
    for (let i = 1; i <= 8 && seenAt < 0; i++) {
      const rows = await snapshot(fake, cache);
      if (rows.find((r) => r.pid === 101)?.ppid === 1) seenAt = i;
    }
    expect(seenAt).toBeGreaterThan(0);
    expect(seenAt).toBeLessThanOrEqual(6);
  });

  it('forgets exited processes as before (their pids are simply no longer listed)', async () => {
    const fake = allocating(4);
    const cache: ProcCache = new Map();
    await snapshot(fake, cache);
    await snapshot(fake, cache);
    fake.exit(102);
    const rows = await snapshot(fake, cache);
    expect(rows.map((r) => r.pid)).toEqual([100, 101, 103]);
    expect(cache.has(102)).toBe(false);
    expect(cache.heldFds?.size).toBe(fake.open.size);
  });
});
