/**
 * The catalog's coverage floor (issue 14): at least 40 clients, each new one with the sources its
 * locations were checked against, a user-level location on every OS it has files on, and process
 * signatures that recognise the client's real executables and command lines.
 */
import { CLIENTS, processSignatures, projectMarkers, type CompiledProcessSignature } from '../../../src/catalog/index.js';
import { matchClientSignature } from '../../../src/collect/process-signatures.js';
import { MORE_CLIENTS } from '../../../src/catalog/more-clients.js';
import type { Platform } from '../../../src/types.js';

function match(sigs: CompiledProcessSignature[], exePath: string, cmdline: string): string | undefined {
  const base = exePath.split(/[\\/]/).pop()!.toLowerCase();
  return (
    sigs.find((s) => s.pathPatterns.some((p) => p.test(exePath)) || s.cmdlinePatterns.some((p) => p.test(cmdline)))?.client ??
    sigs.find((s) => s.names.includes(base))?.client
  );
}

describe('catalog coverage', () => {
  it('knows at least 40 clients, ids unique', () => {
    expect(CLIENTS.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CLIENTS.map((c) => c.id)).size).toBe(CLIENTS.length);
  });

  it('records a source beside every client added for coverage', () => {
    for (const c of MORE_CLIENTS) expect({ id: c.id, sources: (c.sources ?? []).filter((s) => s.trim().length > 10).length > 0 }).toEqual({ id: c.id, sources: true });
  });

  it('gives every added client a user or plugin location on each OS it has any location on', () => {
    for (const c of MORE_CLIENTS) {
      const platforms = new Set(c.locations.flatMap((l) => l.os));
      for (const p of platforms) {
        const scopes = new Set(c.locations.filter((l) => l.os.includes(p)).map((l) => l.scope));
        const hasOwnFile = scopes.has('user') || scopes.has('project');
        expect({ id: c.id, p, hasOwnFile }).toEqual({ id: c.id, p, hasOwnFile: true });
      }
    }
  });

  it('reads `servers` as well as `mcpServers` in Visual Studio and Rovo Dev files', () => {
    const vs = MORE_CLIENTS.find((c) => c.id === 'visual-studio')!;
    expect(vs.locations.find((l) => l.id === 'user')!.sections.map((s) => s.path.join('.'))).toEqual(['mcpServers', 'servers']);
    const rovo = MORE_CLIENTS.find((c) => c.id === 'rovo-dev')!;
    expect(rovo.locations[0]!.sections.map((s) => s.path.join('.'))).toEqual(['mcpServers', 'servers']);
  });

  it('names every client issue 14 lists that has its own config file or process', () => {
    const ids = new Set(CLIENTS.map((c) => c.id));
    const named = ['warp', 'devin-cli', 'devin-desktop', 'qoder', 'tabnine', 'boltai', 'jan', 'witsy', 'sema4ai', 'open-interpreter', 'docker-mcp-toolkit', 'codex-desktop'];
    expect(named.filter((id) => !ids.has(id))).toEqual([]);
  });

  it('marks every location that no public page confirmed as unverified', () => {
    const unverified = MORE_CLIENTS.filter((c) => (c.sources ?? []).some((s) => /unverified/.test(s))).map((c) => c.id);
    expect(unverified).toEqual(expect.arrayContaining(['sema4ai', 'open-interpreter', 'windsurf-jetbrains', 'copilot-jetbrains']));
    // Verified since (issue 14, second pass): their sources name the pages that confirm them.
    for (const id of ['qoder', 'boltai', 'jan', 'witsy', 'trae', 'anythingllm', 'devin-desktop']) expect({ id, unverified: unverified.includes(id) }).toEqual({ id, unverified: false });
  });

  it('walks the new project markers', () => {
    expect(projectMarkers()).toEqual(expect.arrayContaining(['.ai', '.junie', '.amp', '.crush.json', 'crush.json', '.factory', '.trae', '.kilocode', '.qwen', '.grok', '.vibe', '.kimi-code', '.pi', '.vs', '.devcontainer', '.github', '.warp', '.devin', '.cognition', '.qoder', '.tabnine']));
  });
});

