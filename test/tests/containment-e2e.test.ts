/**
 * Containment end to end: the real collector and the real agent (`mcpwatch-agent run`, built bins,
 * child processes) on a fixture home. An admin quarantines a server through the admin API; the
 * signed command rides in a batch ack; the agent takes the entry out of its client's config file
 * (JSONC with comments: only the entry's bytes change), keeps the original, and its
 * server.quarantined event reaches the collector's store and audit trail. Restore puts the file
 * back byte for byte and is recorded the same way.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ADMIN_TOKEN, endpointOf, enrollAgent, freePort, startAgent, startCollector, storedEvents, waitFor, type Child, type CollectorHandle } from './agent-pipeline-harness.js';

const CURSOR_MCP = `// Cursor: user MCP servers (edited by hand)
{
  "mcpServers": {
    // the GitHub server, pinned
    "github": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-github@2025.4.8"] },
    "shell": {
      "command": "npx",
      "args": ["-y", "mcp-shell"], // runs anything
      "env": { "SHELL_TOKEN": "canary-containment-secret-77f3" }
    }
  }
}
`;

interface Audit {
  items: Array<{ commandId: string; action: string; status: string; reason: string; resultDetail: string | null }>;
  states: Array<{ serverKey: string; state: string }>;
}

let root: string;
let collector: CollectorHandle | null = null;
let agent: Child | null = null;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-contain-e2e-'));
  collector = await startCollector(path.join(root, 'data'), await freePort(), root);
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  await collector?.child.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

async function api<T>(method: 'GET' | 'POST', url: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${collector!.url}${url}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as T };
}

test('quarantine through the admin API edits the agent\'s config file, is reported and audited; restore puts it back exactly', async () => {
  const home = path.join(root, 'home');
  const configFile = path.join(home, '.cursor', 'mcp.json');
  fs.mkdirSync(path.dirname(configFile), { recursive: true });
  fs.writeFileSync(configFile, CURSOR_MCP, { mode: 0o600 });
  const stateDir = path.join(root, 'agent', 'state');
  await enrollAgent(collector!.url, stateDir, root);
  const { agentId, endpointId } = endpointOf(stateDir);
  agent = startAgent({ stateDir, home, logFile: path.join(root, 'agent.log') });

  let serverKey = '';
  await waitFor('the shell server in the collector inventory', async () => {
    const r = await api<{ servers?: Array<{ name: string; serverKey: string }> }>('GET', `/v1/endpoints/${endpointId}`);
    serverKey = r.json.servers?.find((s) => s.name === 'shell')?.serverKey ?? '';
    return serverKey !== '';
  });

  const issued = await api<{ commandId: string }>('POST', '/v1/admin/containment', { endpointId, serverKey, action: 'quarantine', reason: 'runs arbitrary shell commands' });
  expect(issued.status).toBe(200);
  await waitFor('the config file edited by the agent', () => fs.readFileSync(configFile, 'utf8') !== CURSOR_MCP);
  const quarantined = fs.readFileSync(configFile, 'utf8');
  // Only the entry went: the rest, comments included, is byte for byte the original.
  expect(quarantined).toBe(CURSOR_MCP.replace(/,\n {4}"shell": \{[\s\S]*?\n {4}\}/, ''));
  expect(fs.statSync(configFile).mode & 0o777).toBe(0o600);

  await waitFor('the quarantine succeeded in the audit trail', async () => {
    const a = await api<Audit>('GET', `/v1/admin/containment?endpoint=${endpointId}`);
    return a.json.items.some((i) => i.commandId === issued.json.commandId && i.status === 'succeeded');
  });
  const audit = (await api<Audit>('GET', `/v1/admin/containment?endpoint=${endpointId}`)).json;
  expect(audit.items[0]).toMatchObject({ action: 'quarantine', reason: 'runs arbitrary shell commands', status: 'succeeded' });
  expect(audit.items[0]!.resultDetail).toContain(configFile);
  expect(audit.states.find((s) => s.serverKey === serverKey)).toMatchObject({ state: 'quarantined' });
  const stored = storedEvents(collector!.dataDir, agentId);
  const result = stored.find((e) => e.type === 'server.quarantined');
  expect(JSON.parse(result!.data)).toMatchObject({ commandId: issued.json.commandId, serverKey, configPath: configFile });
  // The agent's watcher saw its own edit: the server is gone from the endpoint's inventory.
  await waitFor('server.removed for the quarantined entry', () => storedEvents(collector!.dataDir, agentId).some((e) => e.type === 'server.removed' && e.data.includes(serverKey)));
  // The secret in the removed entry stayed on the endpoint.
  expect(stored.map((e) => e.data).join('\n')).not.toContain('canary-containment-secret-77f3');

  const restore = await api<{ commandId: string }>('POST', '/v1/admin/containment', { endpointId, serverKey, action: 'restore', reason: 'reviewed: allowed' });
  expect(restore.status).toBe(200);
  await waitFor('the original config bytes back', () => fs.readFileSync(configFile, 'utf8') === CURSOR_MCP);
  await waitFor('the restore succeeded in the audit trail', async () => {
    const a = await api<Audit>('GET', `/v1/admin/containment?endpoint=${endpointId}`);
    return a.json.items.some((i) => i.commandId === restore.json.commandId && i.status === 'succeeded');
  });
  const after = (await api<Audit>('GET', `/v1/admin/containment?endpoint=${endpointId}`)).json;
  expect(after.states.find((s) => s.serverKey === serverKey)).toMatchObject({ state: 'restored' });
  const restored = storedEvents(collector!.dataDir, agentId).find((e) => e.type === 'server.restored');
  expect(JSON.parse(restored!.data)).toMatchObject({ commandId: restore.json.commandId, mode: 'exact' });
  expect(fs.readFileSync(configFile)).toEqual(Buffer.from(CURSOR_MCP));
}, 180_000);
