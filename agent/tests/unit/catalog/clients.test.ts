/**
 * The client catalog as data: complete for every OS, internally consistent, and its process
 * signatures recognise real client executables and command lines.
 */
import { CLIENTS, clientById, locationsFor, processSignatures, projectMarkers, type CompiledProcessSignature } from '../../../src/catalog/index.js';
import type { Platform } from '../../../src/types.js';

const PLATFORMS: Platform[] = ['darwin', 'win32', 'linux'];
const REQUIRED = [
  'claude-desktop', 'claude-code', 'cursor', 'vscode', 'vscode-insiders', 'windsurf', 'zed', 'cline', 'roo-code', 'continue',
  'gemini-cli', 'codex', 'copilot-cli', 'amazon-q', 'lm-studio', 'goose', 'opencode', 'kiro',
];

describe('client catalog', () => {
  it('covers every required client, with unique client and location ids', () => {
    expect(CLIENTS.map((c) => c.id)).toEqual(expect.arrayContaining(REQUIRED));
    expect(new Set(CLIENTS.map((c) => c.id)).size).toBe(CLIENTS.length);
    for (const c of CLIENTS) expect(new Set(c.locations.map((l) => l.id)).size).toBe(c.locations.length);
  });

  it.each(PLATFORMS)('gives every client a user-level location on %s', (platform) => {
    const withUser = new Set(locationsFor(platform).filter(({ location }) => location.scope === 'user').map(({ client }) => client.id));
    for (const id of REQUIRED) expect(withUser).toContain(id);
  });

  it('uses a format that matches each file name', () => {
    for (const c of CLIENTS) {
      for (const l of c.locations) {
        const last = l.path[l.path.length - 1] ?? '';
        if (last === '') continue; // env:VAR naming the file itself
        if (l.reader === 'docker-profiles') {
          // A SQLite database read by its own reader (discovery/docker-profiles.ts), not parsed as text.
          expect({ at: `${c.id}/${l.id}`, db: last.endsWith('.db') }).toEqual({ at: `${c.id}/${l.id}`, db: true });
          continue;
        }
        const ext = last.slice(last.lastIndexOf('.') + 1);
        const expected = { json: ['json', 'jsonc'], jsonc: ['jsonc'], yaml: ['yaml'], yml: ['yaml'], toml: ['toml'], xml: ['xml'], 'code-workspace': ['jsonc'] }[ext];
        expect({ at: `${c.id}/${l.id}`, ok: expected?.includes(l.format) }).toEqual({ at: `${c.id}/${l.id}`, ok: true });
        // Docker MCP Toolkit's config.yaml / tools.yaml hold settings, not servers: read (secret
        // checks) and watched, with no server section.
        const settingsOnly = c.id === 'docker-mcp-toolkit' && ['server-config', 'tools'].includes(l.id);
        expect({ at: `${c.id}/${l.id}`, sections: l.sections.length > 0 || settingsOnly }).toEqual({ at: `${c.id}/${l.id}`, sections: true });
      }
    }
  });

  it('puts the managed Claude Code files at the documented system paths', () => {
    const managed = clientById('claude-code')!.locations.filter((l) => l.scope === 'managed');
    expect(managed.map((l) => [l.os.join(), l.path.join('/')])).toEqual([
      ['darwin', 'Library/Application Support/ClaudeCode/managed-mcp.json'],
      ['linux', 'etc/claude-code/managed-mcp.json'],
      ['win32', 'ProgramData/ClaudeCode/managed-mcp.json'],
      ['win32', 'Program Files/ClaudeCode/managed-mcp.json'],
    ]);
  });

  it('lists project markers for the project walk', () => {
    expect(projectMarkers()).toEqual(expect.arrayContaining(['.mcp.json', '.vscode', '.cursor', '.roo', '.continue', '.gemini', '.codex', '.amazonq', '.kiro', '.zed', 'opencode.json', 'opencode.jsonc', '.opencode']));
  });
});

describe('processSignatures', () => {
  /** The first client whose signature matches an executable path and command line (as the process collector would). */
  function match(sigs: CompiledProcessSignature[], exePath: string, cmdline: string): string | undefined {
    const base = exePath.split(/[\\/]/).pop()!.toLowerCase();
    return sigs.find((s) => s.pathPatterns.some((p) => p.test(exePath)) || s.cmdlinePatterns.some((p) => p.test(cmdline)))?.client
      ?? sigs.find((s) => s.names.includes(base))?.client;
  }

  it.each<[Platform, string, string, string]>([
    ['darwin', '/Applications/Claude.app/Contents/MacOS/Claude', '/Applications/Claude.app/Contents/MacOS/Claude', 'claude-desktop'],
    ['darwin', '/Applications/Cursor.app/Contents/MacOS/Cursor', '/Applications/Cursor.app/Contents/MacOS/Cursor', 'cursor'],
    ['darwin', '/Applications/Visual Studio Code.app/Contents/MacOS/Electron', 'Electron', 'vscode'],
    ['win32', 'C:\\Users\\a\\AppData\\Local\\AnthropicClaude\\app-0.9.3\\Claude.exe', 'Claude.exe', 'claude-desktop'],
    ['win32', 'C:\\Program Files\\Microsoft VS Code\\Code.exe', 'Code.exe', 'vscode'],
    ['win32', 'C:\\Program Files\\nodejs\\node.exe', 'node C:\\Users\\a\\AppData\\Roaming\\npm\\node_modules\\@anthropic-ai\\claude-code\\cli.js', 'claude-code'],
    ['linux', '/usr/bin/node', 'node /usr/lib/node_modules/@google/gemini-cli/dist/index.js', 'gemini-cli'],
    ['linux', '/usr/bin/node', 'node /usr/local/lib/node_modules/@openai/codex/bin/codex.js', 'codex'],
    ['linux', '/home/a/.local/bin/claude', 'claude --resume', 'claude-code'],
    ['linux', '/usr/share/code/code', '/usr/share/code/code --unity-launch', 'vscode'],
    ['linux', '/usr/bin/goose', 'goose session', 'goose'],
    ['linux', '/usr/share/codium/codium', '/usr/share/codium/codium', 'vscodium'],
    ['win32', 'C:\\Program Files\\VSCodium\\VSCodium.exe', 'VSCodium.exe', 'vscodium'],
  ])('on %s recognises %s', (platform, exe, cmdline, client) => {
    expect(match(processSignatures(platform), exe, cmdline)).toBe(client);
  });

  it('names the hosts of extension clients and matches nothing for an unrelated process', () => {
    const sigs = processSignatures('linux');
    expect(sigs.find((s) => s.client === 'cline')?.hostedBy).toContain('vscode');
    expect(match(sigs, '/usr/bin/python3', 'python3 -m http.server')).toBeUndefined();
  });
});
