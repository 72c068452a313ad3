import { classifyProcesses, type ClassifyInput } from '../../../src/collect/processes.js';
import { buildServerMatchers, matchServers } from '../../../src/collect/server-matcher.js';
import { looksLikeMcpServer, matchClientSignature, type ClientProcessSignature } from '../../../src/collect/process-signatures.js';
import { splitCommandLine, stripCmdWrapper } from '../../../src/collect/process-command-line.js';
import { npmPackage, row, server } from '../../helpers/records.js';

const SIGNATURES: ClientProcessSignature[] = [
  { client: 'claude-desktop', names: ['claude-desktop'], pathPatterns: [/\/Claude\.app\/Contents\/MacOS\/Claude$/i], cmdlinePatterns: [] },
  { client: 'claude-code', names: ['claude'], pathPatterns: [], cmdlinePatterns: [/@anthropic-ai\/claude-code/i] },
  { client: 'cursor', names: ['cursor.exe'], pathPatterns: [], cmdlinePatterns: [] },
];

function input(over: Partial<ClassifyInput>): ClassifyInput {
  return {
    rows: [],
    servers: [],
    signatures: SIGNATURES,
    redact: (s) => s.replace(/ghp_[A-Za-z0-9]+/g, '[REDACTED]'),
    resolveUser: (uid) => (uid === 1000 ? 'alice' : null),
    ...over,
  };
}

describe('command-line helpers', () => {
  it('splits with quotes and strips cmd /c', () => {
    expect(splitCommandLine(`node "C:\\Program Files\\x.js" --a 'b c'`)).toEqual(['node', 'C:\\Program Files\\x.js', '--a', 'b c']);
    expect(stripCmdWrapper(['cmd.exe', '/s', '/c', 'npx', '-y', 'pkg'])).toEqual(['npx', '-y', 'pkg']);
  });
});

describe('client signatures', () => {
  it('match by executable name, path pattern or command line', () => {
    expect(matchClientSignature({ name: 'claude-desktop', cmd: '/opt/claude-desktop/claude-desktop' }, SIGNATURES)).toBe('claude-desktop');
    expect(matchClientSignature({ name: 'Claude', cmd: 'x', path: '/Applications/Claude.app/Contents/MacOS/Claude' }, SIGNATURES)).toBe('claude-desktop');
    expect(matchClientSignature({ name: 'node', cmd: 'node /usr/lib/node_modules/@anthropic-ai/claude-code/cli.js' }, SIGNATURES)).toBe('claude-code');
    expect(matchClientSignature({ name: 'Cursor.exe', cmd: '' }, SIGNATURES)).toBe('cursor');
    expect(matchClientSignature({ name: 'node', cmd: '/tmp/bin/claude-desktop --inspect', path: '/usr/bin/node' }, SIGNATURES)).toBe('claude-desktop');
    expect(matchClientSignature({ name: 'bash', cmd: 'bash' }, SIGNATURES)).toBeNull();
  });
});

describe('server name patterns', () => {
  it.each([
    ['npm exec @modelcontextprotocol/server-filesystem /tmp', true],
    ['/usr/bin/python3 /home/u/.local/bin/mcp-server-fetch', true],
    ['node /opt/github-mcp-server/index.js', true],
    ['docker run -i --rm mcp/fetch', true],
    ['npx mcp-remote https://x.example/sse', true],
    ['node /app/node_modules/@modelcontextprotocol/sdk/dist/x.js', false],
    ['mcpwatch-agent watch', false],
    ['bash', false],
  ])('%s → %s', (cmd, expected) => {
    expect(looksLikeMcpServer(cmd)).toBe(expected);
  });
});

