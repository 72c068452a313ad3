/**
 * The hook's server map in run mode, end to end: the runtime with the real inventory watcher over a
 * fixture home, the rules evaluation wired as composition.ts wires it (withHookSupport: hook
 * findings + the server map), shipping to a real HTTP collector (testkit's FakeCollector). A user
 * has `github` in ~/.claude.json and, another server under the same name, in one project's entry.
 * The map file appears with the fingerprints the inventory snapshot carries; the real hook command
 * (a child process, as Claude Code runs it) resolves the name by the session's cwd; the collector
 * gets `tool.called` events naming the same fingerprints as the snapshot's servers. A config change
 * rewrites the map without a restart.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InventoryDocument, McpEvent, ServerEntry } from '@mcpwatch/shared';
import { enrolledStateDir, FakeCollector } from '@mcpwatch/testkit';
import { AgentRuntime } from '../../../src/runtime/agent-runtime.js';
import { configDefaults, type AgentConfig } from '../../../src/config/config-table.js';
import { InventoryWatcher } from '../../../src/inventory/inventory-watcher.js';
import { buildScanContext } from '../../../src/inventory/scan-context.js';
import { defaultScanDeps, rulesEvaluator } from '../../../src/inventory/scan-deps.js';
import { withHookSupport } from '../../../src/hooks/hook-findings.js';
import { HookStateBoard } from '../../../src/hooks/hook-state-board.js';
import { HookServerMapWriter } from '../../../src/hooks/hook-server-map-writer.js';
import { SERVER_MAP_DIR } from '../../../src/hooks/hook-server-map.js';
import { schemaErrors, validateEvent } from '../../helpers/schemas.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/mcpwatch-agent.js');
const AGENT = 'ag_server_map';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

/** The hook as Claude Code runs it for the home's user (HOME is that home). */
function hook(stateDir: string, home: string, cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'hook', 'claude-code', '--state-dir', stateDir], { stdio: ['pipe', 'pipe', 'ignore'], env: { ...process.env, HOME: home } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(out));
    child.stdin.end(JSON.stringify({ session_id: 's', transcript_path: '/tmp/t', cwd, hook_event_name: 'PreToolUse', tool_name: 'mcp__github__create_issue', tool_input: { title: 't' } }));
  });
}

