/**
 * ship/command-wait.ts against the real collector (built bin, child process, SQLite, loopback): an
 * enrolled agent's long-poll, feeding the containment executor as the composition root does,
 * receives a quarantine the moment an admin issues it, and the executor takes the server out of
 * the Cursor config file — with no batch sent after the command was issued (there is no shipper
 * here at all: the only batch is the one that told the collector about the server). shutdown()
 * cuts the held wait; a new loop of the same agent then receives the restore, which puts the
 * original bytes back.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { batchHeaders, makeEvent, type HostInfo, type McpEvent } from '@mcpwatch/shared';
import { freePort, makeServerEntry, stopProcess, waitFor } from '@mcpwatch/testkit';
import { enroll } from '../../src/enroll/enroll-client.js';
import { HttpClient } from '../../src/ship/http-client.js';
import { CommandWait, COMMAND_WAIT_MS } from '../../src/ship/command-wait.js';
import { ContainmentExecutor } from '../../src/containment/index.js';

const COLLECTOR_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../collector/bin/mcpwatch-collector.js');
const SECRET = 'command-wait-enroll-secret-01';
const ADMIN = 'command-wait-admin-token-0001';
const host: HostInfo = { hostname: 'wait-host', platform: 'linux', users: ['alice'], hardwareUuid: 'uuid-wait-1' };
const CURSOR = `{
  // user servers
  "mcpServers": {
    "github": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"] },
    "shell": { "command": "npx", "args": ["-y", "mcp-shell"] }
  }
}
`;

let root: string;
let collector: ChildProcess;
let base: string;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-cmd-wait-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  collector = spawn(process.execPath, [COLLECTOR_BIN, '--data-dir', path.join(root, 'collector'), '--listen', `127.0.0.1:${port}`, '--tls', 'off'], {
    env: { ...process.env, MCPWATCH_ENROLL_SECRET: SECRET, MCPWATCH_ADMIN_TOKEN: ADMIN, MCPWATCH_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  collector.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  collector.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor('the collector to listen (collector/dist must be built: npx tsc -b tsconfig.build.json)', () => {
    if (collector.exitCode !== null) throw new Error(`collector exited ${collector.exitCode}: ${out}`);
    return out.includes('listening on');
  }, 90_000);
}, 120_000);

afterAll(async () => {
  if (collector) await stopProcess(collector);
  fs.rmSync(root, { recursive: true, force: true });
});

async function admin<T>(method: 'GET' | 'POST', url: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

test('a quarantine issued by an admin reaches the agent through the long-poll and changes the config file without any batch being sent', async () => {
  const home = path.join(root, 'home');
  const configFile = path.join(home, '.cursor', 'mcp.json');
  fs.mkdirSync(path.dirname(configFile), { recursive: true });
  fs.writeFileSync(configFile, CURSOR);
  const stateDir = path.join(root, 'state');
  const identity = await enroll({ server: base, secret: SECRET, stateDir, host, agentVersion: '0.1.0' });
  const { agentId, endpointId } = identity.record;

  // The one batch of this test, before anything is issued: the collector learns of the server.
  const shell = makeServerEntry('shell', { client: 'cursor', scope: 'user', configPath: configFile, user: 'alice', args: ['-y', 'mcp-shell'], package: { ecosystem: 'npm', name: 'mcp-shell', version: null, pinned: false, runner: 'npx' } } as never);
  const gz = gzipSync(JSON.stringify({ agentId, seq: 1, prevHash: '', sentAt: new Date().toISOString(), events: [makeEvent('server.added', endpointId, shell)] }));
  const sent = await fetch(`${base}/v1/batches`, { method: 'POST', headers: { ...batchHeaders(identity.privateKey, agentId, 1, Date.now(), gz), 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gz });
  expect(sent.status).toBe(200);
  await waitFor('the server in the collector inventory', async () => ((await admin<{ servers?: unknown[] }>('GET', `/v1/endpoints/${endpointId}`)).servers ?? []).length === 1);

  // The agent side as the composition root wires it: long-poll → containment executor → events.
  const events: McpEvent[] = [];
  const executor = new ContainmentExecutor({ stateDir, endpointId: () => endpointId, servers: () => [shell], emit: (e) => events.push(e), log: () => undefined });
  const http = new HttpClient({ timeoutMs: COMMAND_WAIT_MS + 15_000 });
  const wait = new CommandWait({ http, identity: () => ({ agentId, privateKey: identity.privateKey, server: base }), onCommands: (c) => void executor.handle(c) });
  wait.start();
  try {
    const issued = await admin<{ commandId: string }>('POST', '/v1/admin/containment', { endpointId, serverKey: shell.serverKey, action: 'quarantine', reason: 'long-poll e2e' });

    await waitFor('the config file changed by the agent', () => fs.readFileSync(configFile, 'utf8') !== CURSOR, 30_000);
    expect(fs.readFileSync(configFile, 'utf8')).not.toContain('"shell"');
    expect(fs.readFileSync(configFile, 'utf8')).toContain('"github"');
    await waitFor('server.quarantined emitted', () => events.some((e) => e.type === 'server.quarantined'));
    expect(events.find((e) => e.type === 'server.quarantined')!.data).toMatchObject({ commandId: issued.commandId, serverKey: shell.serverKey, configPath: configFile });
    // The collector handed it out (delivered) although this agent sent no batch after seq 1.
    const audit = await admin<{ items: Array<{ commandId: string; status: string }> }>('GET', `/v1/admin/containment?endpoint=${endpointId}`);
    expect(audit.items.find((i) => i.commandId === issued.commandId)).toMatchObject({ status: 'delivered' });
    const agents = await admin<{ items: Array<{ agentId: string; lastSeq: number }> }>('GET', `/v1/agents?endpoint=${endpointId}`);
    expect(agents.items.find((a) => a.agentId === agentId)).toMatchObject({ lastSeq: 1 });
  } finally {
    await wait.shutdown();
    http.close();
  }
  expect(wait.answered).toBeGreaterThanOrEqual(1);

  // Shutdown cut the held wait; a new loop of the same agent gets the next command (its slot at the
  // collector was freed, or it backs off on the 429 and comes back), and restore puts the bytes back.
  const http2 = new HttpClient({ timeoutMs: COMMAND_WAIT_MS + 15_000 });
  const again = new CommandWait({ http: http2, identity: () => ({ agentId, privateKey: identity.privateKey, server: base }), onCommands: (c) => void executor.handle(c), retryBaseMs: 50 });
  again.start();
  try {
    await admin('POST', '/v1/admin/containment', { endpointId, serverKey: shell.serverKey, action: 'restore', reason: 'reviewed' });
    await waitFor('the original config back', () => fs.readFileSync(configFile, 'utf8') === CURSOR, 30_000);
    await waitFor('server.restored emitted', () => events.some((e) => e.type === 'server.restored'));
  } finally {
    await again.shutdown();
    http2.close();
  }
}, 120_000);
