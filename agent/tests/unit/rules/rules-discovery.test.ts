/**
 * Rules over what real discovery reads from real files: a fixture home on disk with several
 * clients' configs (one world-writable, one with a misplaced block holding a token, settings
 * that auto-approve), discovered, normalized and evaluated; the findings are the expected ones
 * and no planted value appears in them.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ServerEntry } from '@mcpwatch/shared';
import { discover } from '../../../src/discovery/index.js';
import { normalizeEntry } from '../../../src/normalize/index.js';
import { evaluateRules } from '../../../src/rules/index.js';
import type { ScanContext } from '../../../src/types.js';

const TOKEN = 'gh' + 'p_' + 'R7tY2uI9oP4aS6dF1gH3jK8lZ5xC0vB7nM2q';
const SLACK = 'xox' + 'b-' + '2234567890-' + 'Qw8Er7Ty6Ui5Op4As3Df2';

let home: string;
const put = (rel: string, text: string, mode = 0o600) => {
  const path = join(home, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
};

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'mcpw-rules-'));
  put(
    '.config/Claude/claude_desktop_config.json',
    JSON.stringify({
      mcpServers: {
        github: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'], env: { GITHUB_PERSONAL_ACCESS_TOKEN: TOKEN } },
        shell: { command: 'npx', args: ['-y', 'mcp-server-commands@0.6.0'], autoApprove: ['run_command'] },
      },
      slack: { env: { SLACK_BOT_TOKEN: SLACK } }, // misplaced block: not a server, still a leaked token
    }),
    0o666,
  );
  put('.cursor/mcp.json', '{\n  // comment\n  "mcpServers": { "remote": { "url": "http://mcp.example.net/mcp" }, "ok": { "url": "https://mcp.example.com/mcp" }, },\n}\n');
  put('.codex/config.toml', 'approval_policy = "never"\n\n[mcp_servers.docs]\ncommand = "docker"\nargs = ["run", "-i", "--rm", "-v", "/var/run/docker.sock:/var/run/docker.sock", "mcp/docs@sha256:' + 'c'.repeat(64) + '"]\n');
});

afterAll(() => rmSync(home, { recursive: true, force: true }));

it('finds the expected problems in real files, with names and kinds only', async () => {
  const ctx: ScanContext = { platform: 'linux', homes: [{ user: 'alice', home }], env: {}, projectRoots: [], systemRoot: join(home, 'no-system') };
  const discovered = await discover(ctx);
  const servers: ServerEntry[] = [];
  for (const file of discovered.files) {
    for (const raw of file.entries) {
      const r = normalizeEntry(raw);
      if (r.ok) servers.push(r.server);
    }
  }
  expect(servers.map((s) => `${s.client}/${s.name}`).sort()).toEqual(['claude-desktop/github', 'claude-desktop/shell', 'codex/docs', 'cursor/ok', 'cursor/remote']);

  const findings = evaluateRules({ files: discovered.files, raw: discovered.files.flatMap((f) => f.entries), servers, platform: 'linux' });
  const summary = findings.map((f) => `${f.ruleId} ${f.subject.serverName ?? f.subject.client} ${f.evidence?.field ?? ''}`).sort();
  expect(summary).toEqual(
    [
      'auto-approve shell autoApprove',
      'auto-approve codex approval_policy',
      'config-writable-by-others claude-desktop mode',
      'exec-capable-server shell package',
      'plaintext-remote remote url',
      'privileged-container docs args',
      'secret-in-config claude-desktop slack.env.SLACK_BOT_TOKEN',
      'secret-in-config github env.GITHUB_PERSONAL_ACCESS_TOKEN',
      'unpinned-package github package',
    ].sort(),
  );
  expect(findings.find((f) => f.ruleId === 'exec-capable-server')?.severity).toBe('critical'); // shell + auto-approve
  const text = JSON.stringify({ servers, findings });
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain(SLACK.slice(5));
});
