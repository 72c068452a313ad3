import { EMPTY_INVENTORY, changedFields, diffInventories, type DiffableInventory } from '../../../src/inventory/diff.js';
import { finding, proc, server } from '../../helpers/records.js';

const NOW = new Date('2026-01-02T03:04:05.000Z');

function inv(over: Partial<DiffableInventory>): DiffableInventory {
  return { ...EMPTY_INVENTORY, ...over };
}

describe('diffInventories', () => {
  it('reports added, changed and removed servers by serverKey', () => {
    const a = server({ name: 'a', command: 'npx', args: ['-y', 'pkg-a'] });
    const b = server({ name: 'b', command: 'npx', args: ['-y', 'pkg-b'] });
    const b2 = { ...b, args: ['-y', 'pkg-b@2'], envKeys: ['TOKEN'] };
    const c = server({ name: 'c', url: 'https://x.example/mcp', transport: 'http' });
    const events = diffInventories(inv({ servers: [a, b] }), inv({ servers: [b2, c] }), 'ep1', NOW);
    expect(events.map((e) => [e.type, (e.data as { name: string }).name])).toEqual([
      ['server.removed', 'a'],
      ['server.changed', 'b'],
      ['server.added', 'c'],
    ]);
    const changed = events[1];
    expect(changed?.type === 'server.changed' && changed.data.changedFields).toEqual(['args', 'envKeys']);
    for (const e of events) {
      expect(e).toMatchObject({ v: 2, endpointId: 'ep1', time: NOW.toISOString() });
      expect(e.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    }
  });

  it('reports nothing for equal inventories', () => {
    const s = server({ name: 'a', command: 'x' });
    const p = proc({ pid: 10, startedAt: 't' });
    const full = inv({ servers: [s], processes: [p], findings: [finding('f1')] });
    expect(diffInventories(full, { ...full, servers: [{ ...s }] }, 'ep', NOW)).toEqual([]);
  });

  it('treats a reused pid with a new start time as a stopped and a started process', () => {
    const before = proc({ pid: 42, startedAt: '2026-01-01T00:00:00.000Z' });
    const after = proc({ pid: 42, startedAt: '2026-01-01T00:05:00.000Z' });
    const types = diffInventories(inv({ processes: [before] }), inv({ processes: [after] }), 'ep', NOW).map((e) => e.type);
    expect(types).toEqual(['process.stopped', 'process.started']);
  });

  it('reports clients, sockets, findings and only new config errors', () => {
    const client = { client: 'cursor', displayName: 'Cursor', user: 'u', configPaths: ['/h/.cursor/mcp.json'], serverCount: 1 };
    const sock = { pid: 5, processName: 'node', protocol: 'tcp' as const, localAddress: '0.0.0.0', localPort: 3001, kind: 'listen' as const, allInterfaces: true };
    const err = { path: '/h/.cursor/mcp.json', code: 'parse', reason: 'bad json', line: 3, column: 4 };
    const prev = inv({ findings: [finding('f1')], errors: [err] });
    const next = inv({ clients: [client], sockets: [sock], findings: [finding('f2')], errors: [err, { ...err, line: 9 }] });
    const types = diffInventories(prev, next, 'ep', NOW).map((e) => e.type);
    expect(types).toEqual(['config.error', 'client.detected', 'socket.opened', 'finding.resolved', 'finding.raised']);
    const back = diffInventories(next, prev, 'ep', NOW).map((e) => e.type);
    expect(back).toEqual(['client.removed', 'socket.closed', 'finding.resolved', 'finding.raised']);
  });

  it('limits the comparison to the scope asked for', () => {
    const next = inv({ servers: [server({ name: 'a', command: 'x' })], processes: [proc({ pid: 1 })] });
    expect(diffInventories(EMPTY_INVENTORY, next, 'ep', NOW, { configs: true }).map((e) => e.type)).toEqual(['server.added']);
    expect(diffInventories(EMPTY_INVENTORY, next, 'ep', NOW, { runtime: true }).map((e) => e.type)).toEqual(['process.started']);
  });
});

describe('changedFields', () => {
  it('lists the top-level fields that differ, treating undefined as null', () => {
    const a = server({ name: 'a', command: 'x' });
    expect(changedFields(a, { ...a, wrapper: undefined })).toEqual([]);
    expect(changedFields(a, { ...a, disabled: true, cwd: '/w' })).toEqual(['cwd', 'disabled']);
  });
});
