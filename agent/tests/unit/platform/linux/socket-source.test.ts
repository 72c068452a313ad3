import { decodeProcAddress, parseProcNet } from '../../../../src/platform/linux/socket-source.js';

describe('/proc/net parsing', () => {
  it.each([
    ['0100007F:0CEA', '127.0.0.1', 3306],
    ['00000000:1F90', '0.0.0.0', 8080],
    ['00000000000000000000000001000000:18EB', '::1', 6379],
    ['00000000000000000000000000000000:0BB9', '::', 3001],
    ['0000000000000000FFFF00000100007F:1F90', '127.0.0.1', 8080],
    ['B80D0120000000000000000001000000:0050', '2001:db8::1', 80],
  ])('%s → %s:%d', (hex, address, port) => {
    expect(decodeProcAddress(hex)).toEqual({ address, port });
  });

  it('reads states and inodes and skips bad lines', () => {
    const text = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 172959 1 0 100 0 0 10 0',
      '   1: 0F02000A:C350 0771CBCB:01BB 01 00000000:00000000 00:00000000 00000000  1000        0 208135 1 0 100 0 0 10 0',
      'garbage',
    ].join('\n');
    expect(parseProcNet(text, 'tcp')).toEqual([
      { protocol: 'tcp', local: { address: '127.0.0.1', port: 3306 }, peer: { address: '0.0.0.0', port: 0 }, state: 'LISTEN', inode: 172959 },
      { protocol: 'tcp', local: { address: '10.0.2.15', port: 50000 }, peer: { address: '203.203.113.7', port: 443 }, state: 'ESTABLISHED', inode: 208135 },
    ]);
  });
});
