/**
 * extractEntries: sections per catalog location; one bad entry never drops its neighbours; wrong
 * container shapes are reported; list names, bare plugin maps, OpenCode's nested layout and
 * plugin.json path references.
 */
import { extractEntries, MAX_ENTRIES_PER_FILE } from '../../../src/discovery/index.js';
import { clientById, type ConfigLocation } from '../../../src/catalog/index.js';

function location(client: string, id: string): ConfigLocation {
  const l = clientById(client)?.locations.find((x) => x.id === id);
  if (!l) throw new Error(`no location ${client}/${id}`);
  return l;
}
const meta = (client: string) => ({ client, configPath: '/cfg', user: 'u', projectPath: null });

describe('extractEntries', () => {
  it('keeps the neighbours of an entry that is not an object and reports it with its name', () => {
    const doc = { mcpServers: { good1: { command: 'a' }, bad: 'npx server', nul: null, good2: { url: 'https://x' }, arr: [1] } };
    const r = extractEntries(doc, location('cursor', 'user'), meta('cursor'));
    expect(r.entries.map((e) => e.name)).toEqual(['good1', 'good2']);
    expect(r.errors).toEqual([
      expect.objectContaining({ code: 'invalid-entry', entry: 'bad', path: '/cfg', client: 'cursor', reason: 'server entry "bad" in mcpServers is a string, not an object; skipped' }),
      expect.objectContaining({ code: 'invalid-entry', entry: 'nul', reason: expect.stringContaining('is null') }),
      expect.objectContaining({ code: 'invalid-entry', entry: 'arr', reason: expect.stringContaining('is an array') }),
    ]);
  });

  it('reports a container of the wrong shape as invalid-section', () => {
    const r = extractEntries({ mcpServers: [{ command: 'x' }] }, location('claude-desktop', 'user'), meta('claude-desktop'));
    expect(r.entries).toEqual([]);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'invalid-section', reason: 'mcpServers should be an object of servers but is an array' })]);
    const l = extractEntries({ mcpServers: { a: {} } }, location('continue', 'user-yaml'), meta('continue'));
    expect(l.errors).toEqual([expect.objectContaining({ code: 'invalid-section', reason: 'mcpServers should be a list of servers but is an object' })]);
  });

  it('ignores servers outside the sections the client reads', () => {
    const doc = { fetch: { command: 'uvx' }, mcp: { servers: { x: { command: 'y' } } }, context_servers: { z: { command: 'q' } } };
    expect(extractEntries(doc, location('zed', 'user-linux'), meta('zed')).entries.map((e) => e.name)).toEqual(['z']);
    expect(extractEntries(doc, location('cursor', 'user'), meta('cursor')).entries).toEqual([]);
  });

  it('reads Claude Code top-level and per-project servers with the project path from the key', () => {
    const doc = {
      mcpServers: { top: { command: 'a' } },
      projects: { '/home/u/p1': { mcpServers: { local: { command: 'b' } } }, '/home/u/p2': { allowedTools: [] } },
    };
    const r = extractEntries(doc, location('claude-code', 'user'), meta('claude-code'));
    expect(r.entries.map((e) => [e.name, e.scope, e.projectPath, e.fileContext?.section])).toEqual([
      ['top', 'user', null, 'mcpServers'],
      ['local', 'project', '/home/u/p1', 'projects.*.mcpServers'],
    ]);
  });

  it('reads VS Code settings in both spellings and records input ids', () => {
    const doc = { 'mcp.servers': { flat: { command: 'a' } }, mcp: { servers: { nested: { command: 'b' } }, inputs: [{ id: 'tok' }, { id: 7 }, 'junk'] } };
    const r = extractEntries(doc, location('vscode', 'user-settings'), meta('vscode'));
    expect(r.entries.map((e) => [e.name, e.fileContext])).toEqual([
      ['nested', { section: 'mcp.servers', inputIds: ['tok'] }],
      ['flat', { section: 'mcp.servers', inputIds: ['tok'] }],
    ]);
  });

  it('names list items by name, then uses, then position', () => {
    const doc = { mcpServers: [{ name: 'a', command: 'x' }, { uses: 'anthropic/memory-mcp' }, { command: 'y' }, 'bad'] };
    const r = extractEntries(doc, location('continue', 'user-yaml'), meta('continue'));
    expect(r.entries.map((e) => [e.name, e.dialect])).toEqual([
      ['a', 'continue'],
      ['anthropic/memory-mcp', 'continue'],
      ['mcpServers[2]', 'continue'],
    ]);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'invalid-entry', entry: 'mcpServers[3]' })]);
  });

  it('reads Continue legacy experimental.modelContextProtocolServers and JSON maps as standard entries', () => {
    const doc = { experimental: { modelContextProtocolServers: [{ transport: { type: 'stdio', command: 'uvx', args: ['x'] } }] }, mcpServers: { m: { command: 'npx' } } };
    const r = extractEntries(doc, location('continue', 'user-json'), meta('continue'));
    expect(r.entries.map((e) => [e.name, e.dialect])).toEqual([
      ['experimental.modelContextProtocolServers[0]', 'continue'],
      ['m', 'standard'],
    ]);
  });

  it('reads a plugin .mcp.json written with or without the mcpServers wrapper', () => {
    const l = location('claude-code', 'plugin-cache-mcp');
    expect(extractEntries({ mcpServers: { a: { command: 'x' } } }, l, meta('claude-code')).entries.map((e) => e.name)).toEqual(['a']);
    expect(extractEntries({ b: { command: 'x' }, c: { url: 'https://y' } }, l, meta('claude-code')).entries.map((e) => e.name)).toEqual(['b', 'c']);
    expect(extractEntries({ name: 'not-a-server-map' }, l, meta('claude-code')).entries).toEqual([]);
  });

  it('accepts plugin.json mcpServers naming another file without an error, and returns the name for discovery to read', () => {
    const r = extractEntries({ name: 'p', mcpServers: './mcp.json' }, location('claude-code', 'installed-plugin-manifest'), meta('claude-code'));
    expect(r).toEqual({ entries: [], errors: [], references: ['./mcp.json'] });
  });

  it('reads OpenCode mcp maps and the nested mcp.servers layout, but not a server named servers', () => {
    const l = location('opencode', 'user-opencode-json');
    expect(extractEntries({ mcp: { servers: { a: { type: 'local', command: ['x'] } } } }, l, meta('opencode')).entries.map((e) => e.name)).toEqual(['a']);
    expect(extractEntries({ mcp: { servers: { type: 'remote', url: 'https://x' } } }, l, meta('opencode')).entries.map((e) => e.name)).toEqual(['servers']);
  });

  it('stops at MAX_ENTRIES_PER_FILE and says so once', () => {
    const servers: Record<string, unknown> = {};
    for (let i = 0; i < MAX_ENTRIES_PER_FILE + 3; i++) servers[`s${i}`] = { command: 'x' };
    const r = extractEntries({ mcpServers: servers }, location('cursor', 'user'), meta('cursor'));
    expect(r.entries).toHaveLength(MAX_ENTRIES_PER_FILE);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'too-many-entries' })]);
  });
});
