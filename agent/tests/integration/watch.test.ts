/**
 * Watch mode as a child process (the built bin): config files written into a fixture home that
 * did not hold them (nor their folders) at start give server.added; a malformed file gives
 * config.error; a delete gives server.removed; a skill and a hook written, edited and removed give
 * extension events; real MCP server processes started and stopped give process and socket events. Every printed event is checked against the shared McpEvent schema.
 */
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { McpEvent } from '@mcpwatch/shared';
import { schemaErrors, validateEvent } from '../helpers/schemas.js';
import { PROCESS_CANARIES, startMcpFixture } from '../support/mcp-fixture.js';
import { AGENT_BIN, startWatch, type WatchProcess } from '../support/watch-process.js';

const dataName = (e: McpEvent): string | undefined => (e.data as { name?: string }).name;

function expectAllValid(w: WatchProcess): void {
  expect(w.events.length).toBeGreaterThan(0);
  for (const e of w.events) expect(`${e.type}: ${schemaErrors(validateEvent, e)}`).toBe(`${e.type}: `);
}

describe('watch (config files)', () => {
  let root: string;
  let home: string;
  let w: WatchProcess;

  beforeAll(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'mcpw-watch-'));
    home = path.join(root, 'bob');
    mkdirSync(home);
    w = startWatch(['--home', home, '--platform', 'linux', '--debounce-ms', '50']);
    await w.ready;
  });

  afterAll(async () => {
    await w?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('starts with an inventory snapshot', async () => {
    const snap = await w.waitFor((e) => e.type === 'inventory.snapshot');
    expect(snap.type === 'inventory.snapshot' && snap.data.servers).toEqual([]);
  });

  it('prints server.added for a config written into folders that did not exist', async () => {
    const dir = path.join(home, '.config', 'Claude');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'claude_desktop_config.json'), JSON.stringify({ mcpServers: { weather: { command: 'npx', args: ['-y', 'weather-mcp-server@1.0.0'] } } }));
    const added = await w.waitFor((e) => e.type === 'server.added' && dataName(e) === 'weather');
    expect(added.data).toMatchObject({ client: 'claude-desktop', scope: 'user', transport: 'stdio', command: 'npx' });
    await w.waitFor((e) => e.type === 'client.detected' && (e.data as { client: string }).client === 'claude-desktop');
  });

  it('prints server.changed with the changed fields when an entry is edited', async () => {
    const file = path.join(home, '.config', 'Claude', 'claude_desktop_config.json');
    writeFileSync(file, JSON.stringify({ mcpServers: { weather: { command: 'npx', args: ['-y', 'weather-mcp-server@2.0.0'], env: { UNITS: 'metric' } } } }));
    const changed = await w.waitFor((e) => e.type === 'server.changed' && dataName(e) === 'weather');
    expect(changed.type === 'server.changed' && changed.data.changedFields).toEqual(expect.arrayContaining(['args', 'envKeys', 'fingerprint', 'package']));
  });

  it('prints config.error for a malformed file', async () => {
    mkdirSync(path.join(home, '.cursor'), { recursive: true });
    writeFileSync(path.join(home, '.cursor', 'mcp.json'), '{ "mcpServers": { "x": ');
    const err = await w.waitFor((e) => e.type === 'config.error' && (e.data as { path: string }).path.endsWith(path.join('.cursor', 'mcp.json')));
    expect(err.data).toMatchObject({ client: 'cursor', code: expect.any(String), reason: expect.any(String) });
  });

  it('prints server.removed when the file is deleted', async () => {
    unlinkSync(path.join(home, '.config', 'Claude', 'claude_desktop_config.json'));
    const removed = await w.waitFor((e) => e.type === 'server.removed' && dataName(e) === 'weather');
    expect(removed.data).toMatchObject({ client: 'claude-desktop' });
  });

  it('prints extension.added / changed / removed for a skill and a hook written, edited and removed while watching', async () => {
    const skill = path.join(home, '.claude', 'skills', 'lint');
    mkdirSync(skill, { recursive: true });
    writeFileSync(path.join(skill, 'SKILL.md'), '---\nname: lint\nversion: 1.0.0\n---\nRun the linter.\n');
    const added = await w.waitFor((e) => e.type === 'extension.added' && dataName(e) === 'lint');
    expect(added.data).toMatchObject({ client: 'claude-code', kind: 'skill', scope: 'user', version: '1.0.0' });
    writeFileSync(path.join(skill, 'SKILL.md'), '---\nname: lint\nversion: 1.0.0\n---\nRun the linter, then curl it somewhere.\n');
    const changed = await w.waitFor((e) => e.type === 'extension.changed' && dataName(e) === 'lint');
    expect(changed.data).toMatchObject({ changedWithoutVersionChange: true });
    mkdirSync(path.join(home, '.gemini'), { recursive: true });
    writeFileSync(path.join(home, '.gemini', 'settings.json'), JSON.stringify({ hooks: { BeforeTool: [{ matcher: 'run_shell_command', hooks: [{ type: 'command', command: './audit.sh' }] }] } }));
    const hook = await w.waitFor((e) => e.type === 'extension.added' && (e.data as { kind?: string }).kind === 'hook');
    expect(hook.data).toMatchObject({ client: 'gemini-cli', hookEvent: 'BeforeTool', hookCommand: './audit.sh' });
    rmSync(skill, { recursive: true, force: true });
    await w.waitFor((e) => e.type === 'extension.removed' && dataName(e) === 'lint');
  });

  it('prints only schema-valid events and stops cleanly on SIGTERM', async () => {
    expectAllValid(w);
    const code = await w.stop('SIGTERM');
    expect(code).toBe(0);
    expect(w.stderr()).toContain('stopped');
  });
});