describe('process signatures of the added clients', () => {
  const cases: Array<[Platform, string, string, string]> = [
    ['win32', 'C:\\Program Files\\Microsoft Visual Studio\\2022\\Community\\Common7\\IDE\\devenv.exe', 'devenv.exe', 'visual-studio'],
    ['linux', '/usr/bin/node', 'node /usr/lib/node_modules/@sourcegraph/amp/dist/main.js', 'amp'],
    ['darwin', '/opt/homebrew/bin/crush', 'crush', 'crush'],
    ['linux', '/usr/bin/node', 'node /home/a/.npm-global/lib/node_modules/@qwen-code/qwen-code/cli.js', 'qwen-code'],
    ['win32', 'C:\\Program Files\\nodejs\\node.exe', 'node C:\\Users\\a\\AppData\\Roaming\\npm\\node_modules\\@augmentcode\\auggie\\augment.mjs', 'augment'],
    ['linux', '/home/a/.local/bin/vibe', '/home/a/.local/share/uv/tools/mistral-vibe/bin/python vibe', 'mistral-vibe'],
    ['darwin', '/Applications/Antigravity.app/Contents/MacOS/Electron', '/Applications/Antigravity.app/Contents/MacOS/Electron', 'antigravity'],
    ['darwin', '/Applications/IntelliJ IDEA.app/Contents/MacOS/idea', 'idea', 'jetbrains-ai-assistant'],
    ['linux', '/usr/bin/acli', 'acli rovodev run', 'rovo-dev'],
    ['darwin', '/Applications/Warp.app/Contents/MacOS/stable', '/Applications/Warp.app/Contents/MacOS/stable', 'warp'],
    ['linux', '/opt/warpdotdev/warp-terminal/warp', 'warp', 'warp'],
    ['linux', '/home/a/.devin/bin/devin', 'devin -- add a login page', 'devin-cli'],
    ['darwin', '/Applications/Devin Desktop.app/Contents/MacOS/Devin Desktop', 'Devin Desktop', 'devin-desktop'],
    ['win32', 'C:\\Users\\a\\AppData\\Local\\Programs\\Qoder\\Qoder.exe', 'Qoder.exe', 'qoder'],
    ['linux', '/usr/local/bin/tabnine', 'tabnine', 'tabnine'],
    ['darwin', '/Applications/BoltAI.app/Contents/MacOS/BoltAI', 'BoltAI', 'boltai'],
    ['darwin', '/Applications/Jan.app/Contents/MacOS/Jan', 'Jan', 'jan'],
    ['win32', 'C:\\Users\\a\\AppData\\Local\\Programs\\Witsy\\Witsy.exe', 'Witsy.exe', 'witsy'],
    ['linux', '/home/a/.local/bin/interpreter', '/home/a/.local/pipx/venvs/open-interpreter/bin/python /home/a/.local/bin/interpreter', 'open-interpreter'],
    ['linux', '/usr/libexec/docker/cli-plugins/docker-mcp', 'docker-mcp gateway run --transport stdio', 'docker-mcp-toolkit'],
    ['darwin', '/Applications/Codex.app/Contents/MacOS/Codex', 'Codex', 'codex-desktop'],
    ['darwin', '/opt/homebrew/bin/codex', 'codex', 'codex'],
  ];
  it.each(cases)('on %s, %s is %s', (platform, exe, cmdline, client) => {
    expect(match(processSignatures(platform), exe, cmdline)).toBe(client);
  });
});

describe('the process matcher (first matching signature wins) tells the Codex app from the CLI', () => {
  it('recognises the app and its bundled agent by bundle path, and the CLI elsewhere', () => {
    const sigs = processSignatures('darwin');
    expect(matchClientSignature({ name: 'Codex', cmd: '/Applications/Codex.app/Contents/MacOS/Codex', path: '/Applications/Codex.app/Contents/MacOS/Codex' }, sigs)).toBe('codex-desktop');
    expect(matchClientSignature({ name: 'codex', cmd: '/Applications/Codex.app/Contents/Resources/codex app-server', path: '/Applications/Codex.app/Contents/Resources/codex' }, sigs)).toBe('codex-desktop');
    expect(matchClientSignature({ name: 'codex', cmd: 'codex', path: '/opt/homebrew/bin/codex' }, sigs)).toBe('codex');
  });
});
