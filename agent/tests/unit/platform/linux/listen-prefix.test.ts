/**
 * readProcNetListeners (platform/linux/socket-source.ts): only the listening part of
 * /proc/net/tcp[6] is read. Against a fake /proc tree made of real files (a table whose
 * established part is far longer than the listening part), and against this machine's /proc.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseProcNet, readProcNet, readProcNetListeners } from '../../../../src/platform/linux/socket-source.js';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
const line = (i: number, state: string, port: number, inode: number): string =>
  `${String(i).padStart(4)}: 0100007F:${port.toString(16).toUpperCase().padStart(4, '0')} ${state === '0A' ? '00000000:0000' : '0100007F:1F90'} ${state} 00000000:00000000 00:00000000 00000000  1000        0 ${inode} 1 0000000000000000 100 0 0 10 0`;

describe('readProcNetListeners on a fake /proc', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'mcpw-listen-prefix-'));
    mkdirSync(path.join(root, 'net'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('returns every listener, stops within the established part, and ends at a line end', () => {
    const lines = [HEADER];
    for (let i = 0; i < 40; i++) lines.push(line(i, '0A', 3000 + i, 1000 + i));
    for (let i = 40; i < 2040; i++) lines.push(line(i, i % 3 === 0 ? '06' : '01', 40000 + i, 5000 + i));
    const full = `${lines.join('\n')}\n`;
    writeFileSync(path.join(root, 'net', 'tcp'), full);

    const text = readProcNetListeners(root, 'tcp');

    expect(text).not.toBeNull();
    expect(text!.length).toBeLessThan(full.length / 10);
    expect(text!.endsWith('\n')).toBe(true);
    expect(parseProcNet(text!, 'tcp', 'LISTEN').map((s) => s.inode)).toEqual(parseProcNet(full, 'tcp', 'LISTEN').map((s) => s.inode));
  });

  it('reads a table of listeners only to its end, and a table longer than one read', () => {
    const lines = [HEADER];
    for (let i = 0; i < 300; i++) lines.push(line(i, '0A', 2000 + i, 100 + i));
    writeFileSync(path.join(root, 'net', 'tcp6'), `${lines.join('\n')}\n`);

    const text = readProcNetListeners(root, 'tcp6');

    expect(parseProcNet(text!, 'tcp6', 'LISTEN')).toHaveLength(300);
  });

  it('is null when the table cannot be read', () => {
    expect(readProcNetListeners(root, 'tcp')).toBeNull();
  });
});

(os.platform() === 'linux' ? describe : describe.skip)('readProcNetListeners on this machine', () => {
  const listen = (srv: Server): Promise<number> => new Promise((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as { port: number }).port)));

  it('holds this process\'s listener; its listeners come before any other state, as in the full table', async () => {
    const srv = createServer();
    const port = await listen(srv);
    try {
      const prefix = readProcNetListeners('/proc', 'tcp');
      const full = readProcNet('/proc', 'tcp');

      expect(prefix).not.toBeNull();
      const listeners = parseProcNet(prefix!, 'tcp', 'LISTEN');
      expect(listeners.some((s) => s.local.port === port && s.local.address === '127.0.0.1')).toBe(true);
      // The kernel's order, which the early stop relies on: no LISTEN line after another state.
      const states = parseProcNet(full!, 'tcp').map((s) => s.state);
      const firstOther = states.findIndex((s) => s !== 'LISTEN');
      expect(firstOther < 0 || states.slice(firstOther).every((s) => s !== 'LISTEN')).toBe(true);
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});
