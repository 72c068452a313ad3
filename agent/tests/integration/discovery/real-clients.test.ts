/**
 * The clients are the authority on their own file formats: real Claude Code, Gemini CLI, Codex,
 * Qwen Code and GitHub Copilot CLI (from npm) write their MCP config with their own `mcp add` commands, in every scope
 * they offer, into a temporary home; discovery must then find every server, with its client and
 * scope, and normalization must accept each.
 *
 * The clients are installed once into a cache folder below the OS temp dir (npm, no install
 * scripts), or taken from MCPW_REAL_CLIENTS_DIR. `mcp add` needs no network or login for these
 * five (Copilot CLI's `mcp add` writes user scope only). When npm cannot install them (offline machine), the test says so and is skipped.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discover } from '../../../src/discovery/index.js';
import { normalizeEntry } from '../../../src/normalize/index.js';
import type { ScanContext } from '../../../src/types.js';

const PACKAGES = ['@anthropic-ai/claude-code', '@google/gemini-cli', '@openai/codex', '@qwen-code/qwen-code', '@github/copilot'];
const BINS = ['claude', 'gemini', 'codex', 'qwen', 'copilot'] as const;
const CACHE = process.env.MCPW_REAL_CLIENTS_DIR ?? join(tmpdir(), 'mcpwatch-real-clients');

/**
 * Claude Code 2.x ships its program as a platform package that its own postinstall links into
 * place; the install above runs no scripts, so run that one step (local, no network) when the
 * linked program is missing. Idempotent.
 */
function linkClaudeNative(): string | null {
  const installer = join(CACHE, 'node_modules', '@anthropic-ai', 'claude-code', 'install.cjs');
  if (!existsSync(installer)) return null;
  if (spawnSync(join(CACHE, 'node_modules', '.bin', 'claude'), ['--version'], { cwd: CACHE, encoding: 'utf8', timeout: 60_000 }).status === 0) return null;
  const r = spawnSync(process.execPath, [installer], { cwd: CACHE, encoding: 'utf8', timeout: 120_000 });
  return r.status === 0 ? null : `Claude Code's install.cjs failed (status ${r.status}): ${(r.stderr || String(r.error)).slice(-400)}`;
}

/** Installs the clients into CACHE unless present; returns why not when it cannot. */
function ensureClients(): string | null {
  if (!BINS.every((b) => existsSync(join(CACHE, 'node_modules', '.bin', b)))) {
    mkdirSync(CACHE, { recursive: true });
    if (!existsSync(join(CACHE, 'package.json'))) writeFileSync(join(CACHE, 'package.json'), '{"name":"mcpwatch-real-clients","private":true}\n');
    const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', ...PACKAGES], { cwd: CACHE, encoding: 'utf8', timeout: 600_000 });
    if (r.status !== 0) return `npm install of ${PACKAGES.join(', ')} failed (status ${r.status}): ${(r.stderr || String(r.error)).slice(-400)}`;
  }
  return linkClaudeNative();
}

const skipReason = ensureClients();
if (skipReason) console.warn(`real-clients: SKIPPED: ${skipReason}`);
const maybe = skipReason ? describe.skip : describe;

