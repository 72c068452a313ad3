/**
 * Project folders a client records itself are read without a project walk (issue 14): Codex's
 * `[projects."<path>"]` tables in ~/.codex/config.toml name trusted projects, whose
 * .codex/config.toml servers are then found at project scope. OpenCode's $OPENCODE_CONFIG_DIR is
 * read when set for this home.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { discover } from '../../../src/discovery/index.js';
import type { ScanContext } from '../../../src/types.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'mcpw-coverage-projects-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
const put = (path: string, content: string): void => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
};

it('reads the .codex/config.toml of every project Codex trusts, and $OPENCODE_CONFIG_DIR', async () => {
  const home = join(root, 'home');
  const repo = join(root, 'elsewhere', 'repo');
  put(join(home, '.codex', 'config.toml'), `model = "gpt-5"\n\n[projects."${repo}"]\ntrust_level = "trusted"\n`);
  put(join(repo, '.codex', 'config.toml'), '[mcp_servers.repo-docs]\ncommand = "npx"\nargs = ["-y", "@upstash/context7-mcp"]\n');
  const ocDir = join(root, 'oc');
  put(join(ocDir, 'opencode.json'), JSON.stringify({ mcp: { 'oc-dir-server': { type: 'local', command: ['npx', '-y', '@modelcontextprotocol/server-memory'] } } }));
  const ctx: ScanContext = { platform: 'linux', homes: [{ user: 'u', home }], env: { HOME: home, OPENCODE_CONFIG_DIR: ocDir }, projectRoots: [], systemRoot: join(root, 'sys') };
  const r = await discover(ctx);
  const found = r.files.flatMap((f) => f.entries.map((e) => `${e.client} ${e.name} ${e.scope} ${e.projectPath ?? '-'}`)).sort();
  expect(found).toEqual([`codex repo-docs project ${repo}`, 'opencode oc-dir-server user -']);
  expect(r.projects).toContain(repo);
});
