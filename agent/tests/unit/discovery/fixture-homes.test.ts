/**
 * Discovery over the fixture homes in tests/fixtures/homes/{darwin,win32,linux}: each holds a
 * config file for every client at that OS's path, a project folder with every project-scope file
 * and the machine-wide managed files under system/. Discovery runs with the platform and home
 * injected (on Linux) and must find every client and every server, at the right scope.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Platform, ScanContext } from '../../../src/types.js';
import { defaultHomes, discover, parseWslList, realHomeDeps, vscodeWorkspaceProject, watchTargets, type HomeDeps } from '../../../src/discovery/index.js';
import { CLIENTS } from '../../../src/catalog/index.js';
import { normalizeEntry } from '../../../src/normalize/index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'homes');
const HOME_REL: Record<Platform, string> = { darwin: 'Users/alice', win32: 'Users/alice', linux: 'home/alice' };

function fixtureContext(platform: Platform): ScanContext {
  const home = join(FIXTURES, platform, HOME_REL[platform]);
  return {
    platform,
    homes: [{ user: 'alice', home }],
    env: {},
    projectRoots: [join(home, 'code')],
    systemRoot: join(FIXTURES, platform, 'system'),
  };
}

/** [client, server name, scope] found on every OS. */
const COMMON: Array<[string, string, string]> = [
  ['claude-desktop', 'desktop-github', 'user'],
  ['claude-desktop', 'desktop-fs', 'user'],
  ['claude-desktop', 'dxt-filesystem', 'plugin'],
  ['claude-code', 'code-user-remote', 'user'],
  ['claude-code', 'code-local-postgres', 'project'],
  ['claude-code', 'code-plugin-db', 'plugin'],
  ['claude-code', 'code-plugin-inline', 'plugin'],
  ['claude-code', 'project-mcpjson', 'project'],
  ['cursor', 'cursor-slack', 'user'],
  ['cursor', 'cursor-remote', 'user'],
  ['cursor', 'project-cursor', 'project'],
  ['vscode', 'vscode-github', 'user'],
  ['vscode', 'vscode-profile-fetch', 'profile'],
  ['vscode', 'vscode-settings-time', 'user'],
  ['vscode', 'project-vscode', 'workspace'],
  ['vscode', 'project-vscode-settings', 'workspace'],
  ['vscode-insiders', 'insiders-flat-git', 'user'],
  ['vscode-insiders', 'insiders-everything', 'user'],
  ['vscodium', 'vscodium-memory', 'user'],
  ['windsurf', 'windsurf-remote', 'user'],
  ['windsurf', 'windsurf-aws', 'user'],
  ['zed', 'zed-postgres', 'user'],
  ['zed', 'zed-remote', 'user'],
  ['zed', 'project-zed', 'project'],
  ['cline', 'cline-brave', 'user'],
  ['roo-code', 'roo-puppeteer', 'user'],
  ['roo-code', 'project-roo', 'project'],
  ['continue', 'continue-sqlite', 'user'],
  ['continue', 'continue-remote', 'user'],
  ['continue', 'continue-block-playwright', 'user'],
  ['continue', 'project-continue-json', 'project'],
  ['gemini-cli', 'gemini-http', 'user'],
  ['gemini-cli', 'gemini-stdio', 'user'],
  ['gemini-cli', 'gemini-ext-acme', 'plugin'],
  ['gemini-cli', 'project-gemini', 'project'],
  ['codex', 'codex-docs', 'user'],
  ['codex', 'codex-remote', 'user'],
  ['codex', 'project-codex', 'project'],
  ['copilot-cli', 'copilot-playwright', 'user'],
  ['amazon-q', 'amazonq-aws-docs', 'user'],
  ['amazon-q', 'amazonq-agent-git', 'user'],
  ['amazon-q', 'project-amazonq', 'project'],
  ['lm-studio', 'lmstudio-hf', 'user'],
  ['goose', 'developer', 'user'],
  ['goose', 'goose-github', 'user'],
  ['opencode', 'opencode-local', 'user'],
  ['opencode', 'opencode-remote', 'user'],
  ['opencode', 'project-opencode', 'project'],
  ['kiro', 'kiro-fetch', 'user'],
  ['kiro', 'project-kiro', 'project'],
];

