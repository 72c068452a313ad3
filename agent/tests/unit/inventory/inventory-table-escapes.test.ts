/**
 * The scan table shows terminal escape sequences, C1 bytes, control characters and bidi overrides
 * from an inventory as visible escapes: nothing from a config file reaches the terminal raw.
 */
import { INVENTORY_SCHEMA_ID, jsonTerminalSafe, terminalSafe, type InventoryDocument } from '@mcpwatch/shared';
import { formatInventoryTable } from '../../../src/inventory/inventory-table.js';
import { finding, proc, server } from '../../helpers/records.js';

/** Everything a terminal may act on: C0 (but the table's own line breaks), DEL, C1, format/bidi characters, separators. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/u;

/** Hostile strings: ESC/CSI colour + clear screen, OSC title and clipboard write (BEL and ST ended), C1 CSI, BS, CR, LF, NUL, bidi override. */
const HOSTILE = [
  'a\u001b[31mred\u001b[0m\u001b[2J',
  'b\u001b]0;owned\u0007\u001b]52;c;ZXZpbA==\u001b\\',
  'c\u009b31m\u0085\u0090x\u009c',
  'd\b\b\bX\rY\nZ\u0000\u007f',
  'e\u202etxt.exe\u2066\u200b\u2028',
];

function hostileDoc(i: number): InventoryDocument {
  const h = (s: string) => `${HOSTILE[i]}${s}`;
  return {
    schema: INVENTORY_SCHEMA_ID,
    generatedAt: h('2026'),
    host: { hostname: h('host'), platform: 'linux', users: [h('u')] },
    clients: [{ client: h('cursor'), displayName: h('Cursor'), user: h('u'), configPaths: [h('/p')], serverCount: 1 }],
    servers: [server({ name: h('srv'), client: h('c'), command: h('npx'), args: [h('arg')], configPath: h('/home/u/.cursor/mcp.json') }), server({ name: 'remote', url: h('https://x/') })],
    processes: [proc({ pid: 7, cmd: h('node x'), user: h('u'), client: h('cl') })],
    sockets: [{ pid: 7, processName: h('node'), protocol: 'tcp', localAddress: h('127.0.0.1'), localPort: 1, peerAddress: h('peer'), peerPort: 2, kind: 'remote', allInterfaces: false, client: h('cl') }],
    findings: [{ ...finding('f'), title: h('title'), ruleId: h('rule'), subject: { serverName: h('srv'), client: h('c') } }],
    errors: [{ path: h('/e.json'), code: h('parse'), reason: h('bad'), line: 1, column: 1, entry: h('entry') }],
  };
}

describe('terminal escapes in the scan table', () => {
  it.each(HOSTILE.map((_, i) => [i]))('case %i: no raw control, C1 or bidi character, and one line per row', (i) => {
    const text = formatInventoryTable(hostileDoc(i));
    expect(text).not.toMatch(RAW);
    // Exactly the table's own lines: summary, 6 sections of title + header + rule + rows, blank separators.
    const rows = [1, 2, 1, 1, 1, 1];
    expect(text.split('\n').length).toBe(1 + rows.reduce((n, r) => n + 3 + r, 0) + 6 + 1);
  });

  it('shows what was there as visible escapes', () => {
    const text = [0, 1, 2, 3, 4].map((i) => formatInventoryTable(hostileDoc(i))).join('');
    for (const visible of ['\\x1b[31mred', '\\x1b]0;owned\\x07', '\\x9b31m', '\\x08', '\\r', '\\n', '\\x00', '\\u202etxt.exe']) expect(text).toContain(visible);
  });
});

describe('shared terminal text helpers', () => {
  it('terminalSafe leaves ordinary text alone, Unicode included', () => {
    const ok = 'C:\\Users\\zoë\\mcp.json — 東京 ✓ "quoted" 😀';
    expect(terminalSafe(ok)).toBe(ok);
  });

  it('jsonTerminalSafe keeps the JSON value and leaves no raw C1 or bidi character', () => {
    const value = { name: HOSTILE.join('|'), astral: '\u{e0001}tag' };
    const json = jsonTerminalSafe(JSON.stringify(value));
    expect(json).not.toMatch(RAW);
    expect(JSON.parse(json)).toEqual(value);
  });
});
