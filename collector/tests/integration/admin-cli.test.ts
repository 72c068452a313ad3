/**
 * The `mcpwatch` CLI as a child process against a real collector process (HTTPS with the embedded
 * CA, SQLite): table and JSON output, filters, admin commands, exit codes, and the token never
 * appearing in any output (canary). Needs the built dist (npm run build).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { seedFleet } from '../support/query-fixture.js';
import { enrolled, event, finding, hostInfo, serverEntry } from '../support/store-fixtures.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOKEN = 'CANARY-admin-token-5d1e8c0b77a4';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

let dataDir: string;
let collector: ChildProcess;
let server: string;
let store: Store;
let fleet: Awaited<ReturnType<typeof seedFleet>>;

function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin/mcpwatch.js'), ...args],
      { env: { PATH: process.env.PATH ?? '', MCPWATCH_SERVER: server, MCPWATCH_TOKEN: TOKEN, MCPWATCH_CA_FILE: join(dataDir, 'ca/ca-cert.pem'), ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        // The token is a secret: no command may print it.
        expect(stdout + stderr).not.toContain(TOKEN);
        resolve({ code, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'mcpw-cli-'));
  collector = spawn(process.execPath, [join(ROOT, 'bin/mcpwatch-collector.js'), '--data-dir', dataDir, '--listen', '127.0.0.1:0'], {
    env: { PATH: process.env.PATH ?? '', MCPWATCH_ENROLL_SECRET: 'fleet:enroll-secret-0123456789', MCPWATCH_ADMIN_TOKEN: TOKEN, MCPWATCH_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  server = await new Promise<string>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`collector did not start: ${err}`)), 30_000);
    collector.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /listening on (https?:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    collector.once('exit', (code) => reject(new Error(`collector exited ${code}: ${err}`)));
  });
  // A second process on the same SQLite file (WAL): seed the fleet the CLI will query.
  store = await createStore({ dataDir });
  fleet = await seedFleet(store);
});

afterAll(async () => {
  await store?.close();
  if (collector && collector.exitCode === null) {
    const exited = new Promise((r) => collector.once('exit', r));
    collector.kill('SIGTERM');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

test('endpoints prints a table by default and the API JSON with --json', async () => {
  const table = await cli(['endpoints']);
  expect(table.code).toBe(0);
  const lines = table.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^ENDPOINT\s+HOSTNAME\s+OS\s+AGENT\s+LAST SEEN/);
  expect(lines.slice(1).map((l) => l.split(/\s{2,}/)[1]).sort()).toEqual(['linux-bob', 'mac-alice', "win%_x'"]);
  const json = await cli(['endpoints', '--json', '--os', 'linux']);
  expect((JSON.parse(json.stdout) as { items: { hostname: string }[] }).items.map((e) => e.hostname)).toEqual(['linux-bob']);
});

test('filters, paging and single endpoints', async () => {
  expect((await cli(['endpoints', '--server-name', 'shell'])).stdout).toContain('mac-alice');
  expect((await cli(['endpoints', '--server-name', 'shell'])).stdout).not.toContain('linux-bob');
  const page = await cli(['endpoints', '--limit', '1']);
  expect(page.stdout).toMatch(/\(more: --cursor \S+ or --all\)/);
  const all = await cli(['endpoints', '--limit', '1', '--all', '--json']);
  expect((JSON.parse(all.stdout) as { items: unknown[] }).items).toHaveLength(3);
  const one = await cli(['endpoint', fleet.a.agent.endpointId]);
  expect(one.code).toBe(0);
  expect(one.stdout).toContain('mac-alice');
  expect(one.stdout).toMatch(/SERVERS\nNAME\s+CLIENT/);
  expect(one.stdout).toContain('shell-exec');
});

test('servers, who runs a server, findings and events', async () => {
  const servers = await cli(['servers']);
  expect(servers.stdout.split('\n')[1]).toContain(fleet.github.fingerprint);
  expect(servers.stdout).toContain('@modelcontextprotocol/server-github@1.0.0');
  const who = await cli(['server', fleet.github.fingerprint, '--json']);
  expect((JSON.parse(who.stdout) as { items: { hostname: string }[] }).items.map((e) => e.hostname).sort()).toEqual(['linux-bob', 'mac-alice']);
  const findings = await cli(['findings', '--severity', 'high']);
  expect(findings.stdout).toContain('shell-exec');
  expect(findings.stdout).not.toContain('floating-version');
  const events = await cli(['events', '--type', 'config.error', '--json']);
  expect((JSON.parse(events.stdout) as { items: { type: string }[] }).items.map((e) => e.type)).toEqual(['config.error']);
});

test('admin: tokens with scopes, enroll secrets shown once, agents revoked', async () => {
  const created = await cli(['tokens', 'create', 'soc', '--scope', 'read', '--json']);
  const readToken = (JSON.parse(created.stdout) as { token: string }).token;
  expect((await cli(['endpoints'], { MCPWATCH_TOKEN: readToken })).code).toBe(0);
  const denied = await cli(['agents'], { MCPWATCH_TOKEN: readToken });
  expect(denied.code).toBe(1);
  expect(denied.stderr).toMatch(/403 MCPW_ERR_FORBIDDEN/);

  const secret = await cli(['secrets', 'create', 'laptops']);
  const value = /\n(mcpw_enroll_\S+)/.exec(secret.stdout)?.[1];
  expect(value).toBeDefined();
  const list = await cli(['secrets']);
  expect(list.stdout).toMatch(/laptops/);
  expect(list.stdout).not.toContain(value!);
  expect((await cli(['secrets', 'revoke', 'laptops'])).stdout).toContain('revoked');

  const revoked = await cli(['agents', 'revoke', fleet.b.agent.agentId]);
  expect(revoked.code).toBe(0);
  expect((await store.getAgent(fleet.b.agent.agentId))!.revokedAt).not.toBeNull();
  expect((await cli(['agents', '--revoked'])).stdout).toContain(fleet.b.agent.agentId);
  await cli(['agents', 'restore', fleet.b.agent.agentId]);
  expect((await store.getAgent(fleet.b.agent.agentId))!.revokedAt).toBeNull();
});

test.each([
  [[], {}, 2, /no command given/],
  [['frobnicate'], {}, 2, /unknown command frobnicate/],
  [['tokens', 'create', 'x'], {}, 2, /--scope read or --scope admin/],
  [['endpoints'], { MCPWATCH_TOKEN: '' }, 2, /no token given/],
  [['endpoints'], { MCPWATCH_SERVER: '' }, 2, /no collector given/],
  [['endpoints'], { MCPWATCH_TOKEN: 'wrong-token-0000' }, 1, /401 MCPW_ERR_UNAUTHORIZED/],
  [['endpoints', '--severity', 'urgent'], {}, 1, /400 MCPW_ERR_SCHEMA/],
  [['endpoint', 'no-such-endpoint'], {}, 1, /404 MCPW_ERR_NOT_FOUND/],
  [['endpoints'], { MCPWATCH_CA_FILE: '' }, 1, /cannot reach the collector: .*(self-signed|certificate)/],
  [['endpoints'], { MCPWATCH_SERVER: 'https://127.0.0.1:1' }, 1, /cannot reach the collector: .*ECONNREFUSED/],
])('mcpwatch %j with %j exits %i', async (args, env, code, message) => {
  const r = await cli(args as string[], env as Record<string, string>);
  expect(r.code).toBe(code);
  expect(r.stderr).toMatch(message);
});

/** An endpoint whose inventory holds MCP processes and sockets, and hostile text everywhere. */
async function seedEndpoint(hostname: string, text: (s: string) => string) {
  const host = hostInfo({ hostname, platform: 'linux', osName: text('Ubuntu'), users: [text('dave')] });
  const e = await enrolled(store, host);
  const srv = { ...serverEntry(text('srv'), { pkg: 'proc-mcp' }), command: text('npx'), configPath: text('/home/dave/.cursor/mcp.json') };
  await e.sender.send([
    event('inventory.snapshot', e.agent.endpointId, {
      host,
      clients: [{ client: 'cursor', displayName: text('Cursor'), user: text('dave'), configPaths: [text('/p')], serverCount: 1 }],
      servers: [srv],
      processes: [
        { pid: 4242, ppid: 1, name: 'node', cmd: text('node /opt/proc-mcp/server.js --port 7777'), user: text('dave'), kind: 'server', client: 'cursor', serverKey: srv.serverKey, match: 'config', startedAt: null },
        { pid: 4100, ppid: 1, name: 'cursor', cmd: '/usr/share/cursor/cursor', user: 'dave', kind: 'client', client: 'cursor', serverKey: null, match: null, startedAt: null },
      ],
      sockets: [
        { pid: 4242, processName: text('node'), protocol: 'tcp', localAddress: '0.0.0.0', localPort: 7777, peerAddress: null, peerPort: null, kind: 'listen', allInterfaces: true, serverKey: srv.serverKey, client: 'cursor' },
        { pid: 4100, processName: 'cursor', protocol: 'tcp', localAddress: '10.0.0.5', localPort: 51000, peerAddress: text('mcp.example.com'), peerPort: 443, kind: 'remote', allInterfaces: false, serverKey: null, client: 'cursor' },
      ],
      findings: [{ ...finding('shell-exec', 'high', srv), title: text('Shell access') }],
      errors: [{ path: text('/home/dave/.vscode/mcp.json'), client: 'vscode', code: 'parse', reason: text('bad'), line: 1, column: 2 }],
    }),
  ]);
  return e;
}