/** Clients and locations added for issue 14, found on every OS. */
const COVERAGE_COMMON: Array<[string, string, string]> = [
  ['jetbrains-ai-assistant', 'jb-ai-postgres', 'user'],
  ['jetbrains-ai-assistant', 'project-jb-ai', 'project'],
  ['junie', 'junie-playwright', 'user'],
  ['junie', 'project-junie', 'project'],
  ['copilot-jetbrains', 'copilot-jb-github', 'user'],
  ['windsurf-jetbrains', 'windsurf-jb-time', 'user'],
  ['antigravity', 'antigravity-firebase', 'user'],
  ['antigravity', 'antigravity-remote', 'user'],
  ['antigravity', 'nowledge-mem', 'plugin'],
  ['amp', 'amp-playwright', 'user'],
  ['amp', 'amp-linear', 'user'],
  ['amp', 'project-amp', 'project'],
  ['amp', 'managed-amp', 'managed'],
  ['crush', 'crush-filesystem', 'user'],
  ['crush', 'crush-github', 'user'],
  ['crush', 'project-crush', 'project'],
  ['factory-droid', 'droid-linear', 'user'],
  ['factory-droid', 'project-droid', 'project'],
  ['augment', 'auggie-context7', 'user'],
  ['trae', 'project-trae', 'project'],
  ['kilo-code', 'kilo-brave', 'user'],
  ['kilo-code', 'kilo-cli-git', 'user'],
  ['kilo-code', 'project-kilo', 'project'],
  ['qwen-code', 'qwen-http', 'user'],
  ['qwen-code', 'project-qwen', 'project'],
  ['grok-cli', 'grok-linear', 'user'],
  ['grok-cli', 'project-grok', 'project'],
  ['mistral-vibe', 'vibe-fetch', 'user'],
  ['mistral-vibe', 'vibe-remote', 'user'],
  ['mistral-vibe', 'project-vibe', 'project'],
  ['kimi', 'kimi-filesystem', 'user'],
  ['kimi', 'kimi-linear', 'user'],
  ['kimi', 'kimi-legacy-context7', 'user'],
  ['kimi', 'project-kimi', 'project'],
  ['hermes', 'hermes-filesystem', 'user'],
  ['hermes', 'hermes-remote', 'user'],
  ['rovo-dev', 'rovo-firecrawl', 'user'],
  ['mcporter', 'mcporter-linear', 'user'],
  ['mcporter', 'project-mcporter', 'project'],
  ['pi', 'pi-chrome-devtools', 'user'],
  ['pi', 'project-pi', 'project'],
  ['anythingllm', 'anythingllm-face-generator', 'user'],
  // New places of clients covered before.
  ['codex', 'managed-codex', 'managed'],
  ['codex', 'codex-profile-jira', 'profile'],
  ['kiro', 'kiro-power-stripe', 'plugin'],
  ['kiro', 'kiro-power-figma', 'plugin'],
  ['kiro', 'kiro-agent-git', 'user'],
  ['vscode', 'workspace-file-time', 'workspace'],
  ['vscode', 'devcontainer-fetch', 'workspace'],
  ['vscode', 'vscode-home-memory', 'user'],
  ['copilot-cli', 'project-copilot-github', 'project'],
  // The remaining named clients (Warp's home file is flat: server names at the root).
  ['warp', 'warp-github', 'user'],
  ['warp', 'project-warp', 'project'],
  ['devin-cli', 'devin-linear', 'user'],
  ['devin-cli', 'project-devin', 'project'],
  ['devin-cli', 'project-devin-local', 'project'],
  ['qoder', 'qoder-fetch', 'user'],
  ['qoder', 'project-qoder', 'project'],
  ['tabnine', 'tabnine-atlassian', 'user'],
  ['tabnine', 'tabnine-cli-filesystem', 'user'],
  ['tabnine', 'project-tabnine', 'project'],
  ['jan', 'jan-fetch', 'user'],
  ['witsy', 'witsy-filesystem', 'user'],
  // JetBrains AI Assistant's options/llm.mcpServers.xml, per product and version (both layouts).
  ['jetbrains-ai-assistant', 'jb-idea-nx', 'user'],
  ['jetbrains-ai-assistant', 'jb-pycharm-postgres', 'user'],
  ['jetbrains-ai-assistant', 'jb-pycharm-remote', 'user'],
  // Docker MCP Toolkit: the servers registry.yaml enables, defined in catalogs/*.yaml.
  ['docker-mcp-toolkit', 'docker-github', 'user'],
  ['docker-mcp-toolkit', 'docker-duckduckgo', 'user'],
  ['docker-mcp-toolkit', 'docker-atlassian-remote', 'user'],
  ['docker-mcp-toolkit', 'docker-undefined', 'user'],
  // JetBrains project level: .idea/workspace.xml, component McpProjectServerCommands.
  ['jetbrains-ai-assistant', 'jb-project-nx', 'project'],
  ['qoder', 'qoder-home-git', 'user'],
];

