/**
 * Discovery's inputs beyond the fixture homes: environment overrides (and when they apply),
 * project folders recorded by clients or found by a bounded walk, every user's home when
 * privileged, and error records for unusable files next to good ones.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { defaultHomes, discover, envAppliesTo, injectedHome, parsePasswd, pathFromFileUri, walkProjectRoots, watchTargets, type HomeDeps } from '../../../src/discovery/index.js';
import { projectMarkers } from '../../../src/catalog/index.js';
import type { Platform, ScanContext } from '../../../src/types.js';

let root: string;
let n = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'mcpw-sources-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function put(path: string, content: unknown): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}
const server = (name: string) => ({ mcpServers: { [name]: { command: 'npx', args: ['-y', name] } } });

function freshHome(): string {
  const home = join(root, `h${n++}`);
  mkdirSync(home, { recursive: true });
  return home;
}
function ctxFor(home: string, over: Partial<ScanContext> = {}): ScanContext {
  return { platform: 'linux', homes: [{ user: 'u', home }], env: {}, projectRoots: [], systemRoot: join(home, 'sys'), ...over };
}
async function names(ctx: ScanContext): Promise<string[]> {
  const r = await discover(ctx);
  return r.files.flatMap((f) => f.entries.map((e) => `${e.client}:${e.name}`)).sort();
}

describe('environment overrides', () => {
  it('reads $CLAUDE_CONFIG_DIR, $CODEX_HOME, $XDG_CONFIG_HOME, $COPILOT_HOME and file-valued variables', async () => {
    const home = freshHome();
    const alt = join(root, `alt${n++}`);
    put(join(alt, 'claude', '.claude.json'), server('cc-env'));
    put(join(alt, 'codex', 'config.toml'), '[mcp_servers.codex-env]\ncommand = "x"\n');
    put(join(alt, 'xdg', 'zed', 'settings.json'), { context_servers: { 'zed-env': { command: 'x' } } });
    put(join(alt, 'copilot', 'mcp-config.json'), server('copilot-env'));
    put(join(alt, 'cline.json'), server('cline-env'));
    put(join(alt, 'oc.json'), { mcp: { 'opencode-env': { type: 'local', command: ['x'] } } });
    const env = {
      CLAUDE_CONFIG_DIR: join(alt, 'claude'),
      CODEX_HOME: join(alt, 'codex'),
      XDG_CONFIG_HOME: join(alt, 'xdg'),
      COPILOT_HOME: join(alt, 'copilot'),
      CLINE_MCP_SETTINGS_PATH: join(alt, 'cline.json'),
      OPENCODE_CONFIG: join(alt, 'oc.json'),
    };
    expect(await names(ctxFor(home, { env }))).toEqual(['claude-code:cc-env', 'cline:cline-env', 'codex:codex-env', 'copilot-cli:copilot-env', 'opencode:opencode-env', 'zed:zed-env']);
    expect(watchTargets(ctxFor(home, { env }))).toEqual(expect.arrayContaining([join(alt, 'claude', '.claude.json'), join(alt, 'codex', 'config.toml'), join(alt, 'cline.json')]));
  });

  it('derives %APPDATA% from an injected win32 home, and honours an explicit APPDATA', async () => {
    const home = freshHome();
    put(join(home, 'AppData', 'Roaming', 'Claude', 'claude_desktop_config.json'), server('derived'));
    const roaming = join(root, `roaming${n++}`);
    put(join(roaming, 'Claude', 'claude_desktop_config.json'), server('explicit'));
    expect(await names(ctxFor(home, { platform: 'win32' }))).toEqual(['claude-desktop:derived']);
    expect(await names(ctxFor(home, { platform: 'win32', env: { APPDATA: roaming } }))).toEqual(['claude-desktop:explicit']);
  });

  it('ignores the real session environment when another home is injected (--home with process.env)', async () => {
    const home = freshHome();
    const other = join(root, `other${n++}`);
    put(join(other, 'codex', 'config.toml'), '[mcp_servers.leaked]\ncommand = "x"\n');
    const env = { HOME: '/root', CODEX_HOME: join(other, 'codex') };
    expect(await names(ctxFor(home, { env }))).toEqual([]);
    expect(envAppliesTo({ env, homes: [{ user: 'u', home }] }, home)).toBe(false);
    expect(envAppliesTo({ env: { HOME: home }, homes: [{ user: 'u', home }, { user: 'v', home: '/x' }] }, home)).toBe(true);
    expect(envAppliesTo({ env: {}, homes: [{ user: 'u', home }, { user: 'v', home: '/x' }] }, home)).toBe(false);
    const winHomes = [{ user: 'a', home: 'C:\\Users\\A' }, { user: 'b', home: 'C:\\Users\\b' }];
    expect(envAppliesTo({ env: { USERPROFILE: 'c:\\users\\a' }, homes: winHomes }, 'C:\\Users\\A')).toBe(true);
    expect(envAppliesTo({ env: { USERPROFILE: 'c:\\users\\a' }, homes: winHomes }, 'C:\\Users\\b')).toBe(false);
  });
});

describe('project folders', () => {
  it("reads project files in folders Claude Code's projects map records", async () => {
    const home = freshHome();
    const project = join(root, `proj${n++}`);
    put(join(project, '.mcp.json'), server('from-recorded-project'));
    put(join(project, '.cursor', 'mcp.json'), server('cursor-in-recorded'));
    put(join(home, '.claude.json'), { projects: { [project]: { mcpServers: {} }, '/does/not/exist': {}, 'relative/dir': {}, [`${project}/`]: {} } });
    const r = await discover(ctxFor(home));
    expect(r.files.flatMap((f) => f.entries.map((e) => [e.name, e.projectPath, e.user]))).toEqual(
      expect.arrayContaining([
        ['from-recorded-project', project, 'u'],
        ['cursor-in-recorded', project, 'u'],
      ]),
    );
    // Absolute folders only (relative ones cannot be located), each once.
    expect(r.projects).toEqual([project, '/does/not/exist']);
  });

  it('reads the plugins installed_plugins.json records (v1 and v2), not marketplace checkouts', async () => {
    const home = freshHome();
    const pluginA = join(root, `plugin-a-${n++}`);
    const pluginB = join(root, `plugin-b-${n++}`);
    put(join(pluginA, '.mcp.json'), { 'bare-plugin-server': { command: '${CLAUDE_PLUGIN_ROOT}/bin/s' } });
    put(join(pluginB, '.claude-plugin', 'plugin.json'), { name: 'b', mcpServers: { 'inline-plugin-server': { url: 'https://p.example.com/mcp' } } });
    put(join(home, '.claude', 'plugins', 'marketplaces', 'm', 'plugins', 'x', '.mcp.json'), server('marketplace-only'));
    put(join(home, '.claude', 'plugins', 'installed_plugins.json'), {
      version: 2,
      plugins: { 'a@m': [{ scope: 'user', installPath: pluginA, version: '1.0.0' }], 'b@m': [{ installPath: pluginB }, { installPath: 42 }] },
    });
    const r = await discover(ctxFor(home));
    expect(r.files.flatMap((f) => f.entries.map((e) => [e.name, e.scope, e.client, e.user]))).toEqual([
      ['bare-plugin-server', 'plugin', 'claude-code', 'u'],
      ['inline-plugin-server', 'plugin', 'claude-code', 'u'],
    ]);
    const v1 = freshHome();
    put(join(v1, '.claude', 'plugins', 'installed_plugins.json'), { version: 1, plugins: { 'a@m': { installPath: pluginA } } });
    expect(await names(ctxFor(v1))).toEqual(['claude-code:bare-plugin-server']);
  });

  it("reads project files in VS Code / Cursor recent workspaces (storage.json)", async () => {
    const home = freshHome();
    const a = join(root, `ws a ${n++}`);
    const b = join(root, `ws-b-${n++}`);
    put(join(a, '.vscode', 'mcp.json'), { servers: { 'vs-ws': { command: 'x' } } });
    put(join(b, '.roo', 'mcp.json'), server('roo-ws'));
    const uri = (p: string) => `file://${p.split('/').map(encodeURIComponent).join('/')}`;
    put(join(home, '.config', 'Code', 'User', 'globalStorage', 'storage.json'), {
      backupWorkspaces: { folders: [{ folderUri: uri(a) }], workspaces: [], emptyWindows: [] },
      profileAssociations: { workspaces: { [uri(b)]: '__default__profile__', 'vscode-remote://ssh-remote+box/home/x': 'p' } },
      windowsState: { lastActiveWindow: { folder: uri(a) }, openedWindows: [] },
    });
    expect(await names(ctxFor(home))).toEqual(['roo-code:roo-ws', 'vscode:vs-ws']);
  });

  it('turns VS Code folder URIs into paths per platform', () => {
    expect(pathFromFileUri('file:///home/u/my%20proj', 'linux')).toBe('/home/u/my proj');
    expect(pathFromFileUri('file:///c%3A/Users/u/proj', 'win32')).toBe('c:\\Users\\u\\proj');
    expect(pathFromFileUri('file://server/share/proj', 'win32')).toBe('\\\\server\\share\\proj');
    expect(pathFromFileUri('vscode-remote://ssh-remote+h/home/u', 'linux')).toBeNull();
    expect(pathFromFileUri('file:///bad%E0%A4%A', 'linux')).toBeNull();
  });

  it('walks --project-root boundedly: skips node_modules and .git, never follows symlinks', async () => {
    const home = freshHome();
    const pr = join(root, `roots${n++}`);
    const outside = join(root, `outside${n++}`);
    put(join(pr, 'a', '.mcp.json'), server('walk-a'));
    put(join(pr, 'deep', '1', '2', '3', '.kiro', 'settings', 'mcp.json'), server('walk-deep'));
    put(join(pr, 'a', 'node_modules', 'pkg', '.mcp.json'), server('in-node-modules'));
    put(join(pr, '.git', 'x', '.mcp.json'), server('in-git'));
    put(join(outside, '.mcp.json'), server('outside-root'));
    symlinkSync(outside, join(pr, 'link-out'));
    expect(await names(ctxFor(home, { projectRoots: [pr] }))).toEqual(['claude-code:walk-a', 'kiro:walk-deep']);
  });

  it('stops the walk at its limits and says so', async () => {
    const pr = join(root, `wide${n++}`);
    for (let i = 0; i < 12; i++) put(join(pr, `p${i}`, '.mcp.json'), server(`p${i}`));
    const limited = await walkProjectRoots([pr], projectMarkers(), { maxDepth: 5, maxDirs: 5, maxProjects: 100 });
    expect(limited.truncated).toBe(true);
    expect(limited.projects.length).toBeLessThanOrEqual(5);
    const shallow = await walkProjectRoots([pr], projectMarkers(), { maxDepth: 0, maxDirs: 100, maxProjects: 100 });
    expect(shallow.projects).toEqual([]);
    const home = freshHome();
    const tiny = await discover(ctxFor(home, { projectRoots: [pr] }));
    expect(tiny.files).toHaveLength(12);
  });
});

describe('homes', () => {
  const deps = (privileged: boolean, dirs: string[]): HomeDeps => ({
    isPrivileged: () => privileged,
    currentUser: () => ({ user: 'me', home: '/home/me' }),
    listDirectories: async () => dirs,
  });

  it('is the current user when not privileged', async () => {
    expect(await defaultHomes('linux', deps(false, ['a', 'b']))).toEqual([{ user: 'me', home: '/home/me' }]);
  });

  it.each<[Platform, string[], string[]]>([
    ['linux', ['alice', 'bob', 'lost+found', '.hidden'], ['alice', 'bob', 'root']],
    ['darwin', ['Shared', 'alice', 'Guest', '.localized'], ['alice', 'root']],
    ['win32', ['Public', 'Default', 'Default User', 'All Users', 'alice', 'bob', 'WDAGUtilityAccount'], ['alice', 'bob']],
  ])('enumerates every user home on %s when privileged', async (platform, dirs, users) => {
    const homes = await defaultHomes(platform, deps(true, dirs), '/fake/users');
    expect(homes.map((h) => h.user)).toEqual(users);
    expect(homes[0]!.home).toBe(join('/fake/users', users[0]!));
  });

  it('scans every enumerated home with its own user', async () => {
    const users = join(root, `users${n++}`);
    put(join(users, 'alice', '.cursor', 'mcp.json'), server('alice-srv'));
    put(join(users, 'bob', '.cursor', 'mcp.json'), server('bob-srv'));
    const real = (await import('../../../src/discovery/index.js')).realHomeDeps();
    const homes = await defaultHomes('linux', { ...real, isPrivileged: () => true }, users);
    const r = await discover({ platform: 'linux', homes: homes.filter((h) => h.user !== 'root'), env: {}, projectRoots: [], systemRoot: join(users, 'sys') });
    expect(r.clients.map((c) => [c.client, c.user, c.serverCount])).toEqual([
      ['cursor', 'alice', 1],
      ['cursor', 'bob', 1],
    ]);
  });

  it('adds login accounts with homes outside /home from /etc/passwd on Linux', async () => {
    const passwd = [
      'root:x:0:0:root:/root:/bin/bash',
      'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
      'alice:x:1000:1000:Alice:/home/alice:/bin/zsh',
      'jenkins:x:1001:1001::/var/lib/jenkins:/bin/bash',
      'svc:x:1002:1002::/srv/svc:/bin/false',
      'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
      '# comment',
    ].join('\n');
    expect(parsePasswd(passwd)).toEqual([
      { user: 'root', home: '/root' },
      { user: 'alice', home: '/home/alice' },
      { user: 'jenkins', home: '/var/lib/jenkins' },
    ]);
    const homes = await defaultHomes('linux', { ...deps(true, ['alice']), accountHomes: async () => parsePasswd(passwd) });
    expect(homes).toEqual([
      { user: 'alice', home: '/home/alice' },
      { user: 'root', home: '/root' },
      { user: 'jenkins', home: '/var/lib/jenkins' },
    ]);
  });

  it('gives exactly one home for --home', () => {
    expect(injectedHome('/tmp/fake/alice')).toEqual([{ user: 'alice', home: '/tmp/fake/alice' }]);
  });
});

describe('unusable files next to good ones', () => {
  it('reports each bad file and still reads every other file', async () => {
    const home = freshHome();
    put(join(home, '.cursor', 'mcp.json'), '{"mcpServers": {"a": {"command": "x"},, }');
    put(join(home, '.gemini', 'settings.json'), Buffer.from([0x7b, 0, 0, 0x7d]).toString('latin1'));
    put(join(home, '.codex', 'config.toml'), '[mcp_servers.good]\ncommand = "x"\n');
    put(join(home, '.kiro', 'settings', 'mcp.json'), '[]');
    put(join(home, '.aws', 'amazonq', 'mcp.json'), { mcpServers: { ok: { command: 'x' }, broken: 5 } });
    const r = await discover(ctxFor(home, { maxFileBytes: 1 << 20 }));
    const byClient = Object.fromEntries(r.files.map((f) => [f.client, f.errors.map((e) => e.code)]));
    expect(byClient).toEqual({ cursor: ['parse'], 'gemini-cli': ['binary'], codex: [], kiro: ['not-object'], 'amazon-q': ['invalid-entry'] });
    expect(r.files.flatMap((f) => f.entries.map((e) => e.name)).sort()).toEqual(['good', 'ok']);
    expect(r.clients.find((c) => c.client === 'cursor')).toMatchObject({ serverCount: 0, configPaths: [join(home, '.cursor', 'mcp.json')] });
  });

  it('reports a folder it cannot look into once, not a file per candidate', async () => {
    const home = freshHome();
    // A symlink loop makes every stat below ~/.aws fail (ELOOP), as EACCES/EPERM would.
    symlinkSync(join(home, 'loop-b'), join(home, 'loop-a'));
    symlinkSync(join(home, 'loop-a'), join(home, 'loop-b'));
    symlinkSync(join(home, 'loop-a'), join(home, '.aws'));
    put(join(home, '.cursor', 'mcp.json'), server('still-found'));
    const r = await discover(ctxFor(home));
    expect(r.files.flatMap((f) => f.entries.map((e) => e.name))).toEqual(['still-found']);
    expect(r.errors).toEqual([
      expect.objectContaining({ path: join(home, '.aws', 'amazonq'), code: 'unreadable', client: 'amazon-q', reason: expect.stringMatching(/ELOOP.*not checked/) }),
    ]);
  });

  it('refuses a too-large file by size', async () => {
    const home = freshHome();
    put(join(home, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: { a: { command: 'x', args: ['y'.repeat(3000)] } } }));
    const r = await discover(ctxFor(home, { maxFileBytes: 1024 }));
    expect(r.files[0]!.errors[0]).toMatchObject({ code: 'too-large' });
  });

  it("reads a ~/.claude.json past the default limit (Claude Code's history grows it), up to its own bound", async () => {
    const home = freshHome();
    const history = Array.from({ length: 2000 }, (_, i) => ({ display: `prompt ${i} ${'z'.repeat(3000)}` }));
    put(join(home, '.claude.json'), { mcpServers: { 'big-file-server': { command: 'x' } }, projects: { '/p': { history } } });
    const r = await discover(ctxFor(home));
    expect(r.files[0]!.stat!.size).toBeGreaterThan(5 * 1024 * 1024);
    expect(r.files[0]!.errors).toEqual([]);
    expect(r.files[0]!.entries.map((e) => e.name)).toEqual(['big-file-server']);
  });
});
