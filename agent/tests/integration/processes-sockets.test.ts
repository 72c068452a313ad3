/**
 * Real processes: a stand-in Claude Desktop launches the real @modelcontextprotocol/server-everything
 * over stdio and over streamable HTTP; `scan` must find the client, both servers matched to their
 * config entries with the client link and user, the HTTP server's listening socket (bound to all
 * interfaces), and the client's connection to the same server configured as a remote URL, without
 * any planted secret in its output.
 */
import type { InventoryDocument } from '@mcpwatch/shared';
import os from 'node:os';
import { runCli } from '../helpers/cli-run.js';
import { schemaErrors, validateInventory } from '../helpers/schemas.js';
import { PROCESS_CANARIES, startMcpFixture, type McpFixture } from '../support/mcp-fixture.js';

let fx: McpFixture;

beforeAll(async () => {
  fx = await startMcpFixture();
});

afterAll(async () => {
  await fx?.close();
});

async function scanJson(): Promise<{ doc: InventoryDocument; stdout: string }> {
  const r = await runCli(['scan', '--json', '--home', fx.home, '--platform', 'linux', '--sources', 'configs,processes,sockets']);
  expect(r.code).toBe(0);
  return { doc: JSON.parse(r.stdout) as InventoryDocument, stdout: r.stdout };
}

/** Scans until `ready(doc)` holds (the HTTP server needs a moment to listen); bounded. */
async function scanUntil(ready: (doc: InventoryDocument) => boolean): Promise<{ doc: InventoryDocument; stdout: string }> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const out = await scanJson();
    if (ready(out.doc) || Date.now() > deadline) return out;
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('scan finds the client, both server processes matched to config, the listening socket and the client\'s remote connection', async () => {
  const { doc, stdout } = await scanUntil((d) => d.sockets.some((s) => s.localPort === fx.httpPort) && d.sockets.some((s) => s.kind === 'remote'));
  expect(schemaErrors(validateInventory, doc)).toBe('');
  const stdio = doc.servers.find((s) => s.name === 'everything-stdio');
  const http = doc.servers.find((s) => s.name === 'everything-http');
  expect(stdio && http).toBeTruthy();

  const client = doc.processes.find((p) => p.pid === fx.client.pid);
  expect(client).toMatchObject({ kind: 'client', client: 'claude-desktop' });

  const me = os.userInfo().username;
  const [stdioPid, httpPid] = fx.childPids;
  expect(doc.processes.find((p) => p.pid === stdioPid)).toMatchObject({
    kind: 'server', client: 'claude-desktop', serverKey: stdio?.serverKey, match: 'config', ppid: fx.client.pid, user: me,
  });
  expect(doc.processes.find((p) => p.pid === httpPid)).toMatchObject({
    kind: 'server', client: 'claude-desktop', serverKey: http?.serverKey, match: 'config', ppid: fx.client.pid, user: me,
  });
  // Only MCP-related processes are reported: not the test runner, not unrelated system processes.
  expect(doc.processes.every((p) => p.kind === 'client' || p.serverKey || p.match === 'pattern')).toBe(true);
  expect(doc.processes.some((p) => p.pid === process.pid)).toBe(false);

  const listen = doc.sockets.find((s) => s.kind === 'listen' && s.localPort === fx.httpPort);
  expect(listen).toMatchObject({ pid: httpPid, allInterfaces: true, serverKey: http?.serverKey, client: 'claude-desktop' });

  const remote = doc.servers.find((s) => s.name === 'everything-remote');
  expect(doc.sockets).toContainEqual(
    expect.objectContaining({ kind: 'remote', pid: fx.client.pid, peerPort: fx.httpPort, serverKey: remote?.serverKey, client: 'claude-desktop', allInterfaces: false }),
  );

  for (const canary of Object.values(PROCESS_CANARIES)) expect(stdout).not.toContain(canary);
  const stdioCmd = doc.processes.find((p) => p.pid === stdioPid)?.cmd ?? '';
  expect(stdioCmd).toContain('--token [REDACTED]');
});

test('the table lists the processes and the all-interfaces listener without secrets', async () => {
  await scanUntil((d) => d.sockets.some((s) => s.localPort === fx.httpPort));
  const r = await runCli(['scan', '--home', fx.home, '--platform', 'linux', '--sources', 'configs,processes,sockets']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`${fx.client.pid} +client +claude-desktop`));
  expect(r.stdout).toMatch(new RegExp(`listen +.*:${fx.httpPort} +- +yes +claude-desktop`));
  for (const canary of Object.values(PROCESS_CANARIES)) expect(r.stdout).not.toContain(canary);
});