const COVERAGE_PER_OS: Record<Platform, Array<[string, string, string]>> = {
  darwin: [
    ['factory-droid', 'bridge-sqlite', 'user'],
    ['trae', 'trae-figma', 'user'],
    ['devin-cli', 'devin-legacy-memory', 'user'],
    ['tabnine', 'managed-tabnine', 'managed'],
    ['boltai', 'boltai-memory', 'user'],
  ],
  linux: [
    ['devin-cli', 'devin-legacy-memory', 'user'],
    ['tabnine', 'managed-tabnine', 'managed'],
    ['trae', 'trae-linux-figma', 'user'],
    ['jan', 'jan-linux-obsidian', 'user'],
  ],
  win32: [
    ['factory-droid', 'bridge-sqlite', 'user'],
    ['trae', 'trae-figma', 'user'],
    ['visual-studio', 'vs-user-github', 'user'],
    ['visual-studio', 'vs-solution-fs', 'project'],
    ['visual-studio', 'vs-solution-servers', 'project'],
    ['jetbrains-ai-assistant', 'jb-rider-db', 'project'],
  ],
};

const PER_OS: Record<Platform, Array<[string, string, string]>> = {
  darwin: [['claude-code', 'managed-claudecode', 'managed']],
  linux: [
    ['claude-code', 'managed-claude-code', 'managed'],
    ['vscode', 'vscode-server-remote-fs', 'user'],
    ['vscode', 'vscode-flatpak-git', 'user'],
  ],
  win32: [
    ['claude-desktop', 'desktop-store-memory', 'user'],
    ['claude-desktop', 'dxt-store-notes', 'plugin'],
    ['claude-code', 'managed-claudecode', 'managed'], // C:\ProgramData\ClaudeCode
    ['claude-code', 'managed-claudecode', 'managed'], // C:\Program Files\ClaudeCode
  ],
};

