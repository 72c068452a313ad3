/**
 * The Windows build, run for real under Wine (Debian's wine64, Wine 8, a fresh Windows 10 prefix):
 * the win-x64 single executable scans the win32 fixture home exactly as the node CLI does; its
 * process source (fastlist, no PowerShell) sees a running client; its socket source says why it
 * cannot tie sockets to processes there; registry policy written with `wine reg add` is read; the
 * MSI installs silently with properties, writes agent.json, enrolls against a real collector, runs
 * the service (inventory.snapshot + heartbeat stored), upgrades in place keeping the state, and
 * uninstalls (service and files gone).
 *
 * What Wine cannot show, and so what these tests do not claim:
 * - ACLs: Wine's icacls.exe is a stub (exit 0, no output) and Wine does not enforce ACLs on its
 *   files, so the SYSTEM + Administrators ACL that write-config sets on the data directory is not
 *   verified here (its POSIX counterpart, 0700/0600, is: service-host.test.ts).
 * - Socket owners: Wine's netstat ignores `-o` (no PID column) and omits TCP listeners of host
 *   processes, so the socket source reports MCPW_ERR_SOCKET_SOURCE instead of rows.
 * - Command lines and users of processes: fastlist lists pid, parent pid and image name only
 *   (on Windows too); the process rows carry the image name as `cmd`.
 * - The service account: Wine runs services as the prefix's user, not LocalSystem, and the
 *   agent's elevation check does not pass in Wine's service context: the service's agent is
 *   unprivileged and scans its own profile only, so "every user's home" is not exercised by the
 *   service under Wine (the test pins that, with a second profile it must not read).
 * Skipped, saying so, when wine64 or the built artifacts are missing.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AGENT_VERSION, INSTALLERS_DIR, REPO_ROOT, artifact, itWhen, run } from '../helpers/artifacts.js';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { WinePrefix, findWine64, windowsPath } from '../helpers/wine.js';
import { build as buildMsi } from '../../scripts/lib/build-msi.mjs';

const EXE = 'mcpwatch-agent-win-x64.exe';
const LINUX_EXE = 'mcpwatch-agent-linux-x64';
const MSI = `mcpwatch-agent-${AGENT_VERSION}-x64.msi`;
const WINE = findWine64();
const FIXTURE = path.join(REPO_ROOT, 'agent', 'tests', 'fixtures', 'homes', 'win32');
const ENROLL_SECRET_CANARY = 'CANARY-enroll-secret-wine-5d21';
const POLICY_KEY = 'HKLM\\SOFTWARE\\Policies\\mcpwatch';

if (!WINE) console.warn('Wine tests skipped, missing: wine64 (run as root: apt-get install -y wine64)');
const whenWine = (artifacts: string[]) => (WINE ? itWhen({ artifacts }) : it.skip);

/** Paths as the other side prints them: `Z:\a\b` -> `/a/b` (also inside reasons); keys that hash a path are dropped. */
function normalize(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/Z:(\\[^\\]*)+/g, (p) => p.slice(2).replace(/\\/g, '/'));
  // Lists of records are compared as multisets: their order follows path and id sort keys, and
  // `\` sorts apart from `/`.
  if (Array.isArray(value)) {
    const items = value.map(normalize);
    return items.every((x) => x && typeof x === 'object') ? items.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) : items;
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => !['serverKey', 'id', 'generatedAt', 'host'].includes(k)).map(([k, v]) => [k, normalize(v)]));
  }
  return value;
}

