/**
 * The Windows socket source over `netstat -ano`: the Windows 10 layout parses to rows with owning
 * pids; Wine 8's output (captured, no PID column) and every other failure are coded errors.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetstatSocketSource, parseNetstat, splitEndpoint } from '../../../../src/platform/win32/netstat-sockets.js';

const OUTPUT = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/win32-output');
const read = (name: string) => readFileSync(path.join(OUTPUT, name), 'latin1');

describe('netstat -ano socket source (win32)', () => {
  it('parses the Windows 10 layout: pids, LISTENING as LISTEN, IPv6 brackets and zones, UDP without state', async () => {
    const names = new Map([[7420, 'node.exe'], [6120, 'Claude.exe']]);
    const result = await createNetstatSocketSource(async () => read('windows10-netstat-ano.txt'))({ pids: new Set([7420, 6120]), names });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.rows).toHaveLength(12);
    expect(result.rows).toContainEqual({ protocol: 'tcp', localAddress: '127.0.0.1', localPort: 3845, peerAddress: null, peerPort: null, state: 'LISTEN', pid: 7420, processName: 'node.exe' });
    expect(result.rows).toContainEqual({ protocol: 'tcp', localAddress: '192.168.1.23', localPort: 52344, peerAddress: '140.82.112.21', peerPort: 443, state: 'ESTABLISHED', pid: 6120, processName: 'Claude.exe' });
    expect(result.rows).toContainEqual(expect.objectContaining({ protocol: 'tcp6', localAddress: 'fe80::1c2b:3a4d:5e6f:7a8b', localPort: 139, pid: 4 }));
    expect(result.rows).toContainEqual(expect.objectContaining({ protocol: 'tcp6', localAddress: '::1', localPort: 8931, state: 'LISTEN', pid: 7508, processName: '' }));
    expect(result.rows).toContainEqual({ protocol: 'udp', localAddress: '0.0.0.0', localPort: 5353, peerAddress: null, peerPort: null, state: '', pid: 2280, processName: '' });
    expect(result.rows.find((r) => r.state === 'TIME_WAIT')?.pid).toBeNull();
  });

  it("reports Wine 8's netstat (no PID column, captured) as MCPW_ERR_SOCKET_SOURCE, not as sockets without owners", async () => {
    const text = read('wine8-netstat-ano.txt');
    expect(parseNetstat(text)).toMatchObject({ rows: [], withoutPid: 10, socketLines: 10 });
    const result = await createNetstatSocketSource(async () => text)();
    expect(result).toMatchObject({ ok: false, error: { code: 'MCPW_ERR_SOCKET_SOURCE' } });
    expect(!result.ok && result.error.message).toMatch(/10 of 10 socket line\(s\) without the PID column \(Wine's netstat ignores -o\)/);
  });

  it('reports a netstat that cannot run, or prints no socket line, as MCPW_ERR_SOCKET_SOURCE', async () => {
    const missing = await createNetstatSocketSource(async () => {
      throw Object.assign(new Error('spawn C:\\Windows\\System32\\netstat.exe ENOENT'), { code: 'ENOENT' });
    })();
    expect(missing).toMatchObject({ ok: false, error: { code: 'MCPW_ERR_SOCKET_SOURCE', message: expect.stringContaining('netstat -ano failed: spawn') } });
    const blank = await createNetstatSocketSource(async () => '\r\nActive Connections\r\n\r\n  Proto  Local Address  Foreign Address  State  PID\r\n')();
    expect(blank).toMatchObject({ ok: false, error: { message: expect.stringContaining('printed no socket line') } });
    const garbage = await createNetstatSocketSource(async () => '  TCP    not-an-address   0.0.0.0:0   LISTENING   12\r\n  UDP  1.2.3.4:99999  *:*  5\r\n')();
    expect(garbage).toMatchObject({ ok: false, error: { message: expect.stringContaining('2 socket line(s), none parsed') } });
  });

  it('splits endpoints: v4, bracketed v6 with zone, wildcard', () => {
    expect(splitEndpoint('0.0.0.0:135')).toEqual({ address: '0.0.0.0', port: 135 });
    expect(splitEndpoint('[fe80::1%7]:139')).toEqual({ address: 'fe80::1', port: 139 });
    expect(splitEndpoint('*:*')).toEqual({ address: '*', port: null });
    expect(splitEndpoint('1.2.3.4:70000')).toBeNull();
    expect(splitEndpoint('nonsense')).toBeNull();
  });
});
