/**
 * Hostile or odd config files through the built CLI (child processes): a named pipe at a config
 * path and a file nested 200,000 levels deep are each that file's config.error; `scan` completes
 * with every other client's servers and findings (and --fail-on still fails on them); `watch`
 * starts, stays responsive and exits on SIGTERM; and a file that turns unparsable under `watch`
 * gives its config.error but no server.removed / finding.resolved for what it held.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { InventoryDocument, McpEvent } from '@mcpwatch/shared';
import { REPO_ROOT } from '../support/mcp-fixture.js';
import { AGENT_BIN, startWatch } from '../support/watch-process.js';

const TOKEN = `ghp_${'A1b2C3d4E5'.repeat(3)}abcdef`;
const dataOf = (e: McpEvent): { name?: string; path?: string; client?: string; code?: string } => e.data as never;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built agent CLI; a hang is killed after 60 s (and then fails the test on its exit code). */
function agent(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [AGENT_BIN, ...args], { cwd: REPO_ROOT, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

function writeJson(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(value));
}

/** A home with Claude Desktop (a secret in env: a critical finding) and the given hostile cursor config. */
function makeHome(root: string, name: string, hostile: (file: string) => void): string {
  const home = path.join(root, name);
  writeJson(path.join(home, '.config', 'Claude', 'claude_desktop_config.json'), {
    mcpServers: { github: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github@1.0.0'], env: { GITHUB_TOKEN: TOKEN } } },
  });
  mkdirSync(path.join(home, '.cursor'), { recursive: true });
  hostile(path.join(home, '.cursor', 'mcp.json'));
  return home;
}

const mkfifo = (file: string): void => void execFileSync('mkfifo', [file]);
const deepJson = (file: string): void => writeFileSync(file, `{"mcpServers": ${'['.repeat(200_000)}`);

let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'mcpw-hostile-cli-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe.each([
  ['a FIFO', mkfifo, 'unreadable'],
  ['a file nested 200,000 levels deep', deepJson, 'too-deep'],
])('scan with %s at ~/.cursor/mcp.json', (label, hostile, code) => {
  it('completes with that file as one config error and every other client intact; --fail-on still fails', async () => {
    const home = makeHome(root, `scan-${code}`, hostile);
    const json = await agent(['scan', '--home', home, '--platform', 'linux', '--json']);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as InventoryDocument;
    expect(doc.errors).toEqual([expect.objectContaining({ path: path.join(home, '.cursor', 'mcp.json'), client: 'cursor', code })]);
    expect(doc.servers.map((s) => `${s.client}/${s.name}`)).toEqual(['claude-desktop/github']);
    expect(doc.findings.some((f) => f.ruleId === 'secret-in-config' && f.subject.serverName === 'github')).toBe(true);
    const failOn = await agent(['scan', '--home', home, '--platform', 'linux', '--fail-on', 'high']);
    expect(failOn.code).toBe(1);
    expect(failOn.stdout).toContain('github');
    expect(failOn.stdout).toContain(code);
  });

  it('watch starts, reports it, keeps watching the other files and exits on SIGTERM', async () => {
    const home = makeHome(root, `watch-${code}`, hostile);
    const w = startWatch(['--home', home, '--platform', 'linux', '--debounce-ms', '50']);
    try {
      await w.ready;
      const err = await w.waitFor((e) => e.type === 'config.error' && dataOf(e).client === 'cursor');
      expect(dataOf(err).code).toBe(code);
      // Responsive: a change elsewhere is still seen.
      writeJson(path.join(home, '.config', 'Claude', 'claude_desktop_config.json'), {
        mcpServers: { github: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github@1.0.0'], env: { GITHUB_TOKEN: TOKEN } }, later: { command: 'uvx', args: ['mcp-server-time'] } },
      });
      await w.waitFor((e) => e.type === 'server.added' && dataOf(e).name === 'later');
      expect(await w.stop('SIGTERM')).toBe(0);
      expect(w.stderr()).toContain('stopped');
    } finally {
      await w.stop('SIGKILL');
    }
  });
});

describe('watch when a good file turns unusable', () => {
  it.each([
    ['nested too deeply', deepJson, 'too-deep'],
    ['a syntax error mid-edit', (f: string) => writeFileSync(f, '{"mcpServers": {"cursor-gh": {"command": '), 'parse'],
    ['replaced by a FIFO', (f: string) => {
      rmSync(f);
      mkfifo(f);
    }, 'unreadable'],
  ])('%s: config.error, and no server.removed or finding.resolved for its servers', async (_label, spoil, code) => {
    const home = makeHome(root, `spoil-${code}`, (f) => writeJson(f, { mcpServers: { 'cursor-gh': { command: 'npx', args: ['-y', 'gh-mcp'], env: { GITHUB_TOKEN: TOKEN } } } }));
    const cursorFile = path.join(home, '.cursor', 'mcp.json');
    const w = startWatch(['--home', home, '--platform', 'linux', '--debounce-ms', '50']);
    try {
      await w.ready;
      const snap = await w.waitFor((e) => e.type === 'inventory.snapshot');
      expect(snap.type === 'inventory.snapshot' && snap.data.servers.map((s) => s.name).sort()).toEqual(['cursor-gh', 'github']);
      spoil(cursorFile);
      await w.waitFor((e) => e.type === 'config.error' && dataOf(e).path === cursorFile && dataOf(e).code === code);
      // A later change to another file: its pass comes after the spoiled file's, so anything the
      // spoiled file caused has been printed by the time this arrives.
      writeJson(path.join(home, '.config', 'Claude', 'claude_desktop_config.json'), {
        mcpServers: { github: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github@1.0.0'], env: { GITHUB_TOKEN: TOKEN } }, marker: { command: 'uvx', args: ['mcp-server-time'] } },
      });
      await w.waitFor((e) => e.type === 'server.added' && dataOf(e).name === 'marker');
      expect(w.events.filter((e) => e.type === 'server.removed' || e.type === 'finding.resolved' || e.type === 'client.removed')).toEqual([]);
      // The file repaired without the server: now its removal is true and is reported.
      if (code === 'unreadable') rmSync(cursorFile);
      writeJson(cursorFile, { mcpServers: {} });
      await w.waitFor((e) => e.type === 'server.removed' && dataOf(e).name === 'cursor-gh');
      expect(await w.stop('SIGTERM')).toBe(0);
    } finally {
      await w.stop('SIGKILL');
    }
  });
});

describe('watch when the file that records projects turns unusable', () => {
  it('keeps the servers of the projects it recorded (they were not read, not removed)', async () => {
    const home = path.join(root, 'projects-home');
    const project = path.join(root, 'work', 'app');
    const claudeJson = path.join(home, '.claude.json');
    writeJson(claudeJson, { projects: { [project]: {} } });
    writeJson(path.join(project, '.mcp.json'), { mcpServers: { 'proj-db': { command: 'npx', args: ['-y', 'db-mcp'] } } });
    writeJson(path.join(home, '.cursor', 'mcp.json'), { mcpServers: {} });
    const w = startWatch(['--home', home, '--platform', 'linux', '--debounce-ms', '50']);
    try {
      await w.ready;
      const snap = await w.waitFor((e) => e.type === 'inventory.snapshot');
      expect(snap.type === 'inventory.snapshot' && snap.data.servers.map((s) => s.name)).toEqual(['proj-db']);
      writeFileSync(claudeJson, `{"projects": ${'{"a":'.repeat(100_000)}`);
      await w.waitFor((e) => e.type === 'config.error' && dataOf(e).path === claudeJson);
      writeJson(path.join(home, '.cursor', 'mcp.json'), { mcpServers: { marker: { command: 'uvx', args: ['mcp-server-time'] } } });
      await w.waitFor((e) => e.type === 'server.added' && dataOf(e).name === 'marker');
      expect(w.events.filter((e) => e.type === 'server.removed' || e.type === 'client.removed')).toEqual([]);
      expect(await w.stop('SIGTERM')).toBe(0);
    } finally {
      await w.stop('SIGKILL');
    }
  });
});

describe('scan output with terminal escapes in a config file', () => {
  /** What a terminal may act on: C0 (but line breaks between rows/lines), DEL, C1, bidi and other format characters. */
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/u;
  const NAMES = ['evil\u001b]0;pwned\u0007\u001b[2J', 'c1\u009b31mred', 'bidi\u202egnp.exe', 'line\r\nbreak\u0000', 'bell\u0007\b\bback'];

  it('prints no raw escape in the table or in --json, and --json still holds the exact names', async () => {
    const home = path.join(root, 'escapes-home');
    writeJson(path.join(home, '.cursor', 'mcp.json'), {
      mcpServers: Object.fromEntries(NAMES.map((n) => [n, { command: `npx\u001b[8m`, args: ['-y', `pkg\u009d0;t\u009c`], cwd: `/tmp/\u202ex` }])),
    });
    const table = await agent(['scan', '--home', home, '--platform', 'linux']);
    expect(table.code).toBe(0);
    expect(table.stdout).not.toMatch(RAW);
    expect(table.stdout).toContain('evil\\x1b]0;pwned\\x07');
    expect(table.stdout).toContain('bidi\\u202egnp.exe');
    const json = await agent(['scan', '--home', home, '--platform', 'linux', '--json']);
    expect(json.stdout).not.toMatch(RAW);
    expect((JSON.parse(json.stdout) as InventoryDocument).servers.map((s) => s.name).sort()).toEqual([...NAMES].sort());
  });
});
