import { REDACTED, ServerEntry } from '@mcpwatch/shared';
import { Value } from '@sinclair/typebox/value';
import {
  identifyLaunch,
  normalizeEntry,
  parseImageRef,
  parseNpmSpec,
  parsePypiSpec,
  splitCommandField,
  splitCommandLine,
} from '../../../src/normalize/index.js';
import type { EntryDialect, RawServerEntry } from '../../../src/types.js';

function entry(raw: unknown, dialect: EntryDialect = 'standard', name = 'srv'): RawServerEntry {
  return { client: 'test-client', scope: 'user', configPath: '/home/u/.config/x.json', user: 'u', projectPath: null, name, raw, dialect };
}

function ok(raw: unknown, dialect: EntryDialect = 'standard') {
  const r = normalizeEntry(entry(raw, dialect));
  if (!r.ok) throw new Error(r.error.reason);
  expect(Value.Check(ServerEntry, r.server)).toBe(true);
  return r.server;
}

describe('transport', () => {
  it.each([
    [{ type: 'stdio', command: 'x' }, 'stdio'],
    [{ type: 'sse', url: 'https://h/x' }, 'sse'],
    [{ type: 'http', url: 'https://h/x' }, 'http'],
    [{ type: 'streamable-http', url: 'https://h/x' }, 'http'],
    [{ type: 'streamable_http', url: 'https://h/x' }, 'http'],
    [{ type: 'streamableHttp', url: 'https://h/x' }, 'http'],
    [{ transport: 'websocket', url: 'wss://h/x' }, 'ws'],
    [{ transport: { type: 'sse' }, url: 'https://h/x' }, 'sse'],
    [{ url: 'https://h/mcp' }, 'http'],
    [{ url: 'https://h/sse' }, 'sse'],
    [{ url: 'https://h/sse/?x=1' }, 'sse'],
    [{ serverUrl: 'https://h/sse' }, 'sse'],
    [{ httpUrl: 'https://h/sse' }, 'http'],
    [{ url: 'ws://127.0.0.1:9/x' }, 'ws'],
    [{ command: 'npx', url: 'https://h/sse' }, 'stdio'],
    [{ type: 'stdio', url: 'https://h/mcp' }, 'http'], // contradictory type: content decides
  ])('%j → %s', (raw, transport) => {
    expect(ok(raw).transport).toBe(transport);
  });

  it('reads a bare url as SSE for the clients that do (Gemini CLI, Cline, Roo Code), as HTTP for the rest', () => {
    const as = (client: string, raw: unknown) => {
      const r = normalizeEntry({ ...entry(raw), client });
      return r.ok ? r.server.transport : r.error.code;
    };
    expect(as('gemini-cli', { url: 'https://h/mcp' })).toBe('sse');
    expect(as('gemini-cli', { httpUrl: 'https://h/mcp' })).toBe('http');
    expect(as('cline', { url: 'https://h/mcp' })).toBe('sse');
    expect(as('cline', { type: 'streamableHttp', url: 'https://h/mcp' })).toBe('http');
    expect(as('roo-code', { url: 'https://h/mcp' })).toBe('sse');
    expect(as('cursor', { url: 'https://h/mcp' })).toBe('http');
    expect(as('windsurf', { serverUrl: 'https://h/mcp' })).toBe('http');
  });

  it('reports an entry with neither command nor url as invalid-entry, and a non-object too', () => {
    const a = normalizeEntry(entry({ env: { A: '1' } }));
    expect(a).toEqual({ ok: false, error: expect.objectContaining({ code: 'invalid-entry', entry: 'srv', path: '/home/u/.config/x.json' }) });
    const b = normalizeEntry(entry('npx foo'));
    expect(b.ok).toBe(false);
    const c = normalizeEntry(entry(null));
    expect(c.ok).toBe(false);
  });

  it('keeps a server whose fields have the wrong type and reports each problem', () => {
    const r = normalizeEntry(entry({ command: 'node', args: { a: 1 }, env: 'X=1' }));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.server.command).toBe('node');
    expect(r.server.args).toEqual([]);
    expect(r.warnings.map((w) => w.code)).toEqual(['invalid-field', 'invalid-field']);
  });
});

