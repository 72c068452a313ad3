/**
 * Harness of the agent-pipeline end-to-end tests: the real collector and real agents as child
 * processes (their built bins), a recording (and optionally tampering) HTTP proxy between them,
 * and a read-only view of the collector's SQLite store in insertion order.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { inspectSpool } from '@mcpwatch/agent';
import { findingTransitionId } from '@mcpwatch/collector';
import { waitFor as waitForCondition } from '@mcpwatch/testkit';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const COLLECTOR_BIN = path.join(ROOT, 'collector', 'bin', 'mcpwatch-collector.js');
export const AGENT_BIN = path.join(ROOT, 'agent', 'bin', 'mcpwatch-agent.js');

export const ENROLL_SECRET = 'canary-enroll-9d1f0a77';
export const ADMIN_TOKEN = 'canary-admin-token-4be2c1d9';

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Polls `cond` every 100 ms until true or `timeoutMs`; throws with `what` on timeout. Generous by
 * default: a loaded CI machine can take tens of seconds to start a collector or an agent.
 */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  await waitForCondition(what, cond, timeoutMs, 100);
}

// The e2e tests import it from here with the rest of the harness.
export { freePort } from '@mcpwatch/testkit';

/** A child process with its output kept (and mirrored to files for post-mortems). */
export class Child {
  readonly out: string[] = [];
  readonly err: string[] = [];
  exit: Promise<number | null>;
  constructor(readonly proc: ChildProcess, logFile: string) {
    const log = fs.createWriteStream(logFile, { flags: 'a' });
    proc.stdout!.on('data', (d: Buffer) => {
      this.out.push(d.toString());
      log.write(d);
    });
    proc.stderr!.on('data', (d: Buffer) => {
      this.err.push(d.toString());
      log.write(d);
    });
    this.exit = new Promise((r) => proc.on('exit', (code) => r(code)));
  }
  text(): string {
    return this.out.join('') + this.err.join('');
  }
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<number | null> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return this.proc.exitCode;
    this.proc.kill(signal);
    const t = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    const code = await this.exit;
    clearTimeout(t);
    return code;
  }
}

export interface CollectorHandle {
  child: Child;
  url: string;
  port: number;
  dataDir: string;
}

