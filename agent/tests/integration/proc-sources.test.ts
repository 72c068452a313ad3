/**
 * The Linux /proc sources against this machine: this process as /proc and ps-list see it, and a
 * listening socket of this process found through its fd links.
 */
import { spawn } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import { readProcProcesses, releaseProcCache, type ProcCache } from '../../src/platform/linux/proc-source.js';
import { readProcSockets, type ProcSocketCache } from '../../src/platform/linux/socket-source.js';
import { platformSources } from '../../src/platform/index.js';

/** ps-list: the macOS source (and the Linux fallback). */
const psListProcessSource = platformSources('darwin').processSource();

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
    releaseProcCache(cache);
  });

  it('keeps the stat file of a process seen twice open, and closes it and forgets the process once it exits', async () => {
    const child = spawn('sleep', ['600'], { stdio: 'ignore' });
    const pid = child.pid as number;
    const exited = new Promise((r) => child.once('exit', r));
    const cache: ProcCache = new Map();
    const linkOf = (fd: number): string | null => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return null;
      }
    };
    // Every snapshot here reads every process (no allocator value from the one before, see
    // ALLOCATOR_CHECK in proc-source.ts), as the full check every few snapshots does.
    const full = () => {
      cache.lastPid = null;
      return readProcProcesses({ cache });
    };
    try {
      const first = await full();
      const second = await full();
      if (!first.ok || !second.ok) throw new Error('proc unreadable');
      const row = second.rows.find((r) => r.pid === pid);
      expect(row).toBe(first.rows.find((r) => r.pid === pid));
      expect(row?.cmd).toBe('sleep 600');
      const fd = cache.get(pid)?.fd;
      if (fd === undefined) throw new Error('no descriptor held for the child');
      expect(linkOf(fd)).toBe(`/proc/${pid}/stat`);

      child.kill('SIGKILL');
      await exited;
      const third = await full();
      if (!third.ok) throw new Error('proc unreadable');
      expect(third.rows.some((r) => r.pid === pid)).toBe(false);
      expect(cache.has(pid)).toBe(false);
      expect(cache.heldFds?.has(fd)).toBe(false);
      expect(linkOf(fd)).not.toBe(`/proc/${pid}/stat`);
    } finally {
      child.kill('SIGKILL');
      releaseProcCache(cache);
    }
  });

  it('reads the pid allocator of this machine, and sees a process started between two snapshots that skipped the known ones', async () => {
    const cache: ProcCache = new Map();
    try {
      await readProcProcesses({ cache });
      await readProcProcesses({ cache });
      expect(typeof cache.lastPid).toBe('number');
      expect(cache.pidMax).toBeGreaterThan(1000);
      const child = spawn('sleep', ['600'], { stdio: 'ignore' });
      try {
        const after = await readProcProcesses({ cache });
        if (!after.ok) throw new Error('proc unreadable');
        expect(after.rows.find((r) => r.pid === child.pid)).toMatchObject({ cmd: 'sleep 600', ppid: process.pid });
        expect(cache.lastPid).toBeGreaterThanOrEqual(child.pid as number);
      } finally {
        child.kill('SIGKILL');
      }
    } finally {
      releaseProcCache(cache);
    }
  });

  it('agrees with ps-list (the macOS source and fallback) on this process', async () => {
    const [fromProc, fromPs] = await Promise.all([readProcProcesses(), psListProcessSource()]);
    if (!fromProc.ok || !fromPs.ok) throw new Error('a source failed');
    const a = fromProc.rows.find((r) => r.pid === process.pid);
    const b = fromPs.rows.find((r) => r.pid === process.pid);
    expect(b).toMatchObject({ ppid: a?.ppid, uid: a?.uid });
    expect(b?.cmd.split(/\s+/)[0]).toBe(a?.cmd.split(/\s+/)[0]);
  });

  it('reports an unreadable proc root as a failure value', async () => {
    const result = await readProcProcesses({ procRoot: '/nonexistent-proc' });
    expect(result.ok).toBe(false);
  });
});

(os.platform() === 'linux' ? describe : describe.skip)('readProcSockets (this machine)', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as { port: number }).port;
  });

  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('finds the listener of the asked-for process, owned by it', async () => {
    const result = await readProcSockets(new Set([process.pid]), new Map([[process.pid, 'jest']]));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.rows).toContainEqual({ protocol: 'tcp', localAddress: '127.0.0.1', localPort: port, peerAddress: null, peerPort: null, state: 'LISTEN', pid: process.pid, processName: 'jest' });
    expect(result.rows.every((r) => r.pid === process.pid)).toBe(true);
  });

  it('reuses the last table read while the same sockets stay open, and re-reads when they change', async () => {
    const cache: { current: ProcSocketCache | null } = { current: null };
    const first = await readProcSockets(new Set([process.pid]), new Map(), { cache });
    expect(first.ok && first.rows.some((r) => r.localPort === port)).toBe(true);
    expect(cache.current).not.toBeNull();
    const second = await readProcSockets(new Set([process.pid]), new Map([[process.pid, 'renamed']]), { cache });
    expect(second.ok && second.rows.find((r) => r.localPort === port)?.processName).toBe('renamed');
    const other = createServer();
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', () => r()));
    try {
      const otherPort = (other.address() as { port: number }).port;
      const third = await readProcSockets(new Set([process.pid]), new Map(), { cache });
      expect(third.ok && third.rows.some((r) => r.localPort === otherPort)).toBe(true);
    } finally {
      await new Promise<void>((r) => other.close(() => r()));
    }
  });

  it('reports an unreadable /proc as a failure value', async () => {
    expect((await readProcSockets(new Set([1]), new Map(), { procRoot: '/nonexistent-proc' })).ok).toBe(false);
  });
});