describe('odd and oversized input', () => {
  it('reports each wrongly typed field with a reason and keeps the rest', () => {
    const r = normalizeEntry(entry({ command: 'node', args: ['a.js', { x: 1 }, 7], headers: ['x'], env: { A: { nested: true }, B: null } }));
    if (!r.ok) throw new Error(r.error.reason);
    expect(r.server.args).toEqual(['a.js', '7']);
    expect(r.server.envKeys).toEqual(['A', 'B']);
    expect(r.warnings.map((w) => [w.code, w.entry, w.reason])).toEqual([
      ['invalid-field', 'srv', 'server entry "srv": args holds a non-string item (ignored)'],
      ['invalid-field', 'srv', 'server entry "srv": headers is not an object (ignored)'],
    ]);
    const c = normalizeEntry(entry({ command: { path: 'x' }, url: 'https://h.example.com/mcp' }));
    expect(c.ok && c.server.transport === 'http' && c.warnings[0]?.reason.includes('command is neither')).toBe(true);
  });

  it('bounds every field to the schema limits', () => {
    const s = ok({ command: 'node', args: Array.from({ length: 2000 }, (_, i) => `arg${i}-` + 'a'.repeat(9000)), env: Object.fromEntries(Array.from({ length: 900 }, (_, i) => [`K${i}`, 'v'])) });
    expect(s.args).toHaveLength(512);
    expect(s.args[0]!.length).toBeLessThanOrEqual(8192);
    expect(s.envKeys).toHaveLength(512);
  });

  it('accepts string booleans for disabled/enabled and ignores other values', () => {
    expect(ok({ command: 'x', disabled: 'true' }).disabled).toBe(true);
    expect(ok({ command: 'x', enabled: 'false' }).disabled).toBe(true);
    expect(ok({ command: 'x', disabled: 'maybe' }).disabled).toBe(false);
  });
});

describe('command lines', () => {
  it('splits quote-aware and keeps Windows backslashes', () => {
    expect(splitCommandLine(`npx -y "@scope/pkg" --dir 'My Dir' C:\\Users\\me\\x.js a\\ b`)).toEqual([
      'npx', '-y', '@scope/pkg', '--dir', 'My Dir', 'C:\\Users\\me\\x.js', 'a b',
    ]);
    expect(splitCommandLine('"C:\\Program Files\\nodejs\\node.exe" server.js')).toEqual(['C:\\Program Files\\nodejs\\node.exe', 'server.js']);
  });

  it('splits a one-string command only when it has no args, keeping unquoted Windows exe paths whole', () => {
    expect(splitCommandField('npx -y pkg', [])).toEqual({ command: 'npx', args: ['-y', 'pkg'] });
    expect(splitCommandField('C:\\Program Files\\nodejs\\node.exe C:\\srv\\index.js', [])).toEqual({
      command: 'C:\\Program Files\\nodejs\\node.exe',
      args: ['C:\\srv\\index.js'],
    });
    expect(splitCommandField('/Users/me/My Tools/server', ['--x'])).toEqual({ command: '/Users/me/My Tools/server', args: ['--x'] });
    expect(splitCommandField('npx -y pkg', ['--stdio'])).toEqual({ command: 'npx', args: ['-y', 'pkg', '--stdio'] });
    expect(splitCommandField('"/Users/me/My Tools/server" --v', ['--x'])).toEqual({ command: '/Users/me/My Tools/server', args: ['--v', '--x'] });
  });

  it('normalizes a one-string command into command + args', () => {
    const s = ok({ command: 'uvx mcp-server-git==0.6.2 --repository /r' });
    expect(s.command).toBe('uvx');
    expect(s.args).toEqual(['mcp-server-git==0.6.2', '--repository', '/r']);
    expect(s.package).toMatchObject({ ecosystem: 'pypi', name: 'mcp-server-git', version: '0.6.2', pinned: true });
  });
});

