import { INVENTORY_SCHEMA_ID, type InventoryDocument } from '@mcpwatch/shared';
import { formatInventoryTable, renderTable } from '../../../src/inventory/inventory-table.js';
import { finding, npmPackage, proc, server } from '../../helpers/records.js';

function doc(over: Partial<InventoryDocument> = {}): InventoryDocument {
  return {
    schema: INVENTORY_SCHEMA_ID,
    generatedAt: '2026-01-01T00:00:00.000Z',
    host: { hostname: 'box', platform: 'linux', users: ['u'] },
    clients: [], servers: [], processes: [], sockets: [], findings: [], errors: [],
    ...over,
  };
}

describe('renderTable', () => {
  it('aligns columns and cuts long cells', () => {
    const text = renderTable(['A', 'LONGER'], [['x', 1], ['yyyy', 'z'.repeat(80)]]);
    const lines = text.split('\n');
    expect(lines[0]).toBe('A     LONGER');
    expect(lines[1]).toMatch(/^-{4} {2}-+$/);
    expect(lines[3]).toContain('…');
    expect((lines[3] ?? '').length).toBeLessThan(70);
  });
});

describe('formatInventoryTable', () => {
  it('prints each section with its rows, findings by severity, and errors', () => {
    const text = formatInventoryTable(
      doc({
        clients: [{ client: 'cursor', displayName: 'Cursor', user: 'u', configPaths: ['/h/.cursor/mcp.json'], serverCount: 1 }],
        servers: [server({ name: 'everything', client: 'cursor', command: 'npx', args: ['-y', '@modelcontextprotocol/server-everything'], package: npmPackage('@modelcontextprotocol/server-everything') })],
        processes: [proc({ pid: 77, cmd: 'npm exec x' })],
        findings: [finding('a', 'low'), finding('b', 'critical')],
        errors: [{ path: '/h/.vscode/mcp.json', code: 'parse', reason: 'unexpected token', line: 3, column: 1 }],
      }),
    );
    expect(text).toContain('1 clients, 1 servers, 1 processes, 0 sockets, 2 findings, 1 errors');
    expect(text).toMatch(/CLIENTS \(1\)\nCLIENT +NAME/);
    expect(text).toMatch(/cursor +user +everything +stdio +npx -y @modelcontextprotocol\/server-everything +npm:@modelcontextprotocol\/server-everything +enabled/);
    expect(text).toMatch(/PROCESSES \(1\)[\s\S]*77 +server/);
    expect(text.indexOf('critical')).toBeLessThan(text.indexOf('low '));
    expect(text).toMatch(/parse +\/h\/\.vscode\/mcp\.json +3 +unexpected token/);
    expect(text).not.toContain('SOCKETS');
  });

  it('says none for empty sections', () => {
    expect(formatInventoryTable(doc())).toMatch(/SERVERS \(0\)\n {2}none/);
  });
});
