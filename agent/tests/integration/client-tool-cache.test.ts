/**
 * Clients' tool caches on disk: VS Code's `mcpToolCache` in real SQLite `state.vscdb` files (made
 * with better-sqlite3 the way VS Code's storage keeps them: ItemTable(key, value)), in fake homes
 * laid out per OS (platform injected). Both cache layouts are read; a corrupt file is one coded
 * error, reported once; tool events carry the source and the file.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { McpEvent, ServerEntry, ToolRecord } from '@mcpwatch/shared';
import { ClientToolCacheReader, userDataDirs } from '../../src/tools/client-tool-cache.js';
import { ToolWatcher } from '../../src/tools/tool-watcher.js';
import { schemaErrors, validateEvent } from '../helpers/schemas.js';
import type { Platform } from '../../src/types.js';

const CANARY = 'CANARY-e5-vscode-cache-4471';

function stateDb(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.exec('CREATE TABLE IF NOT EXISTS ItemTable (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)');
  db.prepare('INSERT INTO ItemTable (key, value) VALUES (?, ?)').run('mcpToolCache', JSON.stringify(value));
  db.prepare('INSERT INTO ItemTable (key, value) VALUES (?, ?)').run('workbench.panel.width', '300');
  db.close();
}

let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'mcpw-cache-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.each(['linux', 'darwin', 'win32'] as Platform[])('VS Code tool caches (%s layout)', (platform) => {
  it('reads both layouts from global and workspace storage, and reports a corrupt file once', async () => {
    const home = path.join(root, platform, 'home');
    const user = userDataDirs(platform, home)[0]!.dir;
    stateDb(path.join(user, 'globalStorage', 'state.vscdb'), {
      extensionServers: [],
      serverTools: [['mcp.config.usrlocal.github', { serverName: 'GitHub', serverInstructions: 'Use for issues', tools: [
        { name: 'create_issue', description: `Create an issue ${CANARY}`, inputSchema: { type: 'object' }, annotations: { destructiveHint: false } },
        { name: 'run_workflow', description: 'Run a shell command in CI', inputSchema: { type: 'object', properties: { command: { type: 'string' } } } },
      ] }]],
    });
    stateDb(path.join(user, 'workspaceStorage', 'ws1', 'state.vscdb'), [['mcp.config.ws0.notes', { tools: [{ name: 'add_note', description: 'Adds a note', inputSchema: { type: 'object' } }] }]]);
    mkdirSync(path.join(user, 'workspaceStorage', 'ws2'), { recursive: true });
    writeFileSync(path.join(user, 'workspaceStorage', 'ws2', 'state.vscdb'), 'this is not a database');

    const direct = new ClientToolCacheReader().read(platform, [home]);
    expect(direct.servers.map((s) => [s.definitionId, s.tools.map((t) => t.name)])).toEqual([
      ['mcp.config.usrlocal.github', ['create_issue', 'run_workflow']],
      ['mcp.config.ws0.notes', ['add_note']],
    ]);
    expect(direct.errors).toEqual([expect.objectContaining({ code: 'cache-unreadable', path: path.join(user, 'workspaceStorage', 'ws2', 'state.vscdb') })]);

    const events: McpEvent[] = [];
    const errors: string[] = [];
    const github = { client: 'vscode', name: 'github', fingerprint: 'fp-gh', serverKey: 'sk-gh' } as ServerEntry;
    const w = new ToolWatcher({
      endpointId: 'ep-cache', stateDir: path.join(root, platform, 'state'), socketSource: async () => ({ ok: true, rows: [] }),
      knowledge: () => ({ mcpPids: new Set<number>(), servers: [github] }),
      clientCaches: { platform, homes: () => [home] },
      onEvent: (e) => events.push(e), onError: (e) => errors.push(e.code),
    });
    await w.pollNow();
    await w.pollNow();
    await w.stop();
    const added = events.filter((e) => e.type === 'tool.added').map((e) => e.data as ToolRecord);
    expect(added.map((t) => [t.name, t.serverId, t.serverKey, t.source])).toEqual([
      ['create_issue', 'fp-gh', 'sk-gh', 'client-cache'],
      ['run_workflow', 'fp-gh', 'sk-gh', 'client-cache'],
      ['add_note', 'client-cache:vscode:mcp.config.ws0.notes', null, 'client-cache'],
    ]);
    expect(added[0]!.sourcePath).toBe(path.join(user, 'globalStorage', 'state.vscdb'));
    expect(added[1]!.capabilities).toEqual(['shell-exec']);
    expect(events).toHaveLength(3); // the second poll changed nothing
    for (const e of events) expect(schemaErrors(validateEvent, e)).toBe('');
    expect(JSON.stringify(events)).not.toContain(CANARY);
    expect(errors).toEqual(['MCPW_ERR_TOOL_CACHE']);
    expect(w.ruleViews().find((v) => v.record.name === 'create_issue')?.description).toContain(CANARY);
  });
});