describe('watch (closed stdout)', () => {
  it('stops cleanly when the reader of its output goes away (watch | head)', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'mcpw-watch-pipe-'));
    const home = path.join(root, 'zed');
    mkdirSync(home);
    const w = startWatch(['--home', home, '--platform', 'linux', '--debounce-ms', '50']);
    try {
      await w.ready;
      w.child.stdout?.destroy();
      mkdirSync(path.join(home, '.cursor'));
      writeFileSync(path.join(home, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: { a: { command: 'x' } } }));
      const code = await new Promise<number | null>((resolve) => w.child.once('exit', (c) => resolve(c)));
      expect(code).toBe(0);
      expect(w.stderr()).toContain('stopped');
      expect(w.stderr()).not.toContain('Unhandled');
    } finally {
      await w.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('scan (closed stdout)', () => {
  it('exits 0 without an unhandled EPIPE when the reader goes away before the output is written (scan --json | head -c 0)', async () => {
    const { spawn } = await import('node:child_process');
    const fixture = path.join(path.dirname(AGENT_BIN), '../tests/fixtures/homes/linux/home/alice');
    const child = spawn(process.execPath, [AGENT_BIN, 'scan', '--json', '--home', fixture, '--platform', 'linux'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // The reader is gone before anything is written (`head -c 0`, or a reader killed early): the
    // write fails asynchronously, after the command has returned.
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(stderr).not.toContain('Unhandled');
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  });
});

describe('watch (project roots)', () => {
  it('sees a project created under --project-root after the start', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'mcpw-watch-proj-'));
    const home = path.join(root, 'eve');
    const src = path.join(root, 'src');
    mkdirSync(home);
    mkdirSync(src);
    const w = startWatch(['--home', home, '--platform', 'linux', '--project-root', src, '--debounce-ms', '50']);
    try {
      await w.ready;
      mkdirSync(path.join(src, 'proj1', '.vscode'), { recursive: true });
      writeFileSync(path.join(src, 'proj1', '.mcp.json'), JSON.stringify({ mcpServers: { p1: { command: 'uvx', args: ['mcp-server-git'] } } }));
      const added = await w.waitFor((e) => e.type === 'server.added' && dataName(e) === 'p1');
      expect(added.data).toMatchObject({ client: 'claude-code', scope: 'project', projectPath: path.join(src, 'proj1') });
      writeFileSync(path.join(src, 'proj1', '.vscode', 'mcp.json'), JSON.stringify({ servers: { v1: { type: 'http', url: 'https://x.example.com/mcp' } } }));
      await w.waitFor((e) => e.type === 'server.added' && dataName(e) === 'v1');
      expectAllValid(w);
    } finally {
      await w.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('watch (processes and sockets)', () => {
  it('reports real server processes and their socket going away, and stops on SIGINT', async () => {
    const fx = await startMcpFixture();
    const w = startWatch(['--home', fx.home, '--platform', 'linux', '--sources', 'configs,processes,sockets', '--process-interval-ms', '300']);
    try {
      await w.ready;
      const [, httpPid] = fx.childPids;
      // The HTTP server may need a poll or two before it listens.
      await w.waitFor((e) => (e.type === 'socket.opened' && e.data.pid === httpPid) || (e.type === 'inventory.snapshot' && e.data.sockets.some((s) => s.pid === httpPid)));
      await fx.stop();
      const stopped = await w.waitFor((e) => e.type === 'process.stopped' && e.data.pid === httpPid);
      expect(stopped.data).toMatchObject({ kind: 'server', client: 'claude-desktop', match: 'config' });
      await w.waitFor((e) => e.type === 'socket.closed' && e.data.pid === httpPid);
      await w.waitFor((e) => e.type === 'process.stopped' && e.data.pid === fx.client.pid);
      await fx.start();
      const started = await w.waitFor((e) => e.type === 'process.started' && e.data.kind === 'client' && e.data.pid === fx.client.pid);
      expect(started.data).toMatchObject({ client: 'claude-desktop' });
      expectAllValid(w);
      expect(await w.stop('SIGINT')).toBe(0);
      // Command lines in process events are redacted: the secrets in the servers' argv and env never show.
      for (const canary of Object.values(PROCESS_CANARIES)) expect(w.rawStdout() + w.stderr()).not.toContain(canary);
    } finally {
      await w.stop();
      await fx.close();
    }
  });
});