describe('package identity', () => {
  it.each([
    ['@scope/name@1.2.3', { name: '@scope/name', version: '1.2.3', pinned: true }],
    ['@scope/name', { name: '@scope/name', version: null, pinned: false }],
    ['name@^1.2.0', { name: 'name', version: '^1.2.0', pinned: false }],
    ['name@latest', { name: 'name', version: 'latest', pinned: false }],
    ['name@1.0.0-beta.2', { name: 'name', version: '1.0.0-beta.2', pinned: true }],
  ])('npm %s', (spec, expected) => {
    expect(parseNpmSpec(spec, 'npx')).toMatchObject({ ecosystem: 'npm', ...expected });
  });

  it.each([
    ['mcp-server-fetch==2025.4.7', { name: 'mcp-server-fetch', version: '2025.4.7', pinned: true }],
    ['mcp-server-fetch@0.6.2', { name: 'mcp-server-fetch', version: '0.6.2', pinned: true }],
    ['mcp-server-fetch@latest', { name: 'mcp-server-fetch', version: 'latest', pinned: false }],
    ['pkg[cli]>=1.0', { name: 'pkg', version: '>=1.0', pinned: false }],
    ['git+https://github.com/o/r@0123456789abcdef0123456789abcdef01234567', { name: 'git+https://github.com/o/r', pinned: true }],
  ])('pypi %s', (spec, expected) => {
    expect(parsePypiSpec(spec, 'uvx')).toMatchObject({ ecosystem: 'pypi', ...expected });
  });

  it.each([
    ['ghcr.io/github/github-mcp-server', { name: 'ghcr.io/github/github-mcp-server', version: null, pinned: false }],
    ['localhost:5000/mcp/x:1.2', { name: 'localhost:5000/mcp/x', version: '1.2', pinned: false }],
    ['mcp/fetch@sha256:' + 'a'.repeat(64), { name: 'mcp/fetch', version: null, pinned: true, digest: 'sha256:' + 'a'.repeat(64) }],
  ])('oci %s', (ref, expected) => {
    expect(parseImageRef(ref, 'docker')).toMatchObject({ ecosystem: 'oci', ...expected });
  });

  it.each([
    ['npx', ['-y', '@modelcontextprotocol/server-github@2025.4.8'], 'npm', '@modelcontextprotocol/server-github', null],
    ['npx', ['--yes', '--package=@x/server@1.0.0', 'x-server', '--stdio'], 'npm', '@x/server', null],
    ['npx', ['-p', 'pkg@2.0.0', 'bin'], 'npm', 'pkg', null],
    ['bunx', ['pkg@1.0.0'], 'npm', 'pkg', null],
    ['pnpm', ['dlx', 'pkg'], 'npm', 'pkg', null],
    ['pnpx', ['pkg'], 'npm', 'pkg', null],
    ['yarn', ['dlx', '-p', 'pkg', 'bin'], 'npm', 'pkg', null],
    ['npm', ['exec', '--yes', '--', 'pkg@1.0.0'], 'npm', 'pkg', null],
    ['uvx', ['--from', 'mcp-server-x==1.0', 'mcp-server-x'], 'pypi', 'mcp-server-x', null],
    ['uv', ['tool', 'run', 'mcp-server-time'], 'pypi', 'mcp-server-time', null],
    ['uv', ['run', '--with', 'mcp-foo', 'mcp-foo'], 'pypi', 'mcp-foo', null],
    ['pipx', ['run', 'mcp-bar'], 'pypi', 'mcp-bar', null],
    ['docker', ['run', '-i', '--rm', '-e', 'A=1', '-v', '/a:/b', '--network=host', 'mcp/fetch:1.0'], 'oci', 'mcp/fetch', null],
    ['podman', ['run', '-it', 'quay.io/x/y'], 'oci', 'quay.io/x/y', null],
    ['node', ['--enable-source-maps', '/opt/srv/index.js'], 'local', '/opt/srv/index.js', null],
    ['python3', ['-u', 'server.py'], 'local', 'server.py', null],
    ['python', ['-m', 'my_mcp.server'], 'local', 'my_mcp.server', null],
    ['deno', ['run', '-A', 'npm:some-mcp@1.0.0'], 'npm', 'some-mcp', null],
    ['cmd', ['/c', 'npx', '-y', 'pkg'], 'npm', 'pkg', 'cmd /c'],
    ['cmd.exe', ['/C', 'npx -y pkg'], 'npm', 'pkg', 'cmd /c'],
    ['wsl.exe', ['-d', 'Ubuntu', '--', 'npx', '-y', 'pkg'], 'npm', 'pkg', 'wsl'],
    ['bash', ['-c', 'cd /x && source .venv/bin/activate && uvx pkg'], 'pypi', 'pkg', 'bash -c'],
    ['npx', ['-y', 'supergateway', '--stdio', 'npx -y @modelcontextprotocol/server-memory@0.6.0'], 'npm', '@modelcontextprotocol/server-memory', 'supergateway'],
    ['uvx', ['invariant-gateway@latest', 'mcp', '--project-name', 'p', '--exec', 'npx', '-y', 'real-server@1.0.0'], 'npm', 'real-server', 'invariant-gateway'],
  ])('%s %j → %s %s', (command, args, ecosystem, name, wrapper) => {
    const id = identifyLaunch(command, args);
    expect(id.package).toMatchObject({ ecosystem, name });
    expect(id.wrappers[0] ?? null).toBe(wrapper);
  });

  it('sees bridges through to the remote URL', () => {
    expect(identifyLaunch('npx', ['-y', 'mcp-remote@0.1.29', 'https://mcp.example.com/sse', '--header', 'A: b'])).toMatchObject({
      wrappers: ['mcp-remote'],
      remoteUrl: 'https://mcp.example.com/sse',
      package: { name: 'mcp-remote', version: '0.1.29', pinned: true },
    });
    expect(identifyLaunch('npx', ['-y', 'supergateway', '--sse', 'https://h.example.com/sse'])).toMatchObject({
      wrappers: ['supergateway'],
      remoteUrl: 'https://h.example.com/sse',
    });
    expect(identifyLaunch('uvx', ['mcp-proxy', 'http://10.0.0.5:8080/sse'])).toMatchObject({ wrappers: ['mcp-proxy'], remoteUrl: 'http://10.0.0.5:8080/sse' });
    expect(identifyLaunch('docker', ['mcp', 'gateway', 'run'])).toEqual({ package: null, wrappers: ['docker mcp gateway'], remoteUrl: null });
  });

  it('gives a bridge the fingerprint of the remote server it reaches, without its credentials', () => {
    const bridge = ok({ command: 'npx', args: ['-y', 'mcp-remote', 'https://user:pw123456@mcp.example.com/mcp?api_key=k9x8c7v6b5n4'] });
    const direct = ok({ url: 'https://mcp.example.com/mcp?api_key=another-value-1234' });
    expect(bridge.remoteUrl).toBe(`https://mcp.example.com/mcp?api_key=${REDACTED}`);
    expect(bridge.wrapper).toBe('mcp-remote');
    expect(bridge.fingerprint).toBe(direct.fingerprint);
    expect(JSON.stringify(bridge)).not.toMatch(/pw123456|k9x8c7v6b5n4/);
  });

  it('counts the same package the same across launchers and wrappers', () => {
    const a = ok({ command: 'npx', args: ['-y', 'pkg@1.0.0'] });
    const b = ok({ command: 'cmd', args: ['/c', 'npx', '-y', 'pkg@1.0.0'] });
    const c = ok({ command: 'bunx', args: ['pkg@1.0.0'] });
    expect(new Set([a.fingerprint, b.fingerprint, c.fingerprint]).size).toBe(1);
    expect(a.serverKey).toHaveLength(32);
  });
});