async function until<T>(probe: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 1000; i++) {
    const v = probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

let collector: FakeCollector;
beforeAll(async () => {
  collector = new FakeCollector(new Map([[AGENT, publicKey]]));
  await collector.listen();
});
afterAll(async () => collector.close());

test('the running agent writes the map from its inventory; the hook records the inventory\'s fingerprint for the project or user server', async () => {
  // Arrange: a home with Claude Code's user server and a project's server of the same name.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-map-run-'));
  const home = path.join(root, 'home');
  const project = path.join(root, 'work', 'app');
  fs.mkdirSync(project, { recursive: true });
  fs.mkdirSync(home);
  const claudeJson = (projectArgs: string[]) =>
    JSON.stringify({
      mcpServers: { github: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'] } },
      projects: { [project]: { mcpServers: { github: { command: 'npx', args: projectArgs } } } },
    });
  fs.writeFileSync(path.join(home, '.claude.json'), claudeJson(['-y', 'github-mcp-fork@1.0.0']));
  const stateDir = enrolledStateDir({ agentId: AGENT, endpointId: 'ep_map', server: collector.url, privateKey, settings: {}, prefix: 'mcpw-map-run-state-' });
  const config: AgentConfig = {
    ...configDefaults(), stateDir, processPollMs: 3_600_000, heartbeatMs: 3_600_000,
    retryBaseMs: 10, retryMaxMs: 50, reconnectJitterMs: 0, batchMaxWaitMs: 10, lowPriority: false, enrollSecret: null,
  };
  const ctx = await buildScanContext({ platform: 'linux', home, projectRoots: [], systemRoot: null });
  const real = defaultScanDeps();
  let watcher: InventoryWatcher | null = null;
  const runtime: AgentRuntime = new AgentRuntime({
    config,
    createWatcher: (o) =>
      (watcher = new InventoryWatcher(
        { ctx, sources: { configs: true, processes: false, sockets: false }, endpointId: o.endpointId, processIntervalMs: o.processIntervalMs, emitSnapshot: o.emitSnapshot, debounceMs: 20, onEvent: o.onEvent, onError: o.onError },
        {
          ...real,
          // As composition.ts wires it.
          evaluateRules: withHookSupport(rulesEvaluator(() => runtime.rulesOptions()), {
            board: new HookStateBoard(),
            serverMap: new HookServerMapWriter({ stateDir, onError: (e) => { throw e; } }),
            options: () => runtime.rulesOptions(),
          }),
        },
      )),
    hostInfo: async () => ({ hostname: 'h', platform: 'linux', users: [] }),
    log: () => undefined,
  });

  try {
    // Act 1: the start scan.
    await runtime.start();
    expect(await runtime.flush()).toBe(true);
    const snapshot = await until(() => collector.events().find((e) => e.type === 'inventory.snapshot'), 'the snapshot') as Extract<McpEvent, { type: 'inventory.snapshot' }>;
    const github = (snapshot.data as InventoryDocument).servers.filter((s) => s.name === 'github' && s.client === 'claude-code');
    expect(github).toHaveLength(2);
    const userServer = github.find((s) => !s.projectPath) as ServerEntry;
    const projectServer = github.find((s) => s.projectPath === project) as ServerEntry;
    expect(userServer.fingerprint).not.toBe(projectServer.fingerprint);

    // Assert 1: the map holds both, with the inventory's fingerprints, and no argument of theirs.
    const mapDir = path.join(stateDir, SERVER_MAP_DIR);
    const files = fs.readdirSync(mapDir);
    const text = files.map((f) => fs.readFileSync(path.join(mapDir, f), 'utf8')).join('\n');
    expect(text).toContain(userServer.fingerprint);
    expect(text).toContain(projectServer.fingerprint);
    expect(text).not.toContain('github-mcp-fork@1.0.0'); // the package name may be there, never the args
    // Act 2: the real hook command, in the project and outside it.
    await hook(stateDir, home, path.join(project, 'src'));
    await hook(stateDir, home, home);

    // Assert 2: the collector gets the calls with the snapshot's fingerprints.
    const calls = await until(() => {
      const c = collector.events().filter((e) => e.type === 'tool.called');
      return c.length === 2 ? c : undefined;
    }, 'two tool.called events');
    for (const e of calls) expect(schemaErrors(validateEvent, e)).toBe('');
    expect(calls.map((e) => (e.data as { serverFingerprint?: string }).serverFingerprint)).toEqual([projectServer.fingerprint, userServer.fingerprint]);

    // Act 3: the project's server changes; the map follows without a restart.
    fs.writeFileSync(path.join(home, '.claude.json'), claudeJson(['-y', 'another-github-mcp']));
    watcher!.configChanged();
    const changed = await until(() => {
      const s = collector.events().filter((e) => e.type === 'server.changed' || e.type === 'server.added').map((e) => e.data as ServerEntry).find((x) => x.projectPath === project);
      return s;
    }, 'the changed project server');
    await until(() => (fs.readdirSync(mapDir).some((f) => fs.readFileSync(path.join(mapDir, f), 'utf8').includes(changed.fingerprint)) ? true : undefined), 'the rewritten map');
    await hook(stateDir, home, project);
    const last = await until(() => {
      const c = collector.events().filter((e) => e.type === 'tool.called');
      return c.length === 3 ? c[2] : undefined;
    }, 'the third call');
    expect((last.data as { serverFingerprint?: string }).serverFingerprint).toBe(changed.fingerprint);
  } finally {
    await runtime.shutdown();
  }
}, 60_000);
