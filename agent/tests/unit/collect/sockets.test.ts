import { collectSockets, remoteTargets } from '../../../src/collect/sockets.js';
import { createHostResolver } from '../../../src/collect/host-resolver.js';
import type { SocketRow } from '../../../src/platform/source-types.js';
import { proc, row, server } from '../../helpers/records.js';

function sock(over: Partial<SocketRow>): SocketRow {
  return { protocol: 'tcp', localAddress: '127.0.0.1', localPort: 0, peerAddress: null, peerPort: null, state: 'LISTEN', pid: null, processName: '', ...over };
}

describe('remoteTargets', () => {
  it('takes host and port from url and remoteUrl, with scheme default ports', () => {
    const a = server({ name: 'a', transport: 'http', url: 'https://mcp.example.com/mcp' });
    const b = server({ name: 'b', command: 'npx', wrapper: 'mcp-remote', remoteUrl: 'http://[::1]:8080/sse' });
    const c = server({ name: 'c', transport: 'http', url: 'not a url' });
    expect(remoteTargets([a, b, c]).map((t) => [t.host, t.port])).toEqual([
      ['mcp.example.com', 443],
      ['::1', 8080],
    ]);
  });
});

describe('collectSockets', () => {
  const remote = server({ name: 'remote', client: 'cursor', transport: 'http', url: 'https://mcp.example.com/mcp' });
  const local = server({ name: 'local', command: 'node', args: ['/srv/x.js'] });
  const processes = [
    proc({ pid: 10, kind: 'server', serverKey: local.serverKey, match: 'config', client: 'claude-desktop' }),
    proc({ pid: 20, kind: 'client', client: 'cursor', match: null }),
  ];
  const rows = [row(10, 1, 'node /srv/x.js'), row(20, 1, 'cursor'), row(21, 20, 'cursor --type=utility'), row(30, 1, 'curl')];
  const resolved = new Map([['mcp.example.com', ['203.0.113.7']]]);

  it('labels listeners of server processes and flags all-interfaces binds', () => {
    const out = collectSockets({
      sockets: [
        sock({ pid: 10, localAddress: '::', localPort: 3001 }),
        sock({ pid: 10, localAddress: '127.0.0.1', localPort: 3002 }),
        sock({ pid: 30, localAddress: '0.0.0.0', localPort: 80 }),
        sock({ pid: null, localAddress: '0.0.0.0', localPort: 22 }),
      ],
      rows, processes, servers: [remote, local], resolved,
    });
    expect(out.map((s) => [s.pid, s.kind, s.protocol, s.localPort, s.allInterfaces, s.serverKey === local.serverKey, s.client])).toEqual([
      [10, 'listen', 'tcp6', 3001, true, true, 'claude-desktop'],
      [10, 'listen', 'tcp', 3002, false, true, 'claude-desktop'],
    ]);
  });

  it('labels connections from a client process tree to configured remote hosts only', () => {
    const out = collectSockets({
      sockets: [
        sock({ pid: 21, state: 'ESTABLISHED', localAddress: '10.0.0.2', localPort: 50000, peerAddress: '::ffff:203.0.113.7', peerPort: 443 }),
        sock({ pid: 21, state: 'ESTABLISHED', localAddress: '10.0.0.2', localPort: 50001, peerAddress: '203.0.113.7', peerPort: 8443 }),
        sock({ pid: 21, state: 'ESTABLISHED', localAddress: '10.0.0.2', localPort: 50002, peerAddress: '198.51.100.1', peerPort: 443 }),
        sock({ pid: 30, state: 'ESTABLISHED', localAddress: '10.0.0.2', localPort: 50003, peerAddress: '203.0.113.7', peerPort: 443 }),
      ],
      rows, processes, servers: [remote, local], resolved,
    });
    expect(out).toEqual([
      expect.objectContaining({ pid: 21, kind: 'remote', localPort: 50000, peerPort: 443, serverKey: remote.serverKey, client: 'cursor', allInterfaces: false }),
    ]);
  });
});

describe('createHostResolver', () => {
  it('caches lookups, passes IP literals through and maps failures to no addresses', async () => {
    const calls: string[] = [];
    const resolve = createHostResolver({
      lookup: async (h) => {
        calls.push(h);
        if (h === 'bad.example') throw new Error('ENOTFOUND');
        return ['192.0.2.1'];
      },
    });
    const first = await resolve(['MCP.example.com', 'bad.example', '10.1.2.3', '[::1]']);
    expect(Object.fromEntries(first)).toEqual({ 'mcp.example.com': ['192.0.2.1'], 'bad.example': [], '10.1.2.3': ['10.1.2.3'], '::1': ['::1'] });
    await resolve(['mcp.example.com', 'bad.example']);
    expect(calls).toEqual(['mcp.example.com', 'bad.example']);
  });

  it('bounds the number of names resolved per call', async () => {
    const resolve = createHostResolver({ lookup: async () => ['192.0.2.1'], maxHosts: 2 });
    expect((await resolve(['a.x', 'b.x', 'c.x'])).size).toBe(2);
  });
});
