import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parseOptions, scanOptionsFrom } from '../../src/commands/cli-options.js';
import { UsageError } from '../../src/errors.js';
import { COMMANDS, lazyCommand } from '../../src/commands/index.js';
import type { ProcessSource } from '../../src/platform/source-types.js';
import { runCli } from '../helpers/cli-run.js';
import { schemaErrors, validateInventory } from '../helpers/schemas.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const LINUX_HOME = path.join(HERE, '../fixtures/homes/linux/home/alice');
const LINUX_SYSTEM = path.join(HERE, '../fixtures/homes/linux/system');

describe('option parsing', () => {
  const allowed = ['json', 'home', 'platform', 'project-root', 'sources', 'fail-on', 'process-interval-ms'];

  it('parses flags, values, =values, repeatable and list options', () => {
    const { values, positionals } = parseOptions(
      ['--json', '--home', '/h', '--project-root=/a', '--project-root', '/b', '--sources', 'configs,processes', '--process-interval-ms', '1000'],
      allowed,
    );
    expect(values).toEqual({ json: true, home: '/h', 'project-root': ['/a', '/b'], sources: ['configs', 'processes'], 'process-interval-ms': 1000 });
    expect(positionals).toEqual([]);
  });

  it.each([
    [['--nope'], 'unknown option --nope'],
    [['-x'], 'unknown option -x'],
    [['--home'], '--home needs a value'],
    [['--home', '--json'], '--home needs a value'],
    [['--json=1'], '--json takes no value'],
    [['--process-interval-ms', '10'], 'must be an integer >= 200'],
    [['--platform', 'a', '--platform', 'b'], '--platform given twice'],
  ])('%j → UsageError %s', (argv, message) => {
    expect(() => parseOptions(argv, allowed)).toThrow(UsageError);
    expect(() => parseOptions(argv, allowed)).toThrow(message);
  });

  it('validates platform, sources, fail-on and directories', () => {
    expect(() => scanOptionsFrom({ platform: 'beos' }, 'linux')).toThrow('--platform must be one of darwin, win32, linux');
    expect(() => scanOptionsFrom({ sources: ['configs', 'files'] }, 'linux')).toThrow('--sources takes a list');
    expect(() => scanOptionsFrom({ 'fail-on': 'info' }, 'linux')).toThrow('--fail-on must be one of');
    expect(() => scanOptionsFrom({ home: '/definitely/not/here' }, 'linux')).toThrow('not an existing directory');
  });

  it('turns processes and sockets off for a fixture home unless --sources asks', () => {
    expect(scanOptionsFrom({}, 'linux').sources).toEqual({ configs: true, processes: true, sockets: true });
    expect(scanOptionsFrom({ home: LINUX_HOME }, 'linux').sources).toEqual({ configs: true, processes: false, sockets: false });
    expect(scanOptionsFrom({ platform: 'win32' }, 'linux').sources).toEqual({ configs: true, processes: false, sockets: false });
    expect(scanOptionsFrom({ home: LINUX_HOME, sources: ['configs', 'processes'] }, 'linux').sources).toEqual({ configs: true, processes: true, sockets: false });
  });
});

describe('command table', () => {
  it('loads a command module only when the command runs', async () => {
    let loads = 0;
    const cmd = lazyCommand('demo', 'a demo', async () => {
      loads++;
      return { name: 'demo', summary: 'x', options: [], run: async (argv) => argv.length };
    });
    expect(loads).toBe(0);
    const io = { stdout: () => undefined, stderr: () => undefined, env: {}, signal: new AbortController().signal };
    expect(await cmd.run(['a', 'b'], io)).toBe(2);
    expect(loads).toBe(1);
  });

  it('lists every command in the usage text', async () => {
    const help = await runCli(['--help']);
    for (const c of COMMANDS) expect(help.stdout).toContain(`  ${c.name}`);
    expect(COMMANDS.map((c) => c.name)).toEqual(expect.arrayContaining(['scan', 'watch']));
  });
});

