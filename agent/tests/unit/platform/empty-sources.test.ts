/**
 * The portable sources (ps-list: macOS and the Linux fallback; systeminformation sockets: macOS
 * and the Linux fallback) never turn a failure into an empty list: a failing tool and an empty
 * answer are both coded errors (MCPW_ERR_PROCESS_SOURCE, MCPW_ERR_SOCKET_SOURCE).
 */
import { psListSource } from '../../../src/platform/ps-list-source.js';
import { systemInformationSockets } from '../../../src/platform/system-information-sockets.js';

describe('portable sources: failures and empty answers are errors', () => {
  it('ps-list rows become process rows', async () => {
    const result = await psListSource(async () => [{ pid: 1, ppid: 0, name: 'launchd', cmd: '/sbin/launchd', uid: 0 }]);
    expect(result).toEqual({ ok: true, rows: [{ pid: 1, ppid: 0, name: 'launchd', cmd: '/sbin/launchd', path: null, uid: 0, startedAt: null }] });
  });

  it('ps-list failing or listing nothing is MCPW_ERR_PROCESS_SOURCE', async () => {
    const failing = await psListSource(async () => {
      throw new Error('spawn ps ENOENT');
    });
    expect(failing).toMatchObject({ ok: false, error: { code: 'MCPW_ERR_PROCESS_SOURCE', message: 'ps-list failed: spawn ps ENOENT' } });
    expect(await psListSource(async () => [])).toMatchObject({ ok: false, error: { code: 'MCPW_ERR_PROCESS_SOURCE', message: expect.stringContaining('listed no process at all') } });
  });

  it('systeminformation answering [] (its tool missing) or throwing is MCPW_ERR_SOCKET_SOURCE', async () => {
    expect(await systemInformationSockets(async () => [])).toMatchObject({ ok: false, error: { code: 'MCPW_ERR_SOCKET_SOURCE', message: expect.stringContaining('listed no socket at all') } });
    const failing = await systemInformationSockets(async () => {
      throw new Error('lsof: not found');
    });
    expect(failing).toMatchObject({ ok: false, error: { code: 'MCPW_ERR_SOCKET_SOURCE', message: 'systeminformation failed: lsof: not found' } });
  });

  it('systeminformation connections become socket rows', async () => {
    const result = await systemInformationSockets(async () => [
      { protocol: 'tcp', localAddress: '127.0.0.1', localPort: '3845', peerAddress: '*', peerPort: '*', state: 'LISTEN', pid: 812, process: 'node' },
    ]);
    expect(result).toEqual({ ok: true, rows: [{ protocol: 'tcp', localAddress: '127.0.0.1', localPort: 3845, peerAddress: null, peerPort: null, state: 'LISTEN', pid: 812, processName: 'node' }] });
  });
});
