/**
 * Every format the added clients use, and every way their files fail, give records or coded
 * errors, never a silent zero (issue 14): one home holds a broken file for each of several added
 * clients next to a good file of another; the broken ones each yield exactly one coded error on
 * their own path, the good ones still yield their servers. Format quirks the clients accept parse:
 * JSONC comments and trailing commas (Amp, MCPorter), TOML arrays of tables (Mistral Vibe), YAML
 * anchors and merge keys (Hermes), dotted keys as one key (`amp.mcpServers`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { discover } from '../../../src/discovery/index.js';
import { normalizeEntry } from '../../../src/normalize/index.js';
import type { ScanContext } from '../../../src/types.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'mcpw-coverage-fail-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function put(path: string, content: string | Buffer): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return path;
}

describe('added clients: failures are coded errors on their own file', () => {
  it('malformed JSONC, malformed TOML, a YAML alias bomb, binary, oversized and a folder in place of a file', async () => {
    const home = join(root, 'failing');
    const bad = {
      amp: put(join(home, '.config', 'amp', 'settings.json'), '{ "amp.mcpServers": { "x": { "command": "npx" ' ),
      vibe: put(join(home, '.vibe', 'config.toml'), '[[mcp_servers]]\nname = "broken\ncommand = "npx"\n'),
      hermes: put(join(home, '.hermes', 'config.yaml'), `a: &a ["x","x","x","x","x","x","x","x","x","x"]\n${Array.from({ length: 12 }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(10).fill(i === 0 ? '*a' : `*l${i}`).join(',')}]`).join('\n')}\nmcp_servers: {}\n`),
      crush: put(join(home, '.config', 'crush', 'crush.json'), Buffer.from([0x7b, 0x00, 0x01, 0x02, 0x7d])),
      kimi: put(join(home, '.kimi-code', 'mcp.json'), `{"mcpServers": {"big": {"command": "npx", "args": ["${'a'.repeat(2 * 1024 * 1024)}"]}}}`),
    };
    mkdirSync(join(home, '.rovodev', 'mcp.json'), { recursive: true });
    put(join(home, '.qwen', 'settings.json'), '{ "mcpServers": { "still-here": { "httpUrl": "http://localhost:3000/mcp" } } }');
    const ctx: ScanContext = { platform: 'linux', homes: [{ user: 'u', home }], env: {}, projectRoots: [], systemRoot: join(root, 'sys'), maxFileBytes: 1024 * 1024 };
    const r = await discover(ctx);
    const errs = [...r.errors, ...r.files.flatMap((f) => f.errors)];
    const codeAt = (path: string) => errs.filter((e) => e.path === path).map((e) => e.code);
    expect(codeAt(bad.amp)).toEqual(['parse']);
    expect(codeAt(bad.vibe)).toEqual(['parse']);
    expect(codeAt(bad.hermes)).toHaveLength(1);
    expect(codeAt(bad.crush)).toEqual(['binary']);
    expect(codeAt(bad.kimi)).toEqual(['too-large']);
    expect(errs.filter((e) => e.path === join(home, '.rovodev', 'mcp.json'))).toHaveLength(1);
    expect(r.files.flatMap((f) => f.entries.map((e) => `${e.client}:${e.name}`))).toEqual(['qwen-code:still-here']);
  });
});

describe('added clients: format quirks they accept', () => {
  it('parses JSONC, TOML arrays of tables, YAML merge keys and dotted section keys into servers', async () => {
    const home = join(root, 'quirks');
    put(join(home, '.config', 'amp', 'settings.json'), '// amp\n{ "amp.mcpServers": { "a": { "url": "https://mcp.example.com/a", }, }, }');
    put(join(home, '.mcporter', 'mcporter.json'), '{ "mcpServers": { "m": { "baseUrl": "https://mcp.example.com/m", }, }, "imports": [], }');
    put(join(home, '.vibe', 'config.toml'), '[[mcp_servers]]\nname = "v1"\ntransport = "stdio"\ncommand = "uvx"\nargs = ["mcp-server-time"]\n\n[[mcp_servers]]\nname = "v2"\ntransport = "http"\nurl = "https://mcp.example.com/v"\n');
    put(join(home, '.hermes', 'config.yaml'), 'base: &base\n  command: npx\nmcp_servers:\n  h:\n    <<: *base\n    args: ["-y", "@modelcontextprotocol/server-memory"]\n');
    const ctx: ScanContext = { platform: 'linux', homes: [{ user: 'u', home }], env: {}, projectRoots: [], systemRoot: join(root, 'sys') };
    const r = await discover(ctx);
    expect(r.files.flatMap((f) => f.errors)).toEqual([]);
    const servers = r.files.flatMap((f) => f.entries).map((e) => {
      const n = normalizeEntry(e);
      if (!n.ok) throw new Error(n.error.reason);
      return n.server;
    });
    const row = (name: string) => servers.find((s) => s.name === name);
    expect(row('a')).toMatchObject({ client: 'amp', transport: 'http', url: 'https://mcp.example.com/a' });
    expect(row('m')).toMatchObject({ client: 'mcporter', url: 'https://mcp.example.com/m' });
    expect(row('v1')).toMatchObject({ client: 'mistral-vibe', transport: 'stdio', command: 'uvx' });
    expect(row('v2')).toMatchObject({ client: 'mistral-vibe', transport: 'http' });
    expect(row('h')).toMatchObject({ client: 'hermes', transport: 'stdio', command: 'npx', package: expect.objectContaining({ name: '@modelcontextprotocol/server-memory' }) });
  });
});
