/**
 * End to end: the real collector (child process, SQLite, plain HTTP on loopback behind a recording
 * proxy) and real agents (`mcpwatch-agent run` child processes on fixture homes).
 *
 * One scenario, several agents, so the collector restarts only once:
 *  A1 (outage/order/canaries): events keep being made while the collector is down for
 *     MCPWATCH_E2E_OUTAGE_S seconds (default 10; set 120 for the 2-minute outage); every
 *     spooled event arrives exactly once, in spool order, and no canary secret from its config
 *     appears in its spool, the HTTP bodies, the store or any log.
 *  A2 (crash/corruption): kill -9 during the outage, its spool then gets a torn tail and a
 *     corrupted record in the middle; restarted, it recovers; killed -9 again while draining after
 *     the collector is back; restarted, it delivers everything else exactly once.
 *  A3 (spool full): a 64 KiB spool with frequent snapshots during the outage: the oldest events
 *     are dropped, counted, and reported as agent.dropped once the collector is back.
 *  Tamper: the proxy flips a byte of one A1 batch: the collector rejects it (401), the agent
 *     dead-letters and reports it, and carries on.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  ADMIN_TOKEN,
  AGENT_BIN,
  ENROLL_SECRET,
  RecordingProxy,
  drained,
  endpointOf,
  enrollAgent,
  filesContaining,
  freePort,
  sleep,
  spooledIds,
  startAgent,
  startCollector,
  storedEvents,
  waitFor,
  writeCursorConfig,
  type Child,
  type CollectorHandle,
} from './agent-pipeline-harness.js';
import { spawn } from 'node:child_process';

const OUTAGE_S = Number(process.env.MCPWATCH_E2E_OUTAGE_S ?? 10);
const CANARY_ENV = 'ghp_canaryE2Ea1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6';
const CANARY_PASS = 'canaryUrlPass77x';
const CANARY_HEADER = 'canaryHeaderValue55q';

const TIMEOUT_MS = 300_000 + OUTAGE_S * 1000 * 2;

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-e2e-pipeline-'));
const logs = path.join(base, 'logs');
fs.mkdirSync(logs);
const dataDir = path.join(base, 'collector');
const agentDir = (n: string) => path.join(base, n, 'state');
const homeDir = (n: string) => path.join(base, n, 'home');

let collector: CollectorHandle | null = null;
let collectorPort = 0;
const proxy = new RecordingProxy();
const children: Child[] = [];

function segments(stateDir: string): string[] {
  const dir = path.join(stateDir, 'spool');
  return fs.readdirSync(dir).filter((n) => n.endsWith('.spool')).sort().map((n) => path.join(dir, n));
}

function writeA1Config(names: string[]): void {
  const file = path.join(homeDir('a1'), '.cursor', 'mcp.json');
  writeCursorConfig(homeDir('a1'), names, { GITHUB_TOKEN: CANARY_ENV });
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  doc.mcpServers.remote = { url: `https://ops:${CANARY_PASS}@mcp.example.com/sse?token=${CANARY_PASS}`, headers: { Authorization: `Bearer ${CANARY_HEADER}` } };
  fs.writeFileSync(file, JSON.stringify(doc, null, 2));
}

function run(name: string, env: Record<string, string> = {}): Child {
  const c = startAgent({ stateDir: agentDir(name), home: homeDir(name), logFile: path.join(logs, `${name}.log`), env });
  children.push(c);
  return c;
}

afterAll(async () => {
  // leave the logs for a post-mortem; the processes go
  for (const c of children) await c.stop('SIGKILL');
  await collector?.child.stop('SIGKILL');
  await proxy.close();
});

describe('agent pipeline against the real collector', () => {
  test('survives an outage, kill -9, spool corruption, a full spool and a tampered batch without losing or duplicating events', async () => {
    collectorPort = await freePort();
    proxy.upstreamPort = collectorPort;
    const server = `http://127.0.0.1:${await proxy.listen()}`;
    collector = await startCollector(dataDir, collectorPort, logs);

    for (const n of ['a1', 'a2', 'a3']) fs.mkdirSync(homeDir(n), { recursive: true });
    writeA1Config(['alpha']);
    writeCursorConfig(homeDir('a2'), ['beta']);
    writeCursorConfig(homeDir('a3'), Array.from({ length: 40 }, (_, i) => `gamma-${i}`));
    await Promise.all(['a1', 'a2', 'a3'].map((n) => enrollAgent(server, agentDir(n), logs)));
    const ep = { a1: endpointOf(agentDir('a1')), a2: endpointOf(agentDir('a2')), a3: endpointOf(agentDir('a3')) };

    const a1 = [run('a1')];
    const a2 = [run('a2', { MCPWATCH_BATCH_MAX_EVENTS: '1' })];
    const a3 = [run('a3', { MCPWATCH_SPOOL_MAX_BYTES: '65536', MCPWATCH_SNAPSHOT_EVERY_HOURS: '0.001' })];
    await waitFor('every agent to ship its start snapshot', () =>
      Object.values(ep).every((e) => storedEvents(dataDir, e.agentId).some((x) => x.type === 'inventory.snapshot')),
    );

    // ---- outage --------------------------------------------------------------------------------
    await collector.child.stop('SIGTERM');
    const outageEnd = Date.now() + OUTAGE_S * 1000;
    writeA1Config(['alpha', 'delta']);
    await sleep(Math.min(3000, (OUTAGE_S * 1000) / 3));
    // A2: kill -9, then a torn tail and a corrupted record in the middle of its last segment
    await a2[0]!.stop('SIGKILL');
    const a2Seg = segments(agentDir('a2')).at(-1)!;
    const buf = fs.readFileSync(a2Seg);
    const frames: number[] = [];
    for (let at = buf.indexOf(Buffer.from([0xff, 0xfe, 0x4d, 0x57])); at !== -1; at = buf.indexOf(Buffer.from([0xff, 0xfe, 0x4d, 0x57]), at + 1)) frames.push(at);
    expect(frames.length).toBeGreaterThanOrEqual(3);
    const victim = frames[frames.length - 2]!; // a record in the middle: the last one stays intact after it
    buf[victim + 20] = buf[victim + 20]! ^ 0xff;
    const victimPayload = buf.subarray(victim + 12, (frames[frames.length - 1] ?? buf.length)).toString('latin1');
    fs.writeFileSync(a2Seg, Buffer.concat([buf, Buffer.from([0xff, 0xfe, 0x4d, 0x57, 0x00, 0x01, 0x00, 0x00, 1, 2, 3, 4]), Buffer.from('{"v":1,"id":"TORN')]));
    a2.push(run('a2', { MCPWATCH_BATCH_MAX_EVENTS: '1' }));
    await waitFor('A2 to report its spool recovery', () => a2[1]!.text().includes('spool recovered: 1 torn tail(s) cut, 1 corrupted record(s) skipped'));
    writeA1Config(['alpha', 'delta', 'epsilon']);
    await sleep(Math.max(0, outageEnd - Date.now()));

    // ---- back ----------------------------------------------------------------------------------
    collector = await startCollector(dataDir, collectorPort, logs);
    const before = storedEvents(dataDir, ep.a2.agentId).length;
    await waitFor('A2 to start draining', () => storedEvents(dataDir, ep.a2.agentId).length > before);
    await a2[1]!.stop('SIGKILL'); // mid-drain: batches of one event, one probably in flight
    a2.push(run('a2', { MCPWATCH_BATCH_MAX_EVENTS: '1' }));

    const names = (e: { type: string; data: string }) => (e.type === 'server.added' ? (JSON.parse(e.data) as { name: string }).name : null);
    await waitFor('A1 server.added for delta and epsilon', () => {
      const got = storedEvents(dataDir, ep.a1.agentId).map(names);
      return got.includes('delta') && got.includes('epsilon');
    });
    await waitFor('A3 agent.dropped', () => storedEvents(dataDir, ep.a3.agentId).some((e) => e.type === 'agent.dropped'));

    // ---- tampered batch ------------------------------------------------------------------------
    proxy.tamperAgent = ep.a1.agentId;
    writeA1Config(['alpha', 'delta', 'epsilon', 'zeta']);
    await waitFor('A1 to dead-letter the tampered batch', () => a1[0]!.text().includes('MCPW_ERR_DEAD_LETTER'));
    writeA1Config(['alpha', 'delta', 'epsilon', 'zeta', 'eta']);
    await waitFor('A1 server.added eta', () => storedEvents(dataDir, ep.a1.agentId).map(names).includes('eta'));

    // ---- stop everything cleanly (SIGTERM flushes) ----------------------------------------------
    // (a long outage leaves a long backlog: the collector's per-agent rate limit paces the drain)
    await waitFor('every agent to drain its spool', () => ['a1', 'a2', 'a3'].every((n) => drained(agentDir(n))), 90_000 + OUTAGE_S * 1000);
    for (const c of [a1[0]!, a2[2]!, a3[0]!]) expect(await c.stop('SIGTERM')).toBe(0);

    // A1: every spooled event stored exactly once, in spool order, except the dead-lettered batch
    const a1Spooled = spooledIds(a1);
    const a1Stored = storedEvents(dataDir, ep.a1.agentId);
    const deadDir = path.join(agentDir('a1'), 'dead-letter');
    const dead = fs.readdirSync(deadDir).map((f) => JSON.parse(fs.readFileSync(path.join(deadDir, f), 'utf8')) as { code: string; body: string });
    expect(dead).toHaveLength(1);
    expect(dead[0]!.code).toBe('MCPW_ERR_SIGNATURE_INVALID');
    const deadIds = new Set((JSON.parse(dead[0]!.body) as { events: { id: string }[] }).events.map((e) => e.id));
    expect(a1Stored.map((e) => e.id)).toEqual(a1Spooled.map((e) => e.id).filter((id) => !deadIds.has(id)));
    expect(proxy.statuses.some((s) => s.agent === ep.a1.agentId && s.status === 401)).toBe(true);
    // async: the proxy lives in this process and must keep answering
    const status = spawn(process.execPath, [AGENT_BIN, 'status', '--state-dir', agentDir('a1'), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let statusOut = '';
    status.stdout.on('data', (d: Buffer) => (statusOut += d.toString()));
    await new Promise((r) => status.on('exit', r));
    expect(JSON.parse(statusOut)).toMatchObject({ enrolled: true, deadLettered: 1, collector: { reachable: true }, spool: { depth: 0 } });

    // A2: everything spooled arrives once, in order, except the record we corrupted on disk
    const a2Stored = storedEvents(dataDir, ep.a2.agentId).map((e) => e.id);
    const a2Spooled = spooledIds(a2).map((e) => e.id);
    const lost = a2Spooled.filter((id) => !a2Stored.includes(id));
    expect(lost.length).toBeLessThanOrEqual(1);
    for (const id of lost) expect(victimPayload).toContain(id.slice(0, 10));
    expect(a2Stored).toEqual(a2Spooled.filter((id) => !lost.includes(id)));
    expect(new Set(a2Stored).size).toBe(a2Stored.length);

    // A3: the oldest were dropped and counted
    const a3Stored = storedEvents(dataDir, ep.a3.agentId);
    const dropped = a3Stored.filter((e) => e.type === 'agent.dropped').map((e) => JSON.parse(e.data) as { count: number });
    expect(dropped.reduce((n, d) => n + d.count, 0)).toBeGreaterThan(0);
    const beats = a3Stored.filter((e) => e.type === 'agent.heartbeat').map((e) => JSON.parse(e.data) as { droppedCount: number });
    expect(Math.max(...beats.map((b) => b.droppedCount))).toBeGreaterThan(0);
    const a3Ids = a3Stored.map((e) => e.id);
    expect(new Set(a3Ids).size).toBe(a3Ids.length);
    expect(a3Ids).toEqual([...a3Ids].sort());

    // Secrets never leave the endpoint: spool, state, HTTP bodies, store, logs
    await collector.child.stop('SIGTERM');
    const bodies = proxy.bodies.map((b) => {
      try {
        return gunzipSync(b).toString('utf8');
      } catch {
        return b.toString('utf8');
      }
    });
    for (const canary of [CANARY_ENV, CANARY_PASS, CANARY_HEADER]) {
      expect(filesContaining(path.join(base, 'a1', 'state'), canary)).toEqual([]);
      expect(filesContaining(dataDir, canary)).toEqual([]);
      expect(filesContaining(logs, canary)).toEqual([]);
      expect(bodies.filter((b) => b.includes(canary))).toEqual([]);
    }
    for (const secret of [ENROLL_SECRET, ADMIN_TOKEN]) {
      expect(filesContaining(path.join(base, 'a1', 'state'), secret)).toEqual([]);
      expect(filesContaining(logs, secret)).toEqual([]);
    }
    // the canary config was really there and read
    expect(fs.readFileSync(path.join(homeDir('a1'), '.cursor', 'mcp.json'), 'utf8')).toContain(CANARY_ENV);
    const firstSnapshot = JSON.parse(a1Stored.find((e) => e.type === 'inventory.snapshot')!.data) as { servers: { name: string; envKeys?: string[] }[] };
    expect(firstSnapshot.servers.map((s) => s.name).sort()).toEqual(['alpha', 'remote']);
  }, TIMEOUT_MS);
});