describe('dialects', () => {
  it('standard: env and header names sorted, cwd, disabled/enabled', () => {
    const s = ok({ command: 'node', args: ['x.js'], env: { Z: '1', A: '2' }, headers: { 'X-Key': 'v' }, cwd: '/w', disabled: true });
    expect(s).toMatchObject({ envKeys: ['A', 'Z'], headerKeys: ['X-Key'], cwd: '/w', disabled: true });
    expect(ok({ command: 'node', enabled: false }).disabled).toBe(true);
    expect(ok({ command: 'node', disabledTools: ['x'] }).disabled).toBe(false);
  });

  it('zed: command object, plain command, url, and extension-provided servers', () => {
    expect(ok({ command: { path: 'npx', args: ['-y', 'pkg'], env: { K: 'v' } } }, 'zed')).toMatchObject({ command: 'npx', args: ['-y', 'pkg'], envKeys: ['K'] });
    expect(ok({ source: 'custom', command: 'uvx', args: ['pkg'] }, 'zed')).toMatchObject({ command: 'uvx', transport: 'stdio' });
    expect(ok({ url: 'https://h.example.com/mcp', headers: { Authorization: 'x' } }, 'zed')).toMatchObject({ transport: 'http', headerKeys: ['Authorization'] });
    expect(ok({ source: 'extension', settings: {} }, 'zed')).toMatchObject({ transport: 'unknown', command: null, url: null });
  });

  it('continue: list items and nested transport objects', () => {
    expect(ok({ name: 'x', command: 'uvx', args: ['pkg'], env: { A: 'b' } }, 'continue')).toMatchObject({ command: 'uvx', envKeys: ['A'] });
    expect(ok({ transport: { type: 'stdio', command: 'npx', args: ['-y', 'pkg'] } }, 'continue')).toMatchObject({ transport: 'stdio', command: 'npx', args: ['-y', 'pkg'] });
    expect(ok({ transport: { type: 'sse', url: 'https://h/sse' } }, 'continue')).toMatchObject({ transport: 'sse', url: 'https://h/sse' });
    expect(ok({ type: 'streamable-http', url: 'https://h/mcp', requestOptions: { headers: { 'X-Token': 'v' } } }, 'continue')).toMatchObject({ headerKeys: ['X-Token'] });
  });

  it('goose: cmd/envs/env_keys/uri/enabled and builtins', () => {
    expect(ok({ type: 'stdio', cmd: 'uvx', args: ['pkg'], envs: { A: '1' }, env_keys: ['B'], enabled: false }, 'goose')).toMatchObject({
      command: 'uvx', envKeys: ['A', 'B'], disabled: true, transport: 'stdio',
    });
    expect(ok({ type: 'streamable_http', uri: 'https://h/mcp', enabled: true }, 'goose')).toMatchObject({ transport: 'http', url: 'https://h/mcp', disabled: false });
    expect(ok({ type: 'sse', uri: 'http://localhost:8000/sse' }, 'goose')).toMatchObject({ transport: 'sse' });
    expect(ok({ type: 'builtin', name: 'developer', enabled: true }, 'goose')).toMatchObject({ transport: 'unknown', command: null });
  });

  it('opencode: local command arrays, remote, environment, enabled', () => {
    expect(ok({ type: 'local', command: ['npx', '-y', 'pkg'], environment: { K: 'v' }, enabled: false }, 'opencode')).toMatchObject({
      transport: 'stdio', command: 'npx', args: ['-y', 'pkg'], envKeys: ['K'], disabled: true,
    });
    expect(ok({ type: 'remote', url: 'https://h/mcp', headers: { Authorization: 'Bearer {env:X}' } }, 'opencode')).toMatchObject({
      transport: 'http', headerKeys: ['Authorization'],
    });
  });

  it('codex: env, env_vars, bearer_token_env_var, http headers, enabled', () => {
    expect(
      ok({ url: 'https://h/mcp', bearer_token_env_var: 'TOK', http_headers: { 'X-A': '1' }, env_http_headers: { 'X-B': 'ENV_B' }, enabled: false }, 'codex'),
    ).toMatchObject({ transport: 'http', headerKeys: ['Authorization', 'X-A', 'X-B'], envKeys: ['TOK'], disabled: true });
    expect(ok({ command: 'npx', args: ['-y', 'pkg'], env: { A: '1' }, env_vars: ['B'], cwd: '/w' }, 'codex')).toMatchObject({ envKeys: ['A', 'B'], cwd: '/w' });
  });
});

