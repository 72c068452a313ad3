/**
 * The hook's server map: the running agent writes one file per user from its inventory (plus the
 * machine-wide entries), atomically and only on change; the hook resolves the name the client gave
 * to the inventory's fingerprint (unique, by the project of its cwd, by user scope), and keeps an
 * ambiguous name ambiguous: no fingerprint, the candidates recorded, a block of any candidate
 * blocks. The journal record carries the fingerprint the inventory uses; secret values reach no file.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import ajvModule from 'ajv';
import { ToolCalledData } from '@mcpwatch/shared';
import { HookServerMapWriter } from '../../../src/hooks/hook-server-map-writer.js';
import { withHookSupport } from '../../../src/hooks/hook-findings.js';
import { HookStateBoard } from '../../../src/hooks/hook-state-board.js';
import type { ScanRulesInput } from '../../../src/inventory/scan.js';
import { readServerMap, resolveServer, splitByKnownServer, SERVER_MAP_DIR } from '../../../src/hooks/hook-server-map.js';
import { runHook } from '../../../src/hooks/hook-runner.js';
import { readJournal } from '../../../src/hooks/hook-journal.js';
import { npmPackage, server } from '../../helpers/records.js';

type AjvClass = typeof ajvModule.default;
const AjvCtor = ((ajvModule as unknown as { default?: AjvClass }).default ?? ajvModule) as AjvClass;
const validate = new AjvCtor({ allErrors: true, strict: false }).compile(ToolCalledData);

const CANARY = 'CANARY-map-51c0-SECRET';

// Alice: `github` in her user settings and, another one, in project /work/app's .mcp.json; `db` in two projects.
const aliceUser = server({ client: 'claude-code', name: 'github', user: 'alice', configPath: '/home/alice/.claude.json', command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'], package: npmPackage('@modelcontextprotocol/server-github'), envKeys: ['GITHUB_TOKEN'] });
const aliceProject = server({ client: 'claude-code', name: 'github', user: 'alice', scope: 'project', configPath: '/work/app/.mcp.json', projectPath: '/work/app', command: 'npx', args: ['-y', 'evil-github-mcp', '--token', CANARY], package: npmPackage('evil-github-mcp') });
const dbA = server({ client: 'claude-code', name: 'db', user: 'alice', scope: 'project', configPath: '/work/a/.mcp.json', projectPath: '/work/a', command: 'npx', args: ['-y', 'pg-mcp'], package: npmPackage('pg-mcp') });
const dbB = server({ client: 'claude-code', name: 'db', user: 'alice', scope: 'project', configPath: '/work/b/.mcp.json', projectPath: '/work/b', command: 'npx', args: ['-y', 'mysql-mcp'], package: npmPackage('mysql-mcp') });
const bobServer = server({ client: 'claude-code', name: 'secret-crm', user: 'bob', configPath: '/home/bob/.claude.json', command: 'crm-mcp' });
const managed = server({ client: 'claude-code', name: 'corp-search', user: null, scope: 'managed', configPath: '/etc/claude-code/managed-mcp.json', url: 'https://search.corp.example/mcp', transport: 'http' });
const geminiUnderscore = server({ client: 'gemini-cli', name: 'my_db', user: 'alice', configPath: '/home/alice/.gemini/settings.json', command: 'my-db-mcp' });
const copilotDashed = server({ client: 'copilot-cli', name: 'my-crm', user: 'alice', configPath: '/home/alice/.copilot/mcp-config.json', command: 'crm-mcp' });
const cursorEntry = server({ client: 'cursor', name: 'GitHub Tools', user: 'alice', configPath: '/home/alice/.cursor/mcp.json', command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'] });
const ALL = [aliceUser, aliceProject, dbA, dbB, bobServer, managed, geminiUnderscore, copilotDashed, cursorEntry];

function stateDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-map-'));
}

function written(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fs.readdirSync(path.join(dir, SERVER_MAP_DIR))) out[f] = fs.readFileSync(path.join(dir, SERVER_MAP_DIR, f), 'utf8');
  return out;
}

test('one file per user holding that user\'s entries and the machine-wide ones; rewritten only on change; no secret values', () => {
  const dir = stateDir();
  const errors: Error[] = [];
  const w = new HookServerMapWriter({ stateDir: dir, onError: (e) => errors.push(e), platform: 'linux' });
  expect(w.update(ALL)).toBe(3);
  const files = written(dir);
  expect(Object.keys(files).sort()).toEqual(['_.json', 'alice.json', 'bob.json']);
  const alice = readServerMap(dir, 'alice')!;
  expect(alice.entries.map((e) => e.n).sort()).toEqual(['GitHub Tools', 'corp-search', 'db', 'db', 'github', 'github', 'my-crm', 'my_db']);
  expect(files['alice.json']).not.toContain('secret-crm'); // Bob's servers are not in Alice's file
  expect(readServerMap(dir, 'bob')!.entries.map((e) => e.n).sort()).toEqual(['corp-search', 'secret-crm']);
  expect(readServerMap(dir, 'carol')!.entries.map((e) => e.n)).toEqual(['corp-search']); // no file: the machine-wide one
  for (const text of Object.values(files)) {
    expect(text).not.toContain(CANARY);
    expect(text).not.toContain('GITHUB_TOKEN');
  }
  expect(fs.statSync(path.join(dir, SERVER_MAP_DIR, 'alice.json')).mode & 0o777).toBe(0o644 & ~process.umask());

  // Same inventory: nothing written. Bob's server gone: his file goes, Alice's stays as it was.
  expect(w.update(ALL)).toBe(0);
  const before = files['alice.json'];
  expect(w.update(ALL.filter((s) => s !== bobServer))).toBe(1);
  expect(Object.keys(written(dir)).sort()).toEqual(['_.json', 'alice.json']);
  expect(written(dir)['alice.json']).toBe(before);
  expect(errors).toEqual([]);
});

test('a home-keyed file: a hook finds its user\'s servers by its home folder even when the account name differs', () => {
  const dir = stateDir();
  const w = new HookServerMapWriter({ stateDir: dir, onError: (e) => { throw e; }, platform: 'linux' });
  w.update(ALL, [{ user: 'alice', home: '/home/alice' }, { user: 'bob', home: '/home/bob' }]);
  // The hook runs as account "a.smith" whose home is /home/alice: it reads that home's file.
  expect(readServerMap(dir, 'a.smith', '/home/alice')!.entries.map((e) => e.n)).toContain('github');
  expect(readServerMap(dir, 'a.smith', '/home/alice')!.entries.map((e) => e.n)).not.toContain('secret-crm');
  expect(readServerMap(dir, 'a.smith', '/home/nobody')!.entries.map((e) => e.n)).toEqual(['corp-search']);
});

test('resolution: unique, the project of the cwd, user scope outside projects, ambiguous between two projects, none', () => {
  const dir = stateDir();
  new HookServerMapWriter({ stateDir: dir, onError: (e) => { throw e; }, platform: 'linux' }).update(ALL);
  const map = readServerMap(dir, 'alice');
  expect(resolveServer(map, { client: 'claude-code', name: 'corp-search' })).toMatchObject({ match: 'unique', fingerprint: managed.fingerprint });
  expect(resolveServer(map, { client: 'claude-code', name: 'github', cwd: '/work/app/src' })).toMatchObject({ match: 'project', fingerprint: aliceProject.fingerprint, packageName: 'evil-github-mcp' });
  expect(resolveServer(map, { client: 'claude-code', name: 'github', cwd: '/home/alice/notes' })).toMatchObject({ match: 'user', fingerprint: aliceUser.fingerprint });
  const db = resolveServer(map, { client: 'claude-code', name: 'db', cwd: '/tmp' });
  expect(db).toMatchObject({ match: 'ambiguous', fingerprint: null });
  expect(db.candidates).toEqual([dbA.fingerprint, dbB.fingerprint].sort());
  expect(db.candidatePackages.sort()).toEqual(['mysql-mcp', 'pg-mcp']);
  expect(resolveServer(map, { client: 'claude-code', name: 'db', cwd: '/work/b' })).toMatchObject({ match: 'project', fingerprint: dbB.fingerprint });
  expect(resolveServer(map, { client: 'claude-code', name: 'unknown' }).match).toBe('none');
  expect(resolveServer(map, { client: 'cursor', name: 'github' }).match).toBe('none'); // another client's servers do not count
  expect(resolveServer(map, { client: 'cursor', name: '@modelcontextprotocol/server-github' })).toMatchObject({ match: 'unique', fingerprint: cursorEntry.fingerprint }); // Cursor's label
  expect(splitByKnownServer(map, 'gemini-cli', 'mcp_my_db_run_query')).toEqual({ server: 'my_db', tool: 'run_query' });
  expect(splitByKnownServer(map, 'copilot-cli', 'my-crm-list_items')).toEqual({ server: 'my-crm', tool: 'list_items' });
  expect(splitByKnownServer(map, 'copilot-cli', 'unknown-tool')).toBeNull();
  expect(resolveServer(null, { client: 'claude-code', name: 'github' }).match).toBe('none');
});

test('a damaged map file is no map: the hook records the name only and still answers', () => {
  const dir = stateDir();
  fs.mkdirSync(path.join(dir, SERVER_MAP_DIR));
  fs.writeFileSync(path.join(dir, SERVER_MAP_DIR, 'alice.json'), '{"v":1,"entries":[{"c":');
  expect(readServerMap(dir, 'alice')).toBeNull();
  const r = runHook({ client: 'claude-code', input: { text: JSON.stringify({ session_id: 's', cwd: '/work', hook_event_name: 'PreToolUse', tool_name: 'mcp__github__create_issue', tool_input: {} }) }, stateDir: dir, user: 'alice' });
  expect(r.exitCode).toBe(0);
  expect(r.record).toMatchObject({ server: 'github', tool: 'create_issue' });
  expect(r.record?.serverFingerprint).toBeUndefined();
});

describe('the hook record and the policy use the map', () => {
  const dir = stateDir();
  new HookServerMapWriter({ stateDir: dir, onError: (e) => { throw e; }, platform: 'linux' }).update(ALL);
  const call = (name: string, cwd: string, client: 'claude-code' | 'gemini-cli' = 'claude-code') =>
    runHook({
      client,
      input: { text: JSON.stringify({ session_id: 's', cwd, hook_event_name: client === 'claude-code' ? 'PreToolUse' : 'BeforeTool', tool_name: name, tool_input: { q: CANARY } }) },
      stateDir: dir,
      user: 'alice',
      now: () => new Date('2026-12-06T10:00:00Z'),
    });

  test('fingerprint of the project server, and a block by its package denies it in enforce', () => {
    fs.writeFileSync(path.join(dir, 'tool-policy.json'), JSON.stringify({ mode: 'enforce', blockedServers: ['evil-*'] }));
    const inProject = call('mcp__github__create_issue', '/work/app');
    expect(inProject.record).toMatchObject({ server: 'github', serverFingerprint: aliceProject.fingerprint, decision: 'deny', rule: 'blocked-server' });
    expect(JSON.parse(inProject.stdout).hookSpecificOutput.permissionDecision).toBe('deny');
    const outside = call('mcp__github__create_issue', '/home/alice');
    expect(outside.record).toMatchObject({ serverFingerprint: aliceUser.fingerprint, decision: 'allow' });
  });

  test('an ambiguous name: candidates recorded, no fingerprint; blocking one candidate blocks; an allow-list by fingerprint cannot vouch for it', () => {
    fs.writeFileSync(path.join(dir, 'tool-policy.json'), JSON.stringify({ mode: 'enforce', blockedServers: [dbB.fingerprint] }));
    const r = call('mcp__db__query', '/tmp');
    expect(r.record?.serverFingerprint).toBeUndefined();
    expect(r.record?.serverCandidates).toEqual([dbA.fingerprint, dbB.fingerprint].sort());
    expect(r.record).toMatchObject({ decision: 'deny', rule: 'blocked-server' });
    fs.writeFileSync(path.join(dir, 'tool-policy.json'), JSON.stringify({ mode: 'enforce', allowedServers: [dbA.fingerprint, dbB.fingerprint] }));
    const allowList = call('mcp__db__query', '/tmp');
    expect(allowList.record).toMatchObject({ decision: 'deny', rule: 'not-allowed-server' });
    expect(allowList.record?.reason).toContain('2 different configured servers');
    // In the project, the name is one server: the allow-list by fingerprint applies.
    expect(call('mcp__db__query', '/work/a/x').record).toMatchObject({ serverFingerprint: dbA.fingerprint, decision: 'allow' });
  });

  test('Gemini CLI: a server name with underscores is split by the configured names', () => {
    fs.rmSync(path.join(dir, 'tool-policy.json'), { force: true });
    const r = call('mcp_my_db_run_query', '/work', 'gemini-cli');
    expect(r.record).toMatchObject({ server: 'my_db', tool: 'run_query', serverFingerprint: geminiUnderscore.fingerprint });
  });

  test('every journal record is valid tool.called data and holds no argument value', () => {
    const { records } = readJournal(dir, { file: 0, offset: 0 });
    expect(records.length).toBeGreaterThanOrEqual(6);
    for (const rec of records) expect(validate(rec)).toBe(true);
    expect(JSON.stringify(records)).not.toContain(CANARY);
  });
});

test('run mode writes the map after the evaluation that asked for it (next event-loop turn), once for evaluations in between, with the latest servers', async () => {
  const dir = stateDir();
  const writes: number[] = [];
  const writer = new HookServerMapWriter({ stateDir: dir, onError: (e) => { throw e; }, platform: 'linux' });
  const update = writer.update.bind(writer);
  writer.update = (servers, homes, now) => {
    const n = update(servers, homes, now);
    writes.push(n);
    return n;
  };
  const evaluate = withHookSupport(() => [], { board: new HookStateBoard(), serverMap: writer, options: () => ({}) });
  const input = (servers: typeof ALL) => ({ ctx: { platform: 'linux', homes: [] }, files: [], servers, processes: [], sockets: [] }) as unknown as ScanRulesInput;
  expect(evaluate(input(ALL))).toEqual([]);
  expect(fs.existsSync(path.join(dir, SERVER_MAP_DIR))).toBe(false); // not written inside the evaluation
  evaluate(input(ALL.filter((s) => s !== bobServer)));
  await new Promise((r) => setImmediate(r));
  expect(writes).toEqual([2]); // one write, of the latest servers: no bob.json
  expect(Object.keys(written(dir)).sort()).toEqual(['_.json', 'alice.json']);
  evaluate(input(ALL));
  await new Promise((r) => setImmediate(r));
  expect(writes).toEqual([2, 1]);
  expect(readServerMap(dir, 'bob')!.entries.map((e) => e.n).sort()).toEqual(['corp-search', 'secret-crm']);
});