describe('matchServers', () => {
  const everything = server({ name: 'everything', command: 'npx', args: ['-y', '@modelcontextprotocol/server-everything'], package: npmPackage('@modelcontextprotocol/server-everything') });
  const fetchPy = server({ name: 'fetch', command: 'uvx', args: ['mcp-server-fetch'], package: { ecosystem: 'pypi', name: 'mcp-server-fetch', version: null, pinned: false, runner: 'uvx' } });
  const script = server({ name: 'local', command: 'node', args: ['/home/u/tools/weather/build/index.js'] });
  const pyMod = server({ name: 'pymod', command: 'python', args: ['-m', 'my_mcp.server'] });
  const binary = server({ name: 'bin', command: '/usr/local/bin/acme-mcp', args: ['--stdio'] });
  const docker = server({ name: 'dock', command: 'docker', args: ['run', '-i', '--rm', 'mcp/fetch'], package: { ecosystem: 'oci', name: 'mcp/fetch', version: null, pinned: false, runner: 'docker' } });
  const winCmd = server({ name: 'win', command: 'cmd', args: ['/c', 'npx', '-y', 'some-mcp@1.2.3'] });
  const matchers = buildServerMatchers([everything, fetchPy, script, pyMod, binary, docker, winCmd]);
  const names = (cmd: string) => matchServers(cmd, matchers, null).map((s) => s.name);

  it.each([
    ['npm exec @modelcontextprotocol/server-everything', 'everything'],
    ['node /usr/lib/node_modules/npm/bin/npx-cli.js -y @modelcontextprotocol/server-everything@latest', 'everything'],
    ['node /root/.npm/_npx/ab12/node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'everything'],
    ['uv tool uvx mcp-server-fetch', 'fetch'],
    ['/home/u/.cache/uv/archive-v0/x/bin/python /home/u/.cache/uv/archive-v0/x/bin/mcp-server-fetch', 'fetch'],
    ['node /home/u/tools/weather/build/index.js', 'local'],
    ['/usr/bin/python3.12 -m my_mcp.server', 'pymod'],
    ['/usr/local/bin/acme-mcp --stdio', 'bin'],
    ['docker run -i --rm mcp/fetch', 'dock'],
    ['npm exec some-mcp@1.2.3', 'win'],
  ])('%s → %s', (cmd, expected) => {
    expect(names(cmd)).toContain(expected);
  });

  it('does not match unrelated processes', () => {
    expect(names('node /home/u/other/build/index.js')).toEqual([]);
    expect(names('python -m http.server')).toEqual([]);
    expect(names('/usr/bin/vim notes.txt')).toEqual([]);
  });

  it('tells one binary configured twice apart by its args', () => {
    const a = server({ name: 'a', command: '/opt/bin/mcp-server-everything', args: ['stdio'] });
    const b = server({ name: 'b', command: '/opt/bin/mcp-server-everything', args: ['streamableHttp'] });
    const m = buildServerMatchers([a, b]);
    expect(matchServers('node /opt/bin/mcp-server-everything streamableHttp', m, null)[0]?.name).toBe('b');
    expect(matchServers('node /opt/bin/mcp-server-everything stdio', m, null)[0]?.name).toBe('a');
  });

  it('prefers the entry of the client found up the parent chain', () => {
    const inCursor = { ...everything, client: 'cursor', serverKey: 'cursor-everything-key' };
    const m = buildServerMatchers([everything, inCursor]);
    expect(matchServers('npm exec @modelcontextprotocol/server-everything', m, 'cursor')[0]?.client).toBe('cursor');
    expect(matchServers('npm exec @modelcontextprotocol/server-everything', m, 'claude-desktop')[0]?.client).toBe('claude-desktop');
  });
});

describe('classifyProcesses', () => {
  const everything = server({ name: 'everything', command: 'npx', args: ['-y', '@modelcontextprotocol/server-everything'], package: npmPackage('@modelcontextprotocol/server-everything') });

  it('reports clients, config-matched servers with their descendants and client link, pattern servers; nothing else', () => {
    const rows = [
      row(1, 0, '/sbin/init'),
      row(100, 1, '/opt/claude-desktop/claude-desktop', { name: 'claude-desktop' }),
      row(101, 100, '/opt/claude-desktop/claude-desktop --type=renderer', { name: 'claude-desktop' }),
      row(110, 100, 'npm exec @modelcontextprotocol/server-everything', { name: 'npm exec @mod' }),
      row(111, 110, 'sh -c mcp-server-everything', { name: 'sh' }),
      row(112, 111, 'node /root/.npm/_npx/x/node_modules/.bin/mcp-server-everything', { name: 'node' }),
      row(200, 1, 'node /srv/github-mcp-server/index.js --token ghp_abcdefghijklmnopqrstuvwxyz0123456789', { uid: 0 }),
      row(300, 1, 'bash'),
      row(400, 1, 'node /usr/bin/mcpwatch-agent watch'),
    ];
    const out = classifyProcesses(input({ rows, servers: [everything], excludePids: new Set([400]) }));
    expect(out.map((p) => [p.pid, p.kind, p.client, p.serverKey ? 'cfg' : null, p.match])).toEqual([
      [100, 'client', 'claude-desktop', null, null],
      [110, 'server', 'claude-desktop', 'cfg', 'config'],
      [111, 'server', 'claude-desktop', 'cfg', 'config'],
      [112, 'server', 'claude-desktop', 'cfg', 'config'],
      [200, 'server', null, null, 'pattern'],
    ]);
    expect(out.find((p) => p.pid === 112)?.serverKey).toBe(everything.serverKey);
    expect(out.find((p) => p.pid === 110)?.user).toBe('alice');
    const github = out.find((p) => p.pid === 200);
    expect(github?.cmd).toBe('node /srv/github-mcp-server/index.js --token [REDACTED]');
    expect(github?.user).toBeNull();
  });

  it('credits a server to the editor extension that configured it (Cline inside VS Code)', () => {
    const signatures: ClientProcessSignature[] = [
      { client: 'vscode', names: ['code'], pathPatterns: [], cmdlinePatterns: [] },
      { client: 'cline', names: [], pathPatterns: [], cmdlinePatterns: [], hostedBy: ['vscode'] },
    ];
    const inCline = server({ name: 'brave', client: 'cline', command: 'npx', args: ['-y', '@acme/server-brave'], package: npmPackage('@acme/server-brave') });
    const inCursor = { ...inCline, client: 'cursor', serverKey: 'cursor-brave-key-000' };
    const rows = [row(20, 1, '/usr/share/code/code', { name: 'code' }), row(21, 20, 'npm exec @acme/server-brave')];
    const out = classifyProcesses(input({ rows, servers: [inCursor, inCline], signatures }));
    expect(out.find((p) => p.pid === 21)).toMatchObject({ client: 'cline', serverKey: inCline.serverKey, match: 'config' });
  });

  it('re-matches remembered rows when the configured servers change', () => {
    const rows = [row(10, 1, 'npm exec @modelcontextprotocol/server-everything')];
    expect(classifyProcesses(input({ rows, servers: [] }))[0]).toMatchObject({ match: 'pattern', serverKey: null });
    expect(classifyProcesses(input({ rows, servers: [everything] }))[0]).toMatchObject({ match: 'config', serverKey: everything.serverKey });
    expect(classifyProcesses(input({ rows, servers: [] }))[0]).toMatchObject({ match: 'pattern', serverKey: null });
  });

  it('survives parent cycles and never leaks a command line when redaction fails', () => {
    const rows = [row(5, 6, 'npm exec mcp-server-x ghp_secretsecretsecret'), row(6, 5, 'npm exec mcp-server-y')];
    const out = classifyProcesses(input({ rows, redact: () => { throw new Error('boom'); } }));
    expect(out.map((p) => p.pid)).toEqual([5, 6]);
    expect(out.every((p) => !p.cmd.includes('secret'))).toBe(true);
  });

  it('redacts the command line of a row it reported before only once per redaction function', () => {
    const calls: string[] = [];
    const redact = (s: string): string => {
      calls.push(s);
      return s.replace(/ghp_[A-Za-z0-9]+/g, '[REDACTED]');
    };
    const server = row(7, 1, 'npx -y mcp-server-github --token ghp_abcdef123456');
    const first = classifyProcesses(input({ rows: [server], redact }));
    const again = classifyProcesses(input({ rows: [server], redact }));
    expect(again).toEqual(first);
    expect(first[0]?.cmd).toBe('npx -y mcp-server-github --token [REDACTED]');
    expect(calls).toHaveLength(1);

    // Another redaction function, or a new row for the pid (another process), is redacted afresh.
    const stricter = (s: string): string => s.replace(/--token \S+/g, '--token [REDACTED]');
    expect(classifyProcesses(input({ rows: [server], redact: stricter }))[0]?.cmd).toBe('npx -y mcp-server-github --token [REDACTED]');
    const reused = row(7, 1, 'npx -y mcp-server-github --token ghp_zzzzzz999999 --read-only');
    expect(classifyProcesses(input({ rows: [reused], redact }))[0]?.cmd).toBe('npx -y mcp-server-github --token [REDACTED] --read-only');
    expect(calls).toEqual([server.cmd, reused.cmd]);
  });

  it('a failed redaction is not remembered: the next pass tries again', () => {
    let fail = true;
    const redact = (s: string): string => {
      if (fail) throw new Error('boom');
      return s.replace(/ghp_[A-Za-z0-9]+/g, '[REDACTED]');
    };
    const server = row(8, 1, 'npx -y mcp-server-github ghp_abcdef123456');
    expect(classifyProcesses(input({ rows: [server], redact }))[0]?.cmd).toBe('npx');
    fail = false;
    expect(classifyProcesses(input({ rows: [server], redact }))[0]?.cmd).toBe('npx -y mcp-server-github [REDACTED]');
  });
});
