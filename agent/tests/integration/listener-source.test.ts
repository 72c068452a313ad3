/**
 * The Linux listener table (platform/linux/listener-source.ts) against this machine: listening
 * sockets from /proc/net with their owner found through fd links (no ss/netstat spawned), the
 * owner walk rate-limited, priority pids looked up at once, a socket's inode kept as its identity.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import { createProcListenerSource } from '../../src/platform/linux/listener-source.js';
import { listenerSource } from '../../src/platform/listener-source.js';

const listen = (srv: Server, host = '127.0.0.1'): Promise<number> => new Promise((r) => srv.listen(0, host, () => r((srv.address() as { port: number }).port)));
const close = (srv: Server): Promise<void> => new Promise((r) => srv.close(() => r()));

(os.platform() === 'linux' ? describe : describe.skip)('Linux listener table (this machine)', () => {
  it('lists this process\'s listener with its pid, name and inode; the same socket keeps its inode, a new one gets another', async () => {
    const table = createProcListenerSource({ walkEveryMs: 0 });
    const a = createServer();
    const port = await listen(a);
    const first = await table();
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    const row = first.rows.find((r) => r.localPort === port);
    expect(row).toMatchObject({ protocol: 'tcp', localAddress: '127.0.0.1', state: 'LISTEN', pid: process.pid, peerAddress: null });
    expect(row?.processName).toBeTruthy();
    expect(first.rows.every((r) => r.state === 'LISTEN')).toBe(true);
    const again = await table();
    expect(again.ok && again.rows.find((r) => r.localPort === port)?.inode).toBe(row?.inode);
    await close(a);
    const b = createServer();
    await new Promise<void>((r) => b.listen(port, '127.0.0.1', () => r()));
    const reopened = await table();
    const next = reopened.ok ? reopened.rows.find((r) => r.localPort === port) : undefined;
    expect(next?.inode).not.toBe(row?.inode);
    await close(b);
  });

  it('walks every process for unknown owners at most once per walkEveryMs; priority pids are looked up at once', async () => {
    let clock = 1_000_000;
    const table = createProcListenerSource({ walkEveryMs: 60_000, now: () => clock });
    const first = createServer();
    const p1 = await listen(first);
    const r1 = await table();
    expect(r1.ok && r1.rows.find((r) => r.localPort === p1)?.pid).toBe(process.pid); // the first call walks
    // Another process's new listener, 1 s later: no walk yet, so its owner is not known...
    clock += 1000;
    const child = spawn(process.execPath, ['-e', "require('net').createServer().listen(0,'127.0.0.1',function(){console.log(this.address().port)})"], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const p2 = await new Promise<number>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
      const r2 = await table();
      expect(r2.ok && r2.rows.find((r) => r.localPort === p2)).toMatchObject({ pid: null });
      // ...unless it is a priority pid (a known MCP server process), looked up at once;
      const r3 = await table(new Set([child.pid!]));
      expect(r3.ok && r3.rows.find((r) => r.localPort === p2)?.pid).toBe(child.pid);
      // and the first listener's owner is still known without a walk.
      expect(r3.ok && r3.rows.find((r) => r.localPort === p1)?.pid).toBe(process.pid);
    } finally {
      child.kill('SIGKILL');
      await close(first);
    }
  });

  it('falls back to the given socket source when /proc/net cannot be read; other OSes use it directly', async () => {
    const fallback = async () => ({ ok: true as const, rows: [{ protocol: 'tcp', localAddress: '127.0.0.1', localPort: 1, peerAddress: null, peerPort: null, state: 'LISTEN', pid: 1, processName: 'x' }] });
    expect(await listenerSource(fallback, () => new Set(), 'darwin')()).toEqual(await fallback());
    const broken = createProcListenerSource({ procRoot: '/nonexistent-proc' });
    expect(await broken()).toMatchObject({ ok: false });
  });
});