/** Starts the real collector (SQLite in dataDir, plain HTTP on loopback) and waits until it listens. */
export async function startCollector(dataDir: string, port: number, logDir: string, env: Record<string, string> = {}): Promise<CollectorHandle> {
  const proc = spawn(process.execPath, [COLLECTOR_BIN, '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--tls', 'off'], {
    env: { ...process.env, MCPWATCH_ENROLL_SECRET: ENROLL_SECRET, MCPWATCH_ADMIN_TOKEN: ADMIN_TOKEN, MCPWATCH_TIMESTAMP_WINDOW_S: '60', MCPWATCH_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const child = new Child(proc, path.join(logDir, 'collector.log'));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor('the collector to listen', async () => {
      if (proc.exitCode !== null) throw new Error(`collector exited ${proc.exitCode}: ${child.text()}`);
      return child.text().includes('listening on');
    });
  } catch (e) {
    proc.kill('SIGKILL'); // never leave a collector behind a failed start
    throw e;
  }
  return { child, url, port, dataDir };
}

/** Runs `mcpwatch-agent enroll` against `server`; resolves with its stdout. */
export async function enrollAgent(server: string, stateDir: string, logDir: string, extraEnv: Record<string, string> = {}): Promise<string> {
  const proc = spawn(process.execPath, [AGENT_BIN, 'enroll', '--server', server, '--state-dir', stateDir], {
    env: { ...process.env, MCPWATCH_ENROLL_SECRET: ENROLL_SECRET, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const child = new Child(proc, path.join(logDir, `enroll-${path.basename(path.dirname(stateDir))}.log`));
  const code = await child.exit;
  if (code !== 0) throw new Error(`enroll failed (${code}): ${child.text()}`);
  return child.out.join('');
}

export interface AgentOptions {
  stateDir: string;
  home: string;
  logFile: string;
  env?: Record<string, string>;
}

/**
 * Starts `mcpwatch-agent run` on a fixture home (configs only), debug-logging every spooled event.
 * With the young-generation flag on node's command line, as the installed services run it, so the
 * agent is one process (the bin relaunches `run` without it) and kill -9 here kills the agent itself.
 */
export function startAgent(o: AgentOptions): Child {
  const proc = spawn(
    process.execPath,
    ['--max-semi-space-size=2', AGENT_BIN, 'run', '--state-dir', o.stateDir, '--home', o.home, '--platform', 'linux', '--sources', 'configs', '--log-level', 'debug', '--debounce-ms', '50'],
    {
      env: {
        ...process.env,
        MCPWATCH_HEARTBEAT_MS: '1000',
        MCPWATCH_RETRY_BASE_MS: '100',
        MCPWATCH_RETRY_MAX_MS: '1000',
        MCPWATCH_RECONNECT_JITTER_MS: '100',
        MCPWATCH_BATCH_MAX_WAIT_MS: '50',
        ...o.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Child(proc, o.logFile);
}

/** Event ids an agent logged as spooled (debug log), in order. */
export function spooledIds(children: Child[]): { id: string; type: string }[] {
  const out: { id: string; type: string }[] = [];
  for (const c of children) {
    for (const m of c.err.join('').matchAll(/ debug mcpwatch-agent: spooled (\S+) (\S+)\n/g)) out.push({ type: m[1]!, id: m[2]! });
  }
  return out;
}

export interface StoredEvent {
  id: string;
  type: string;
  batch_seq: number;
  data: string;
}

/**
 * Events one agent sent, in the collector's store, in arrival order: by batch seq (the order the
 * collector accepted the batches), then by event id (ULIDs, monotonic per agent process; the
 * events table is clustered by id, so there is no insertion rowid). By agent, not by endpoint:
 * agents enrolled from one machine share the endpoint (same hardware UUID + hostname).
 */
export function storedEvents(dataDir: string, agentId: string): StoredEvent[] {
  const db = new Database(path.join(dataDir, 'mcpwatch.sqlite'), { readonly: true, fileMustExist: true });
  let rows: Array<StoredEvent & { endpoint_id: string; time: string }>;
  try {
    // The event index points into the batch log (log_id, pos) and holds JSON only for the
    // collector's own events; an agent's event data is in the stored gzip body.
    const index = db
      .prepare(
        `SELECT e.id, e.type, coalesce(e.batch_seq, b.seq) AS batch_seq, e.data, e.endpoint_id, e.time, e.pos, e.log_id
         FROM events e LEFT JOIN batch_log b ON b.log_id = e.log_id
         WHERE coalesce(e.agent_id, b.agent_id) = ? ORDER BY batch_seq, e.id`,
      )
      .all(agentId) as Array<StoredEvent & { endpoint_id: string; time: string; data: string | null; pos: number | null; log_id: number | null }>;
    const bodies = new Map<number, Array<{ data: unknown }>>();
    const bodyOf = (logId: number): Array<{ data: unknown }> => {
      let events = bodies.get(logId);
      if (!events) {
        const row = db.prepare('SELECT body FROM batch_log WHERE log_id = ?').get(logId) as { body: Buffer | null } | undefined;
        events = row?.body ? (JSON.parse(zlib.gunzipSync(row.body).toString('utf8')) as { events: Array<{ data: unknown }> }).events : [];
        bodies.set(logId, events);
      }
      return events;
    };
    rows = index.map(({ pos, log_id, data, ...r }) => ({ ...r, data: data ?? JSON.stringify(bodyOf(log_id!)[pos!]?.data ?? null) }));
  } finally {
    db.close();
  }
  // Not the agent's: the finding.raised / finding.resolved events the collector derives when a
  // snapshot raises or resolves a finding (their ids are a function of the snapshot, see
  // findingTransitionId).
  const derived = new Set<string>();
  for (const s of rows) {
    if (s.type !== 'inventory.snapshot') continue;
    for (const f of rows) {
      if (f.batch_seq !== s.batch_seq || (f.type !== 'finding.raised' && f.type !== 'finding.resolved')) continue;
      if (f.id === findingTransitionId(f.endpoint_id, s.id, s.time, f.type, (JSON.parse(f.data) as { id: string }).id)) derived.add(f.id);
    }
  }
  return rows.filter((e) => !derived.has(e.id)).map(({ id, type, batch_seq, data }) => ({ id, type, batch_seq, data }));
}

/** true when an agent's spool holds nothing unacknowledged and no batch is in flight. */
export function drained(stateDir: string): boolean {
  const spool = inspectSpool(path.join(stateDir, 'spool'));
  return spool !== null && spool.depth === 0 && !fs.existsSync(path.join(stateDir, 'inflight.json'));
}

export function endpointOf(stateDir: string): { agentId: string; endpointId: string } {
  return JSON.parse(fs.readFileSync(path.join(stateDir, 'enrollment.json'), 'utf8')) as { agentId: string; endpointId: string };
}

/**
 * An HTTP proxy in front of the collector that records every request body and can corrupt the
 * next batch of a given agent (one byte of the signed gzip body flipped: a tampered batch).
 * While the upstream is down it drops the client connection, as an unreachable collector would.
 */
export class RecordingProxy {
  readonly bodies: Buffer[] = [];
  readonly statuses: { agent: string; status: number }[] = [];
  tamperAgent: string | null = null;
  upstreamPort = 0;
  private server: http.Server;
  port = 0;

  constructor() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body = Buffer.concat(chunks);
        this.bodies.push(body);
        const agent = String(req.headers['x-mcpwatch-agent'] ?? '');
        if (req.url === '/v1/batches' && agent && agent === this.tamperAgent) {
          this.tamperAgent = null;
          body = Buffer.from(body);
          body[body.length - 5] = body[body.length - 5]! ^ 0x01;
        }
        const up = http.request(
          { host: '127.0.0.1', port: this.upstreamPort, method: req.method, path: req.url, headers: { ...req.headers, 'content-length': String(body.length) } },
          (ur) => {
            const uc: Buffer[] = [];
            ur.on('data', (c: Buffer) => uc.push(c));
            ur.on('end', () => {
              if (agent) this.statuses.push({ agent, status: ur.statusCode ?? 0 });
              res.writeHead(ur.statusCode ?? 502, ur.headers);
              res.end(Buffer.concat(uc));
            });
          },
        );
        up.on('error', () => res.socket?.destroy());
        up.end(body);
      });
    });
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', () => r()));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** Writes a Cursor config with `names` stdio servers into a fixture home, plus the given env per server. */
export function writeCursorConfig(home: string, names: string[], env: Record<string, string> = {}): void {
  const file = path.join(home, '.cursor', 'mcp.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const mcpServers = Object.fromEntries(names.map((n) => [n, { command: 'npx', args: ['-y', `@example/${n}@1.0.0`], env }]));
  fs.writeFileSync(`${file}.tmp`, JSON.stringify({ mcpServers }, null, 2));
  fs.renameSync(`${file}.tmp`, file);
}

/** Every file under `dir` (recursively) whose bytes contain `needle`. */
export function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && fs.readFileSync(p).includes(needle)) hits.push(p);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return hits;
}