describe('mcpwatch-agent CLI (in-process)', () => {
  const fixture = ['--home', LINUX_HOME, '--system-root', LINUX_SYSTEM, '--platform', 'linux'];

  it('prints usage and exits 2 without a command, 0 with --help', async () => {
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('usage: mcpwatch-agent <command>');
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/scan +print the MCP inventory/);
    const scanHelp = await runCli(['scan', '--help']);
    expect(scanHelp.code).toBe(0);
    expect(scanHelp.stdout).toContain('--fail-on low|medium|high|critical');
  });

  it.each([
    [['frobnicate'], 'unknown command "frobnicate"'],
    [['scan', '--bogus'], 'unknown option --bogus'],
    [['scan', '--platform', 'plan9'], '--platform must be one of'],
    [['scan', '--home', '/no/such/dir'], '--home /no/such/dir: not an existing directory'],
    [['scan', 'extra'], 'unexpected argument "extra"'],
    [['watch', '--fail-on', 'high'], 'unknown option --fail-on'],
  ])('%j exits 2 with a message', async (argv, message) => {
    const r = await runCli(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  it('scans a fixture home as a table', async () => {
    const r = await runCli(['scan', ...fixture]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^mcpwatch inventory of .+ \(linux\)/);
    expect(r.stdout).toMatch(/CLIENTS \(\d+\)/);
    expect(r.stdout).toMatch(/claude-desktop +user +desktop-fs +stdio +npx -y @modelcontextprotocol\/server-filesystem/);
    expect(r.stdout).toMatch(/FINDINGS \(\d+\)\nSEVERITY/);
    expect(r.stdout).toContain('ERRORS (');
  });

  it('prints a schema-valid InventoryDocument with --json and never touches processes for a fixture', async () => {
    let psCalls = 0;
    const processSource: ProcessSource = async () => {
      psCalls++;
      return { ok: true, rows: [] };
    };
    const r = await runCli(['scan', '--json', ...fixture], { deps: { processSource } });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(schemaErrors(validateInventory, doc)).toBe('');
    expect(doc.schema).toBe('mcpwatch.inventory/v1');
    expect(doc.host.users).toEqual(['alice']);
    const fs = doc.servers.find((s: { name: string }) => s.name === 'desktop-fs');
    expect(fs).toMatchObject({ client: 'claude-desktop', scope: 'user', transport: 'stdio', command: 'npx', url: null });
    expect(fs.configPath).toMatch(/claude_desktop_config\.json$/);
    expect(Array.isArray(fs.envKeys)).toBe(true);
    expect(doc.processes).toEqual([]);
    expect(psCalls).toBe(0);
  });

  it('exits 1 when a finding is at or above --fail-on, 0 when none is', async () => {
    const high = await runCli(['scan', '--json', '--fail-on', 'high', ...fixture]);
    const doc = JSON.parse(high.stdout);
    expect(doc.findings.some((f: { severity: string }) => f.severity === 'critical' || f.severity === 'high')).toBe(true);
    expect(high.code).toBe(1);
    expect(high.stderr).toContain('findings at or above high');
    const clean = await runCli(['scan', '--fail-on', 'low', '--home', path.join(HERE, '../fixtures/homes/linux/system'), '--platform', 'linux']);
    expect(clean.code).toBe(0);
  });

  it('lists processes from an injected source when --sources asks for them', async () => {
    const processSource: ProcessSource = async () => ({
      ok: true,
      rows: [
        { pid: 900, ppid: 1, name: 'claude-desktop', cmd: '/opt/claude-desktop/claude-desktop', uid: null, startedAt: null },
        { pid: 901, ppid: 900, name: 'node', cmd: 'npm exec @modelcontextprotocol/server-filesystem@2025.1.1 /tmp', uid: null, startedAt: null },
      ],
    });
    const r = await runCli(['scan', '--json', '--sources', 'configs,processes', ...fixture], { deps: { processSource } });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    const fsKey = doc.servers.find((s: { name: string }) => s.name === 'desktop-fs').serverKey;
    expect(doc.processes).toEqual([
      expect.objectContaining({ pid: 900, kind: 'client', client: 'claude-desktop' }),
      expect.objectContaining({ pid: 901, kind: 'server', client: 'claude-desktop', serverKey: fsKey, match: 'config' }),
    ]);
  });

  it('reports a failing process source as an error record, not a crash', async () => {
    const processSource: ProcessSource = async () => ({ ok: false, error: new Error('ps exploded') });
    const r = await runCli(['scan', '--json', '--sources', 'processes', ...fixture], { deps: { processSource } });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.servers).toEqual([]);
    expect(doc.errors).toEqual([expect.objectContaining({ path: '(processes)', code: 'collect-failed', reason: 'ps exploded' })]);
  });
});
