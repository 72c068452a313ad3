/**
 * containment/containment-executor.ts with real files and real signatures: quarantine takes one
 * entry out of a real client config (JSON, JSONC with comments, YAML with comments, TOML) and
 * changes no other byte; restore gives back the file byte for byte; a changed file gets the entry
 * re-inserted; forged, expired, replayed, wrong-endpoint and malformed commands are refused with
 * command.failed and touch nothing.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { computeServerKey } from '@mcpwatch/shared/protocol';
import type { McpEvent, ServerEntry } from '@mcpwatch/shared';
import { ContainmentExecutor } from '../../../src/containment/index.js';
import { command, makeCa, type TestCa } from './command-keys.js';

const ENDPOINT = 'ep-test-1';

const CURSOR_JSON = `{
  "mcpServers": {
    "github": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-github"],
      "env": { "GITHUB_TOKEN": "ghp_canary000000000000000000000000000000" }
    },
    "shell": { "command": "npx", "args": ["-y", "mcp-shell"] }
  }
}
`;

const VSCODE_JSONC = `// VS Code user MCP servers
{
\t"inputs": [],
\t"servers": {
\t\t// the file system one
\t\t"fs": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/"] },
\t\t/* remote */ "remote": { "type": "http", "url": "https://mcp.example.test/mcp" }, // trailing
\t},
}
`;

const GOOSE_YAML = `# goose config
GOOSE_PROVIDER: openai   # chosen at setup
extensions:
  developer:
    enabled: true
    name: developer
    type: builtin
  # the shell extension, added by hand
  shell:
    cmd: npx
    args: ["-y", "mcp-shell"]   # floating
    enabled: true
    type: stdio
  fetch:
    cmd: uvx
    args:
      - mcp-server-fetch
    enabled: true
    type: stdio
`;

const CODEX_TOML = `# Codex
model = "o3"

[mcp_servers.shell]
command = "npx"
args = ["-y", "mcp-shell"] # floating

[mcp_servers.shell.env]
SHELL_TOKEN = "canary-token-0000"