maybe('servers written by the real clients', () => {
  let home: string;
  let project: string;
  let result: Awaited<ReturnType<typeof discover>>;
  const added: Array<{ bin: (typeof BINS)[number]; args: string[] }> = [
    { bin: 'claude', args: ['mcp', 'add', '--scope', 'user', 'real-claude-user', '--', 'npx', '-y', '@modelcontextprotocol/server-everything'] },
    { bin: 'claude', args: ['mcp', 'add', '--scope', 'project', 'real-claude-project', '--', 'npx', '-y', '@modelcontextprotocol/server-memory'] },
    { bin: 'claude', args: ['mcp', 'add', '--scope', 'local', '--transport', 'http', 'real-claude-local', 'https://mcp.example.com/mcp'] },
    { bin: 'gemini', args: ['mcp', 'add', '--scope', 'user', 'real-gemini-user', 'npx', '-y', '@modelcontextprotocol/server-everything'] },
    { bin: 'gemini', args: ['mcp', 'add', '--scope', 'project', '-t', 'http', 'real-gemini-project', 'https://mcp.example.com/g'] },
    { bin: 'codex', args: ['mcp', 'add', 'real-codex', '--', 'npx', '-y', '@modelcontextprotocol/server-everything'] },
    { bin: 'qwen', args: ['mcp', 'add', '--scope', 'user', 'real-qwen-user', 'npx', '-y', '@modelcontextprotocol/server-everything'] },
    { bin: 'qwen', args: ['mcp', 'add', '--scope', 'project', 'real-qwen-project', 'npx', '-y', '@modelcontextprotocol/server-memory'] },
    { bin: 'copilot', args: ['mcp', 'add', 'real-copilot-user', '--', 'npx', '-y', '@modelcontextprotocol/server-everything'] },
    { bin: 'copilot', args: ['mcp', 'add', '--transport', 'http', 'real-copilot-http', 'https://mcp.example.com/c'] },
  ];

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'mcpw-real-home-'));
    project = join(home, 'code', 'proj');
    mkdirSync(project, { recursive: true });
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: home,
      USERPROFILE: home,
      DISABLE_TELEMETRY: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      GEMINI_CLI_TRUST_WORKSPACE: 'true',
      NO_COLOR: '1',
    };
    for (const { bin, args } of added) {
      const r = spawnSync(join(CACHE, 'node_modules', '.bin', bin), args, { cwd: project, env, encoding: 'utf8', timeout: 120_000 });
      if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    }
    const ctx: ScanContext = { platform: 'linux', homes: [{ user: 'tester', home }], env: { HOME: home }, projectRoots: [join(home, 'code')], systemRoot: join(home, 'no-system') };
    result = await discover(ctx);
  }, 600_000);

  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('finds every server each client added, at the scope the client wrote it', () => {
    const found = result.files.flatMap((f) => f.entries.map((e) => `${e.client} ${e.name} ${e.scope}`)).sort();
    expect(found).toEqual(
      [
        'claude-code real-claude-user user',
        'claude-code real-claude-project project',
        'claude-code real-claude-local project',
        'gemini-cli real-gemini-user user',
        'gemini-cli real-gemini-project project',
        'codex real-codex user',
        'qwen-code real-qwen-user user',
        'qwen-code real-qwen-project project',
        'copilot-cli real-copilot-user user',
        'copilot-cli real-copilot-http user',
      ].sort(),
    );
    expect(result.files.flatMap((f) => f.errors)).toEqual([]);
  });

  it('normalizes each entry with the transport and package the client recorded', () => {
    const servers = result.files.flatMap((f) => f.entries).map((e) => {
      const n = normalizeEntry(e);
      if (!n.ok) throw new Error(`${e.client}/${e.name}: ${n.error.reason}`);
      return n.server;
    });
    const by = (name: string) => servers.find((s) => s.name === name)!;
    expect(by('real-claude-local')).toMatchObject({ transport: 'http', url: 'https://mcp.example.com/mcp', projectPath: project });
    expect(by('real-gemini-project')).toMatchObject({ transport: 'http', url: 'https://mcp.example.com/g' });
    expect(by('real-copilot-http')).toMatchObject({ transport: 'http', url: 'https://mcp.example.com/c' });
    for (const n of ['real-claude-user', 'real-gemini-user', 'real-codex', 'real-qwen-user', 'real-copilot-user']) {
      expect(by(n)).toMatchObject({ transport: 'stdio', command: 'npx', package: expect.objectContaining({ ecosystem: 'npm', name: '@modelcontextprotocol/server-everything' }) });
    }
  });
});