describe.each<Platform>(['darwin', 'win32', 'linux'])('discover() on the %s fixture home', (platform) => {
  let result: Awaited<ReturnType<typeof discover>>;
  beforeAll(async () => {
    result = await discover(fixtureContext(platform));
  });

  it('reads every file without errors', () => {
    expect(result.errors).toEqual([]);
    expect(result.files.flatMap((f) => f.errors)).toEqual([]);
  });

  it('finds exactly the expected servers, each with its client and scope', () => {
    const found = result.files.flatMap((f) => f.entries.map((e) => [e.client, e.name, e.scope]));
    const expected = [...COMMON, ...PER_OS[platform], ...COVERAGE_COMMON, ...COVERAGE_PER_OS[platform]];
    expect(found.map((x) => x.join(' ')).sort()).toEqual(expected.map((x) => x.join(' ')).sort());
  });

  it('detects every client in the catalog with its config paths and server count', () => {
    const detected = new Set(result.clients.map((c) => c.client));
    for (const c of CLIENTS.filter((x) => x.locations.some((l) => l.os.includes(platform)))) expect(detected).toContain(c.id);
    const cursor = result.clients.find((c) => c.client === 'cursor' && c.user === 'alice');
    expect(cursor).toMatchObject({ displayName: 'Cursor', serverCount: 3 });
    expect(cursor?.configPaths).toHaveLength(2);
    const managed = result.clients.find((c) => c.client === 'claude-code' && c.user === null);
    expect(managed?.configPaths.every((p) => p.startsWith(join(FIXTURES, platform, 'system')))).toBe(true);
  });

  it('records the project folder and user on project entries', () => {
    const home = fixtureContext(platform).homes[0]!.home;
    const project = join(home, 'code', 'webapp');
    const e = result.files.flatMap((f) => f.entries).find((x) => x.name === 'project-mcpjson');
    expect(e).toMatchObject({ projectPath: project, user: 'alice', configPath: join(project, '.mcp.json'), dialect: 'standard' });
    const local = result.files.flatMap((f) => f.entries).find((x) => x.name === 'code-local-postgres');
    expect(local?.projectPath).toMatch(/code\/webapp$/);
    expect(result.projects).toContain(project);
  });

  it('tags dialects and VS Code inputs', () => {
    const entries = result.files.flatMap((f) => f.entries);
    const dialect = (name: string): string | undefined => entries.find((e) => e.name === name)?.dialect;
    expect(dialect('zed-postgres')).toBe('zed');
    expect(dialect('goose-github')).toBe('goose');
    expect(dialect('opencode-local')).toBe('opencode');
    expect(dialect('codex-docs')).toBe('codex');
    expect(dialect('continue-sqlite')).toBe('continue');
    expect(dialect('project-continue-json')).toBe('standard');
    expect(entries.find((e) => e.name === 'vscode-github')?.fileContext?.inputIds).toEqual(['gh-token']);
    expect(entries.find((e) => e.name === 'project-vscode')?.fileContext).toEqual({ section: 'servers', inputIds: ['api-key'] });
  });

  it('keeps the raw entry (values included) for normalization', () => {
    const e = result.files.flatMap((f) => f.entries).find((x) => x.name === 'desktop-github');
    expect(e?.raw).toEqual({ command: 'npx', args: ['-y', '@acme/server-github'], env: { GITHUB_PERSONAL_ACCESS_TOKEN: 'ghp_CANARYCANARYCANARYCANARYCANARY12345' } });
  });

  it('hands normalization entries it accepts, and the canary secrets stay behind', () => {
    const entries = result.files.flatMap((f) => f.entries);
    expect(JSON.stringify(entries.map((e) => e.raw))).toContain('CANARY'); // the fixtures do plant them
    const servers = entries.map((e) => {
      const n = normalizeEntry(e);
      if (!n.ok) throw new Error(`${e.client}/${e.name}: ${n.error.reason}`);
      return n.server;
    });
    expect(servers).toHaveLength(entries.length);
    expect(JSON.stringify(servers)).not.toContain('CANARY');
  });

  it('lists watch targets for files that do not exist yet and for glob folders', () => {
    const ctx = fixtureContext(platform);
    const home = ctx.homes[0]!.home;
    const targets = watchTargets(ctx, result.projects);
    expect(targets).toContain(join(home, '.cursor', 'mcp.json'));
    expect(targets).toContain(join(home, '.claude', 'plugins', 'cache'));
    expect(targets).toContain(join(home, '.claude', 'plugins', 'installed_plugins.json'));
    expect(targets).toContain(join(home, '.kiro', 'settings', 'mcp.json'));
    expect(targets).toContain(join(home, 'code', 'webapp', '.mcp.json'));
    expect(targets).toContain(join(home, 'code', 'webapp', '.continue', 'mcpServers'));
    expect(targets).toContain(join(home, 'code'));
    expect(targets.some((t) => t.startsWith(ctx.systemRoot) && t.endsWith('managed-mcp.json'))).toBe(true);
    expect(new Set(targets).size).toBe(targets.length);
  });
});