test('endpoint ID shows the processes and sockets (and config errors) the API returns', async () => {
  const e = await seedEndpoint('proc-host', (s) => s);
  const r = await cli(['endpoint', e.agent.endpointId]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/PROCESSES\nPID\s+KIND\s+CLIENT\s+USER\s+MATCH\s+COMMAND/);
  expect(r.stdout).toMatch(/4242\s+server\s+cursor\s+dave\s+config\s+node \/opt\/proc-mcp\/server\.js --port 7777/);
  expect(r.stdout).toMatch(/4100\s+client\s+cursor/);
  expect(r.stdout).toMatch(/SOCKETS\nPID\s+PROCESS\s+KIND\s+PROTO\s+LOCAL\s+PEER\s+ALL INTERFACES/);
  expect(r.stdout).toMatch(/4242\s+node\s+listen\s+tcp\s+0\.0\.0\.0:7777\s+-\s+yes/);
  expect(r.stdout).toMatch(/4100\s+cursor\s+remote\s+tcp\s+10\.0\.0\.5:51000\s+mcp\.example\.com:443\s+no/);
  expect(r.stdout).toMatch(/CONFIG ERRORS\nCODE[\s\S]*parse\s+vscode\s+\/home\/dave\/\.vscode\/mcp\.json/);
});