[mcp_servers.fetch]
command = "uvx"
args = ["mcp-server-fetch"]
`;

interface Fixture {
  label: string;
  client: string;
  rel: string[];
  text: string;
  name: string;
}

const FIXTURES: Fixture[] = [
  { label: 'JSON (Cursor)', client: 'cursor', rel: ['.cursor', 'mcp.json'], text: CURSOR_JSON, name: 'shell' },
  { label: 'JSONC with comments (VS Code)', client: 'vscode', rel: ['.config', 'Code', 'User', 'mcp.json'], text: VSCODE_JSONC, name: 'fs' },
  { label: 'YAML with comments (Goose)', client: 'goose', rel: ['.config', 'goose', 'config.yaml'], text: GOOSE_YAML, name: 'shell' },
  { label: 'TOML (Codex)', client: 'codex', rel: ['.codex', 'config.toml'], text: CODEX_TOML, name: 'shell' },
];

let ca: TestCa;
let root: string;
let events: McpEvent[];
let servers: ServerEntry[];

function entry(client: string, configPath: string, name: string): ServerEntry {
  const scope = 'user';
  return { client, scope, configPath, name, projectPath: null, serverKey: computeServerKey({ client, scope, configPath, name }) } as unknown as ServerEntry;
}

function executor(over: { endpointId?: string; pem?: string } = {}): ContainmentExecutor {
  return new ContainmentExecutor({
    stateDir: path.join(root, 'state'),
    endpointId: () => over.endpointId ?? ENDPOINT,
    servers: () => servers,
    emit: (e) => events.push(e),
    log: () => undefined,
    pinnedCaPem: () => over.pem ?? ca.certPem,
  });
}

function write(f: Fixture): { file: string; server: ServerEntry } {
  const file = path.join(root, 'home', ...f.rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, f.text, { mode: 0o644 });
  const server = entry(f.client, file, f.name);
  servers.push(server);
  return { file, server };
}

beforeEach(() => {
  ca ??= makeCa();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-contain-'));
  events = [];
  servers = [];
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe.each(FIXTURES)('$label', (f) => {
  test('quarantine removes only the entry; restore puts the original bytes back', async () => {
    const { file, server } = write(f);
    const ex = executor();
    await ex.handle([command(ca, 'quarantine', ENDPOINT, server.serverKey)]);
    const after = fs.readFileSync(file, 'utf8');
    expect(events.map((e) => e.type)).toEqual(['server.quarantined']);
    expect(events[0]!.data).toMatchObject({ serverKey: server.serverKey, configPath: file });
    expect(after).not.toBe(f.text);
    expect(after).not.toMatch(new RegExp(`("${f.name}"|^\\s*${f.name}:|\\.${f.name}\\])`, 'm'));
    // Byte-level: what is left is the original with one contiguous span taken out.
    let p = 0;
    while (p < after.length && after[p] === f.text[p]) p++;
    const cut = f.text.length - after.length;
    expect(cut).toBeGreaterThan(0);
    expect(f.text.slice(0, p) + f.text.slice(p + cut)).toBe(after);
    expect(f.text.slice(p, p + cut)).toContain(f.name);
    expect(fs.statSync(file).mode & 0o777).toBe(0o644);

    await ex.handle([command(ca, 'restore', ENDPOINT, server.serverKey)]);
    expect(fs.readFileSync(file, 'utf8')).toBe(f.text);
    expect(events.map((e) => e.type)).toEqual(['server.quarantined', 'server.restored']);
    expect(events[1]!.data).toMatchObject({ mode: 'exact' });
  });

  test('restore after the user edited the file re-inserts the entry and keeps the edit', async () => {
    const { file, server } = write(f);
    const ex = executor();
    await ex.handle([command(ca, 'quarantine', ENDPOINT, server.serverKey)]);
    const edited = `${fs.readFileSync(file, 'utf8')}${f.rel[f.rel.length - 1]!.endsWith('.toml') || f.rel[f.rel.length - 1]!.endsWith('.yaml') ? '# user note\n' : ''}`;
    const changed = f.rel[f.rel.length - 1]!.endsWith('.json') ? edited.replace('{', '{\n  "added": 1,') : edited;
    fs.writeFileSync(file, changed);
    await ex.handle([command(ca, 'restore', ENDPOINT, server.serverKey)]);
    expect(events[1]).toMatchObject({ type: 'server.restored', data: { mode: 'reinserted' } });
    const now = fs.readFileSync(file, 'utf8');
    expect(now).toContain(f.name);
    expect(now.includes('"added": 1') || now.includes('# user note')).toBe(true);
  });
});

describe('refused commands (command.failed, file untouched)', () => {
  async function refused(make: (key: string) => unknown, reason: string, ex?: ContainmentExecutor): Promise<void> {
    const { file, server } = write(FIXTURES[0]!);
    await (ex ?? executor()).handle([make(server.serverKey)]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'command.failed', data: { reason } });
    expect(fs.readFileSync(file, 'utf8')).toBe(CURSOR_JSON);
  }

  test('forged: signed by another key', () => refused((k) => command(makeCa('attacker'), 'quarantine', ENDPOINT, k), 'signature-invalid'));
  test('tampered: a signed command with its serverKey changed', () =>
    refused((k) => ({ ...command(ca, 'quarantine', ENDPOINT, 'some-other-server-key'), serverKey: k }), 'signature-invalid'));
  test('expired', () => refused((k) => command(ca, 'quarantine', ENDPOINT, k, {}, Date.now() - 7200_000), 'expired'));
  test('for another endpoint', () => refused((k) => command(ca, 'quarantine', 'ep-someone-else', k), 'wrong-endpoint'));
  test('malformed', () => refused(() => ({ id: 'cmd_x', action: 'delete-everything' }), 'signature-invalid'));
  test('unknown server', () => refused(() => command(ca, 'quarantine', ENDPOINT, 'no-such-server-key'), 'unknown-server'));

  test('replayed: a used nonce under a new id', async () => {
    const { file, server } = write(FIXTURES[0]!);
    const ex = executor();
    const first = command(ca, 'quarantine', ENDPOINT, server.serverKey);
    await ex.handle([first]);
    await ex.handle([command(ca, 'restore', ENDPOINT, server.serverKey)]);
    await ex.handle([command(ca, 'quarantine', ENDPOINT, server.serverKey, { nonce: first.nonce })]);
    expect(events.map((e) => e.type)).toEqual(['server.quarantined', 'server.restored', 'command.failed']);
    expect(events[2]!.data).toMatchObject({ reason: 'replayed' });
    expect(fs.readFileSync(file, 'utf8')).toBe(CURSOR_JSON);
  });

  test('the same command delivered again (at-least-once), even after a restart, is not acted on again', async () => {
    const { file, server } = write(FIXTURES[0]!);
    const q = command(ca, 'quarantine', ENDPOINT, server.serverKey);
    await executor().handle([q]);
    await executor().handle([command(ca, 'restore', ENDPOINT, server.serverKey)]);
    await executor().handle([q, q]);
    expect(events.map((e) => e.type)).toEqual(['server.quarantined', 'server.restored']);
    expect(fs.readFileSync(file, 'utf8')).toBe(CURSOR_JSON);
  });

  test('a list-shaped server file (Continue YAML) is unsupported-format', async () => {
    const file = path.join(root, 'home', '.continue', 'config.yaml');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const text = 'mcpServers:\n  - name: shell\n    command: mcp-shell\n';
    fs.writeFileSync(file, text);
    const server = entry('continue', file, 'shell');
    servers.push(server);
    await executor().handle([command(ca, 'quarantine', ENDPOINT, server.serverKey)]);
    expect(events[0]).toMatchObject({ type: 'command.failed', data: { reason: 'unsupported-format' } });
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  });

  test('restore refuses with file-changed when the entry is back already', async () => {
    const { file, server } = write(FIXTURES[0]!);
    const ex = executor();
    await ex.handle([command(ca, 'quarantine', ENDPOINT, server.serverKey)]);
    fs.writeFileSync(file, CURSOR_JSON.replace('"github"', '"github2"'));
    await ex.handle([command(ca, 'restore', ENDPOINT, server.serverKey)]);
    expect(events[1]).toMatchObject({ type: 'command.failed', data: { reason: 'file-changed' } });
  });
});

test('a quarantine that arrives before the first inventory waits for it', async () => {
  const { file, server } = write(FIXTURES[0]!);
  let ready = false;
  const ex = new ContainmentExecutor({
    stateDir: path.join(root, 'state'),
    endpointId: () => ENDPOINT,
    servers: () => (ready ? servers : null),
    emit: (e) => events.push(e),
    log: () => undefined,
    pinnedCaPem: () => ca.certPem,
  });
  const done = ex.handle([command(ca, 'quarantine', ENDPOINT, server.serverKey)]);
  setTimeout(() => (ready = true), 250);
  await done;
  expect(events.map((e) => e.type)).toEqual(['server.quarantined']);
  expect(fs.readFileSync(file, 'utf8')).not.toBe(CURSOR_JSON);
});

test('canary: a failure message about a broken file never carries its secret values', async () => {
  const f = FIXTURES[2]!; // YAML
  const { file, server } = write(f);
  const ex = executor();
  await ex.handle([command(ca, 'quarantine', ENDPOINT, server.serverKey)]);
  fs.writeFileSync(file, 'GOOSE_PROVIDER: [openai\ntoken: sk-ant-canary-9f8e7d6c5b4a39281706\n');
  await ex.handle([command(ca, 'restore', ENDPOINT, server.serverKey)]);
  expect(events[1]).toMatchObject({ type: 'command.failed', data: { reason: 'file-changed' } });
  expect(JSON.stringify(events)).not.toContain('sk-ant-canary');
  expect(JSON.stringify(events)).not.toContain('openai');
});