describe('no secret values in a normalized entry', () => {
  it('strips URL credentials, secret args and the command of a one-string command line', () => {
    const token = 'gh' + 'p_' + 'Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Jh0Gf9Ed8Cb';
    const s = ok({ command: `npx -y srv --token ${token}`, env: { GITHUB_TOKEN: token } });
    expect(s.args).toEqual(['-y', 'srv', '--token', REDACTED]);
    const u = ok({ url: `https://u:${token}@h.example.com/mcp?access_token=${token}&team=a`, headers: { Authorization: `Bearer ${token}` } });
    expect(u.url).toBe(`https://h.example.com/mcp?access_token=${REDACTED}&team=a`);
    expect(JSON.stringify([s, u])).not.toContain(token);
  });

  it('keeps references to variables as written', () => {
    const s = ok({ command: 'npx', args: ['-y', 'mcp-remote', 'https://h.example.com/mcp', '--header', 'Authorization: Bearer ${AUTH}'], env: { AUTH: '${input:auth}' } });
    expect(s.args).toContain('Authorization: Bearer ${AUTH}');
    expect(s.headerKeys).toEqual(['Authorization']); // names of headers the bridge sends upstream
  });
});

describe('prototype names in env and headers', () => {
  it('keeps __proto__ / constructor as ordinary variable and header names', () => {
    const raw = JSON.parse('{"command":"node","env":{"__proto__":"x1","constructor":"x2","A":"1"},"headers":{"__proto__":"h"}}') as unknown;
    const s = ok(raw);
    expect(s.envKeys).toEqual(expect.arrayContaining(['__proto__', 'constructor', 'A']));
    expect(({} as Record<string, unknown>).x1).toBeUndefined();
  });
});