async function until<T>(what: string | (() => string), probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const got = await probe();
      if (got !== undefined) return got;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

describe('win-x64 executable under Wine', () => {
  let wine: WinePrefix;
  let winExe: string;
  beforeAll(async () => {
    if (!WINE || !existsSync(artifact(EXE))) return;
    wine = await WinePrefix.create(WINE);
    winExe = windowsPath(artifact(EXE));
  }, 180_000);
  afterAll(() => wine?.close());

  whenWine([EXE, LINUX_EXE])('scan --json of the win32 fixture home equals the Linux executable\'s (paths as Z:\\ paths, host facts apart)', async () => {
    const args = (root: (p: string) => string) => ['scan', '--json', '--platform', 'win32', '--home', root(path.join(FIXTURE, 'Users', 'alice')), '--system-root', root(path.join(FIXTURE, 'system'))];
    // The Linux executable carries the same bundle (linux-executable.test.ts proves it equals the
    // node CLI), so this compares the same code on Windows-under-Wine and on Linux.
    const underWine = await wine.run([winExe, ...args(windowsPath)]);
    const onLinux = await run(artifact(LINUX_EXE), args((p) => p));
    expect(underWine.status).toBe(onLinux.status);
    const wineDoc = JSON.parse(underWine.stdout) as { servers: { configPath: string }[]; host: { platform: string } };
    expect(wineDoc.host.platform).toBe('win32');
    expect(wineDoc.servers.length).toBeGreaterThan(10);
    expect(wineDoc.servers[0]!.configPath).toMatch(/^Z:\\/);
    expect(normalize(wineDoc)).toEqual(normalize(JSON.parse(onLinux.stdout)));
  }, 120_000);

  whenWine([EXE])('lists a running Claude.exe from fastlist (no PowerShell) and reports sockets it cannot own as MCPW_ERR_SOCKET_SOURCE', async () => {
    const claudeDir = wine.driveC('Program Files', 'AnthropicClaude');
    mkdirSync(claudeDir, { recursive: true });
    copyFileSync(artifact(EXE), path.join(claudeDir, 'Claude.exe'));
    // A long-lived process whose image is Claude.exe at Claude Desktop's install path.
    const claude = wine.start(['C:\\Program Files\\AnthropicClaude\\Claude.exe', 'watch', '--platform', 'win32', '--home', windowsPath(path.join(FIXTURE, 'Users', 'alice'))]);
    try {
      const doc = await until('Claude.exe in the process list', async () => {
        const result = await wine.run([winExe, 'scan', '--json', '--sources', 'processes,sockets']);
        const parsed = JSON.parse(result.stdout) as { processes: { name: string; kind: string; client: string; ppid: number | null }[]; errors: { path: string; reason: string }[] };
        return parsed.processes.length > 0 ? parsed : undefined;
      }, 60_000);
      expect(doc.processes).toContainEqual(expect.objectContaining({ name: 'Claude.exe', kind: 'client', client: 'claude-desktop' }));
      expect(doc.errors.filter((e) => e.path === '(processes)')).toEqual([]);
      expect(doc.errors).toContainEqual(expect.objectContaining({ path: '(sockets)', reason: expect.stringMatching(/^MCPW_ERR_SOCKET_SOURCE: netstat -ano printed \d+ of \d+ socket line\(s\) without the PID column \(Wine's netstat ignores -o\)/) }));
      const table = await wine.run([winExe, 'scan', '--sources', 'processes,sockets']);
      expect(table.stdout).toMatch(/ERRORS[\s\S]*collect-failed\s+\(sockets\)\s+-?\s*MCPW_ERR_SOCKET_SOURCE/);
    } finally {
      await claude.stop();
    }
  }, 120_000);

  whenWine([EXE])('reads registry policy written with `wine reg add` (HKLM\\SOFTWARE\\Policies\\mcpwatch)', async () => {
    const added = await wine.run(['reg', 'add', POLICY_KEY, '/v', 'server', '/t', 'REG_SZ', '/d', 'https://policy.example.test:8443', '/f']);
    expect(added.status).toBe(0);
    try {
      const status = await wine.run([winExe, 'status', '--json', '--state-dir', 'C:\\mcpwatch-policy-probe']);
      const report = JSON.parse(status.stdout) as { server: string | null; enrolled: boolean };
      expect(report).toMatchObject({ server: 'https://policy.example.test:8443', enrolled: false });
    } finally {
      await wine.run(['reg', 'delete', POLICY_KEY, '/f']);
    }
  }, 120_000);
});

describe('MSI under Wine against a real collector', () => {
  let wine: WinePrefix;
  let collector: CollectorProcess | undefined;
  let work: string;
  beforeAll(async () => {
    if (!WINE || !existsSync(artifact(MSI))) return;
    work = mkdtempSync(path.join(os.tmpdir(), 'mcpwatch-wine-msi-'));
    collector = await startCollector(path.join(work, 'collector'), ENROLL_SECRET_CANARY);
    wine = await WinePrefix.create(WINE);
    wine.persist(900); // the service lives only while a wineserver does
  }, 180_000);
  afterAll(async () => {
    wine?.close();
    await collector?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const dataDir = () => wine.driveC('ProgramData', 'mcpwatch');
  const installedExe = () => wine.driveC('Program Files', 'mcpwatch', 'mcpwatch-agent.exe');
  const status = async () => {
    const result = await wine.run(['C:\\Program Files\\mcpwatch\\mcpwatch-agent.exe', 'status', '--json', '--state-dir', 'C:\\ProgramData\\mcpwatch\\state']);
    return JSON.parse(result.stdout) as { enrolled: boolean; endpointId: string | null; agentId: string | null; server: string | null; lastHeartbeatAt: string | null };
  };
  const serviceState = async () => (await wine.run(['sc', 'query', 'mcpwatch-agent'])).stdout;
  let endpointId = '';

  whenWine([MSI])('installs silently with properties: agent.json, enrollment, the service running, snapshot + heartbeat stored', async () => {
    const c = collector!;
    // Registry policy for the service's agent: short batches, no reconnect jitter. (heartbeatMs is
    // set too, but the heartbeat checked below is the one sent at start; the collector's served
    // settings decide the period afterwards: the stored heartbeat reports 60000.)
    for (const [name, value] of [['heartbeatMs', '2000'], ['batchMaxWaitMs', '200'], ['reconnectJitterMs', '0']] as const) {
      expect((await wine.run(['reg', 'add', POLICY_KEY, '/v', name, '/t', 'REG_DWORD', '/d', value, '/f'])).status).toBe(0);
    }
    // Claude Desktop's %APPDATA% and MSIX paths under the prefix's user profile.
    const profile = wine.driveC('users', os.userInfo().username);
    const desktopConfig = { mcpServers: { 'wine-appdata-fs': { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.1.1', 'C:\\data'] } } };
    const msixConfig = { mcpServers: { 'wine-msix-memory': { command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory@2025.1.1'] } } };
    // A second user's profile (see below: not covered under Wine).
    const bobConfig = { mcpServers: { 'wine-bob-appdata-git': { command: 'uvx', args: ['mcp-server-git==0.6.2'] } } };
    for (const [dir, doc] of [
      [path.join(profile, 'AppData', 'Roaming', 'Claude'), desktopConfig],
      [path.join(profile, 'AppData', 'Local', 'Packages', 'Claude_pzs8sxrjxfjjc', 'LocalCache', 'Roaming', 'Claude'), msixConfig],
      [wine.driveC('users', 'bob', 'AppData', 'Roaming', 'Claude'), bobConfig],
    ] as const) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'claude_desktop_config.json'), JSON.stringify(doc));
    }

    const install = await wine.run(['msiexec', '/i', windowsPath(artifact(MSI)), '/qn', `SERVER_URL=${c.url}`, `ENROLL_SECRET=${c.enrollSecret}`, `CA_FINGERPRINT=${c.caFingerprint}`], { timeoutMs: 240_000 });
    expect(install.status).toBe(0);
    expect(existsSync(installedExe())).toBe(true);
    expect(JSON.parse(readFileSync(path.join(dataDir(), 'agent.json'), 'utf8'))).toEqual({ server: c.url, enrollSecret: c.enrollSecret, caFingerprint: c.caFingerprint });

    const enrolled = await until('enrollment', async () => ((await status()).enrolled ? status() : undefined), 60_000);
    expect(enrolled.endpointId).toMatch(/\S/);
    endpointId = enrolled.endpointId!;
    expect(await until('the service running', async () => ((await serviceState()).includes('RUNNING') ? true : undefined), 60_000)).toBe(true);

    const agentLog = () => { try { return readFileSync(path.join(dataDir(), 'logs', 'agent.log'), 'utf8').slice(-4000); } catch (e) { return String(e); } };
    const types = await until(() => `inventory.snapshot and a heartbeat at the collector (agent.log: ${agentLog()})`, async () => {
      const events = await c.events(endpointId);
      const seen = new Set(events.map((e) => e.type));
      return seen.has('inventory.snapshot') && seen.has('agent.heartbeat') ? seen : undefined;
    }, 180_000);
    expect([...types]).toEqual(expect.arrayContaining(['inventory.snapshot', 'agent.heartbeat']));
    // The service (no --home) scanned the prefix user's profile: Claude Desktop's %APPDATA% and
    // MSIX paths.
    const endpoint = JSON.stringify(await c.getJson(`/v1/endpoints/${encodeURIComponent(endpointId)}`));
    expect(endpoint).toContain('wine-appdata-fs');
    expect(endpoint).toContain('wine-msix-memory');
    expect(endpoint).toContain('Claude_pzs8sxrjxfjjc');
    // Another user's profile is NOT scanned by the service under Wine: Wine runs services as the
    // prefix's user, not LocalSystem (USERPROFILE is not under systemprofile), and the agent's
    // elevation check does not pass in Wine's service context (from a Wine shell `net session`
    // succeeds and a scan covers C:\\users\\*; why it fails under services.exe is not known), so
    // the agent takes itself as unprivileged and scans its own home only, as it must. On Windows
    // the service is LocalSystem and covers C:\\Users\\*.
    expect(endpoint).not.toContain('wine-bob-appdata-git');
    expect((JSON.parse(endpoint) as { endpoint: { users: string[] } }).endpoint.users).toEqual([os.userInfo().username]);
    expect(endpoint).not.toContain(ENROLL_SECRET_CANARY);
    expect(agentLog()).not.toContain(ENROLL_SECRET_CANARY);
    // ACLs as far as Wine shows them: Wine 8's icacls answers 0 and prints nothing (a stub), so the
    // SYSTEM + Administrators ACL cannot be read back here. This pins that limitation: a Wine that
    // prints ACLs fails it, and it then becomes the real check of the data directory's ACL.
    const acl = await wine.run(['icacls', 'C:\\ProgramData\\mcpwatch']);
    expect({ status: acl.status, printed: acl.stdout.trim() }).toEqual({ status: 0, printed: '' });
  }, 600_000);

  whenWine([MSI])('upgrades in place: a newer MSI without properties keeps agent.json and the enrolled state, and the service runs again', async () => {
    expect(endpointId).not.toBe('');
    const [major, minor, patch] = AGENT_VERSION.split('.').map(Number) as [number, number, number];
    const next = `${major}.${minor}.${patch + 1}`;
    const outDir = path.join(work, 'upgrade');
    mkdirSync(outDir, { recursive: true });
    const [msi] = await buildMsi({ installersDir: INSTALLERS_DIR, outDir, workDir: path.join(work, 'msi-work'), version: next, executables: { 'win-x64': artifact(EXE) }, log: () => undefined });
    const before = readFileSync(path.join(dataDir(), 'agent.json'), 'utf8');
    const upgrade = await wine.run(['msiexec', '/i', windowsPath(msi!), '/qn'], { timeoutMs: 240_000 });
    expect(upgrade.status).toBe(0);
    expect(readFileSync(path.join(dataDir(), 'agent.json'), 'utf8')).toBe(before);
    expect((await status()).endpointId).toBe(endpointId);
    const products = (await wine.run(['reg', 'query', 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall', '/s', '/v', 'DisplayVersion'])).stdout;
    expect(products).toContain(next);
    expect(products).not.toMatch(new RegExp(`DisplayVersion\\s+REG_SZ\\s+${AGENT_VERSION.replace(/\./g, '\\.')}\\s*$`, 'm'));
    expect(await until('the service running after the upgrade', async () => ((await serviceState()).includes('RUNNING') ? true : undefined), 60_000)).toBe(true);

    const uninstall = await wine.run(['msiexec', '/x', windowsPath(msi!), '/qn'], { timeoutMs: 240_000 });
    expect(uninstall.status).toBe(0);
    expect(existsSync(installedExe())).toBe(false);
    expect((await wine.run(['reg', 'query', 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\mcpwatch-agent'])).status).not.toBe(0);
  }, 600_000);
});