describe('terminal escapes from agents never reach the terminal raw', () => {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/u;
  const EVIL = '\u001b]0;owned\u0007\u001b[2J\u009b31m\u202e\r\n\b\u0000';
  let endpointId: string;
  let fingerprint: string;

  beforeAll(async () => {
    const e = await seedEndpoint(`evil${EVIL}host`, (s) => `${s}${EVIL}`);
    endpointId = e.agent.endpointId;
    fingerprint = (await cli(['endpoint', endpointId, '--json'])).stdout.match(/"fingerprint": "([^"]+)"/)?.[1] ?? '';
  });

  it.each([
    [['endpoint', '<id>']],
    [['endpoints']],
    [['endpoints', '--json']],
    [['servers']],
    [['server', '<fp>']],
    [['findings']],
    [['findings', '--json']],
    [['events', '--endpoint', '<id>']],
    [['agents']],
    [['endpoint', '<id>', '--json']],
  ])('mcpwatch %j', async (args) => {
    const r = await cli(args.map((a) => (a === '<id>' ? endpointId : a === '<fp>' ? fingerprint : a)));
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(RAW);
    if (!args.includes('--json') && args[0] !== 'events') expect(r.stdout).toMatch(/\\x1b\]0;owned\\x07|\\u202e/);
  });

  it('keeps the exact values in --json', async () => {
    const r = await cli(['endpoint', endpointId, '--json']);
    const d = JSON.parse(r.stdout) as { endpoint: { hostname: string }; processes: { cmd: string }[] };
    // Exact but for NUL: the projector stores a NUL as U+FFFD on both engines, as the route does.
    const kept = EVIL.replaceAll('\u0000', '\uFFFD');
    expect(d.endpoint.hostname).toBe(`evil${kept}host`);
    expect(d.processes.map((p) => p.cmd)).toContain(`node /opt/proc-mcp/server.js --port 7777${kept}`);
  });

  it('escapes what an error message quotes back', async () => {
    const r = await cli(['endpoint', `nope${EVIL.replace('\u0000', '')}`]); // argv cannot hold NUL
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/404/);
    expect(r.stdout + r.stderr).not.toMatch(RAW);
  });
});

test('verify-history lists the stored batches that do not verify and exits 1; query tables end with how fresh the data is', async () => {
  // The seeded fleet's batches were stored through the store without agent signatures.
  const r = await cli(['verify-history']);
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/PROBLEM/);
  expect(r.stdout).toMatch(/signature/);
  expect(r.stdout).toMatch(/\d+ batches checked, \d+ do not verify/);
  const json = await cli(['verify-history', '--json', '--since', '2999-01-01T00:00:00Z']);
  expect(json.code).toBe(0);
  expect(JSON.parse(json.stdout)).toEqual({ checked: 0, problems: [], truncated: false });
  const table = await cli(['endpoints']);
  expect(table.stdout).toMatch(/\(data complete up to \d{4}-\d\d-\d\dT[\d:.]+Z; projection lag \d+\.\d s\)/);
  expect((await cli(['endpoints', '--json'])).stdout).not.toMatch(/complete up to/);
});