describe('VS Code workspaceStorage: every workspace ever opened is a project', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'mcpw-wsstorage-'));
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });
  const put = (path: string, content: unknown): void => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  };

  it('reads the project of each workspace.json (a folder, or the folder of a .code-workspace), skipping remote and unreadable ones', async () => {
    const home = join(root, 'home', 'alice');
    const folderProject = join(root, 'old project'); // outside every --project-root: only workspaceStorage names it
    const workspaceProject = join(root, 'mono');
    put(join(folderProject, '.vscode', 'mcp.json'), { servers: { 'ws-storage-folder': { command: 'npx', args: ['-y', '@acme/folder-server'] } } });
    put(join(workspaceProject, 'mono.code-workspace'), { folders: [{ path: '.' }], settings: { mcp: { servers: { 'ws-storage-workspace': { command: 'uvx', args: ['acme-ws'] } } } } });
    const storage = (editor: string, id: string) => join(home, '.config', editor, 'User', 'workspaceStorage', id, 'workspace.json');
    put(storage('Code', '1a2b3c'), { folder: pathToFileURL(folderProject).href });
    put(storage('Cursor', '4d5e6f'), { workspace: pathToFileURL(join(workspaceProject, 'mono.code-workspace')).href });
    put(storage('Code', '7a8b9c'), { folder: 'vscode-remote://ssh-remote+box/home/alice/remote' });
    put(storage('Code', 'broken'), '{"folder": ');

    const result = await discover({ platform: 'linux', homes: [{ user: 'alice', home }], env: {}, projectRoots: [], systemRoot: join(root, 'system') });

    const found = result.files.flatMap((f) => f.entries.map((e) => [e.client, e.name, e.scope, e.projectPath].join(' ')));
    expect(found.sort()).toEqual([`vscode ws-storage-folder workspace ${folderProject}`, `vscode ws-storage-workspace workspace ${workspaceProject}`]);
    expect(result.projects.sort()).toEqual([workspaceProject, folderProject].sort());
    expect(result.errors).toEqual([]);
  });

  it('maps workspace.json URIs to paths on Windows too', () => {
    expect(vscodeWorkspaceProject({ folder: 'file:///c%3A/Users/alice/my%20app' }, 'win32')).toBe('c:\\Users\\alice\\my app');
    expect(vscodeWorkspaceProject({ workspace: 'file:///c%3A/Users/alice/mono/mono.code-workspace' }, 'win32')).toBe('c:\\Users\\alice\\mono');
    expect(vscodeWorkspaceProject({ workspace: 'vscode-remote://wsl+Ubuntu/home/a/x.code-workspace' }, 'win32')).toBeNull();
    expect(vscodeWorkspaceProject({}, 'linux')).toBeNull();
  });
});

describe('WSL distributions: extra homes on Windows, read with the Linux layout', () => {
  const wslRoot = join(FIXTURES, 'win32', 'wsl.localhost');
  const windowsHome = join(FIXTURES, 'win32', HOME_REL.win32);
  const wslHome = join(wslRoot, 'Ubuntu', 'home', 'alice');
  const deps: HomeDeps = {
    ...realHomeDeps({}),
    isPrivileged: () => false,
    currentUser: () => ({ user: 'alice', home: windowsHome }),
    // Debian is listed but has no home folder; '..' could leave the WSL root.
    wslDistros: () => Promise.resolve(['Ubuntu', 'Debian', '..']),
    wslRoot,
  };

  it('adds each running distribution\'s homes after the Windows ones', async () => {
    expect(await defaultHomes('win32', deps)).toEqual([
      { user: 'alice', home: windowsHome },
      { user: 'alice', home: wslHome, platform: 'linux' },
    ]);
    expect(await defaultHomes('linux', { ...deps, currentUser: () => ({ user: 'alice', home: '/home/alice' }) })).toEqual([{ user: 'alice', home: '/home/alice' }]);
  });

  it('finds the servers in a WSL home at their Linux paths (~/.config, not AppData)', async () => {
    const ctx = fixtureContext('win32');
    const result = await discover({ ...ctx, homes: await defaultHomes('win32', deps) });
    const inWsl = result.files.filter((f) => f.path.startsWith(wslRoot)).flatMap((f) => f.entries.map((e) => [e.client, e.name, e.scope, e.user, e.configPath].join(' ')));
    expect(inWsl.sort()).toEqual([
      `claude-code wsl-claude-memory user alice ${join(wslHome, '.claude.json')}`,
      `codex wsl-codex-docs user alice ${join(wslHome, '.codex', 'config.toml')}`,
      `crush wsl-crush-fs user alice ${join(wslHome, '.config', 'crush', 'crush.json')}`,
    ]);
    expect(result.files.flatMap((f) => f.errors)).toEqual([]);
    expect(watchTargets({ ...ctx, homes: await defaultHomes('win32', deps) })).toContain(join(wslHome, '.config', 'crush', 'crush.json'));
  });

  it('reads wsl.exe\'s distribution list (UTF-16LE) and drops names that could leave the root', () => {
    expect(parseWslList(Buffer.from('\ufeffUbuntu-24.04\r\ndocker-desktop\r\n..\r\nbad\\name\r\n\r\n', 'utf16le'))).toEqual(['Ubuntu-24.04', 'docker-desktop']);
    expect(parseWslList(Buffer.from('Ubuntu\nUbuntu\n', 'utf8'))).toEqual(['Ubuntu']);
  });
});
