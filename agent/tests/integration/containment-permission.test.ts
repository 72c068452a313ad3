/**
 * containment: a quarantine the agent may not write (the config's directory is not writable for
 * it) ends as command.failed with reason `permission`, the config file unchanged, no temporary
 * file left and no quarantine record kept. Runs the built executor (agent/dist) in a child
 * process: as root, under uid 65534 (root may write anywhere); otherwise as this user.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeServerKey } from '@mcpwatch/shared/protocol';
import { command, makeCa } from '../unit/containment/command-keys.js';

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/containment/index.js');
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
let root: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-contain-perm-'));
  fs.chmodSync(root, 0o755);
});
afterAll(() => {
  fs.chmodSync(path.join(root, 'home', '.cursor'), 0o755);
  fs.rmSync(root, { recursive: true, force: true });
});

test('no write permission on the config directory: command.failed permission, file unchanged', () => {
  const ca = makeCa();
  const configDir = path.join(root, 'home', '.cursor');
  fs.mkdirSync(configDir, { recursive: true });
  const configFile = path.join(configDir, 'mcp.json');
  const text = '{\n  "mcpServers": {\n    "shell": { "command": "mcp-shell" },\n    "fetch": { "url": "https://example.test/mcp" }\n  }\n}\n';
  fs.writeFileSync(configFile, text, { mode: 0o644 });
  fs.chmodSync(configDir, 0o555);
  const stateDir = path.join(root, 'state');
  fs.mkdirSync(stateDir, { mode: 0o700 });
  if (asRoot) fs.chownSync(stateDir, NOBODY, NOBODY);
  const serverKey = computeServerKey({ client: 'cursor', scope: 'user', configPath: configFile, name: 'shell' });
  const input = {
    dist: DIST,
    stateDir,
    caPem: ca.certPem,
    servers: [{ client: 'cursor', scope: 'user', configPath: configFile, name: 'shell', projectPath: null, serverKey }],
    commands: [command(ca, 'quarantine', 'ep-perm', serverKey)],
  };
  const script = `
    const input = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
    import(input.dist).then(async ({ ContainmentExecutor }) => {
      const events = [];
      const ex = new ContainmentExecutor({ stateDir: input.stateDir, endpointId: () => 'ep-perm', servers: () => input.servers,
        emit: (e) => events.push(e), log: () => {}, pinnedCaPem: () => input.caPem });
      await ex.handle(input.commands);
      process.stdout.write(JSON.stringify(events));
    });`;
  const r = spawnSync(process.execPath, ['-e', script], { input: JSON.stringify(input), encoding: 'utf8', ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}) });
  expect(r.stderr).toBe('');
  const events = JSON.parse(r.stdout) as Array<{ type: string; data: { reason: string; message: string } }>;
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({ type: 'command.failed', data: { reason: 'permission' } });
  expect(events[0]!.data.message).toMatch(/EACCES/);
  expect(fs.readFileSync(configFile, 'utf8')).toBe(text);
  expect(fs.readdirSync(configDir)).toEqual(['mcp.json']);
  expect(fs.readdirSync(path.join(stateDir, 'containment', 'quarantine'))).toEqual([]);
});
