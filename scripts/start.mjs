#!/usr/bin/env node
/**
 * `npm start` — the embedded default (DESIGN.md "Where it runs"): the collector on loopback with
 * SQLite and the file sink under .mcpwatch/, one local agent enrolled against it and running on
 * this machine, and a note of where to look (the `npx mcpwatch` query CLI, the API URL, the token).
 *
 *   node scripts/start.mjs [--dir DIR] [--port PORT] [--check]
 *
 *   --dir DIR    where data lives (default: .mcpwatch/ in the repository)
 *   --port PORT  collector port on 127.0.0.1 (default 8931, or a free one when that is taken)
 *   --check      start everything, wait until this machine's inventory is stored at the collector,
 *                print where to look, then stop (used by tests; exit 0 when it worked)
 *
 * The enroll secret and admin token are made once and kept in DIR/secrets.json (owner-only). The
 * collector listens on loopback only, so plain HTTP is used (the agent refuses plain HTTP anywhere
 * else). Ctrl-C stops the agent first (it flushes its spool), then the collector.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { tokenizeArgv } from '@mcpwatch/shared/argv';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const COLLECTOR_BIN = path.join(ROOT, 'collector', 'bin', 'mcpwatch-collector.js');
/** The node flags the collector runs with (collector/node-flags.json: the image's too). */
const COLLECTOR_NODE_FLAGS = JSON.parse(fs.readFileSync(path.join(ROOT, 'collector', 'node-flags.json'), 'utf8')).flags;
const AGENT_BIN = path.join(ROOT, 'agent', 'bin', 'mcpwatch-agent.js');

function parseArgs(argv) {
  const out = { dir: path.join(ROOT, '.mcpwatch'), port: null, check: false };
  const unknown = (a) => {
    process.stderr.write(`start: unknown argument ${a}\n`);
    process.exit(2);
  };
  for (const t of tokenizeArgv(argv, ['dir', 'port'])) {
    const written = argv[t.index];
    if (t.kind !== 'option' || t.inlineValue) unknown(written);
    else if (t.rawName === '--check') out.check = true;
    else if (t.rawName === '--dir' && t.value) out.dir = path.resolve(t.value);
    else if (t.rawName === '--port' && /^\d+$/.test(t.value ?? '')) out.port = Number(t.value);
    else if (t.rawName === '--help' || written === '-h') {
      process.stdout.write('usage: node scripts/start.mjs [--dir DIR] [--port PORT] [--check]\n');
      process.exit(0);
    } else unknown(written);
  }
  return out;
}

function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function choosePort(wanted) {
  if (wanted) return wanted;
  if (await portFree(8931)) return 8931;
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

function secrets(dir) {
  const file = path.join(dir, 'secrets.json');
  try {
    const s = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (typeof s.enrollSecret === 'string' && typeof s.adminToken === 'string') return s;
  } catch {
    // first start (or unreadable): make new ones
  }
  const s = { enrollSecret: randomBytes(24).toString('base64url'), adminToken: randomBytes(24).toString('base64url') };
  fs.writeFileSync(file, JSON.stringify(s, null, 2), { mode: 0o600 });
  return s;
}

/** Prefixes each line of a child's stream. */
function pipeLines(stream, prefix, sink, onLine) {
  let buf = '';
  stream.on('data', (d) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      onLine?.(line);
      if (sink) sink.write(`${prefix}${line}\n`);
    }
  });
}

function getJson(url, token) {
  return new Promise((resolve) => {
    const req = http.get(url, { headers: { authorization: `Bearer ${token}` }, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode, json: JSON.parse(body) });
        } catch {
          resolve({ status: res.statusCode, json: null });
        }
      });
    });
    req.on('error', () => resolve({ status: 0, json: null }));
    req.on('timeout', () => req.destroy());
  });
}

function exited(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

async function stop(child, timeoutMs = 10_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited(child);
  clearTimeout(t);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  for (const bin of [path.join(ROOT, 'collector', 'dist', 'server-cli.js'), path.join(ROOT, 'agent', 'dist', 'cli.js')]) {
    if (!fs.existsSync(bin)) {
      process.stderr.write(`start: ${path.relative(ROOT, bin)} is missing: build first (npm ci, or npm run build)\n`);
      return 1;
    }
  }
  fs.mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const dataDir = path.join(opts.dir, 'collector');
  const stateDir = path.join(opts.dir, 'agent');
  const { enrollSecret, adminToken } = secrets(opts.dir);
  const port = await choosePort(opts.port);
  const url = `http://127.0.0.1:${port}`;
  const collectorLog = fs.createWriteStream(path.join(opts.dir, 'collector.log'), { flags: 'a' });

  // 1. the collector
  const collector = spawn(process.execPath, [...COLLECTOR_NODE_FLAGS, COLLECTOR_BIN, '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--tls', 'off'], {
    env: { ...process.env, MCPWATCH_ENROLL_SECRET: `local:${enrollSecret}`, MCPWATCH_ADMIN_TOKEN: adminToken, MCPWATCH_SINKS: 'file' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  collector.stdout.pipe(collectorLog);
  let listening = false;
  pipeLines(collector.stderr, '[collector] ', opts.check ? null : process.stderr, (line) => {
    if (line.includes('listening on')) listening = true;
  });
  const collectorDown = exited(collector);
  for (let i = 0; i < 300 && !listening && collector.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
  if (!listening) {
    process.stderr.write(`start: the collector did not start (see ${path.join(opts.dir, 'collector.log')})\n`);
    await stop(collector);
    return 1;
  }

  // 2. enroll the local agent (again when the collector's address changed)
  let enrolledAt = null;
  try {
    enrolledAt = JSON.parse(fs.readFileSync(path.join(stateDir, 'enrollment.json'), 'utf8')).server;
  } catch {
    enrolledAt = null;
  }
  if (enrolledAt !== url) {
    const enroll = spawn(process.execPath, [AGENT_BIN, 'enroll', '--server', url, '--state-dir', stateDir], {
      env: { ...process.env, MCPWATCH_ENROLL_SECRET: enrollSecret },
      stdio: ['ignore', opts.check ? 'ignore' : 'inherit', 'inherit'],
    });
    if ((await exited(enroll)) !== 0) {
      process.stderr.write('start: enrolling the local agent failed\n');
      await stop(collector);
      return 1;
    }
  }

  // 3. run the agent on this machine
  // --max-semi-space-size=2: the flag the agent's launcher shebang carries (smaller RSS for a long run)
  const agent = spawn(process.execPath, ['--max-semi-space-size=2', AGENT_BIN, 'run', '--state-dir', stateDir], {
    env: { ...process.env, MCPWATCH_ENROLL_SECRET: enrollSecret, MCPWATCH_SERVER: url },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  pipeLines(agent.stderr, '[agent] ', process.stderr);
  const agentDown = exited(agent);

  // 4. wait until this machine's inventory is at the collector, then say where to look
  let endpoints = null;
  for (let i = 0; i < 600 && agent.exitCode === null; i++) {
    const r = await getJson(`${url}/v1/events?type=inventory.snapshot&limit=1`, adminToken);
    if (r.status === 200 && r.json?.items?.length > 0) {
      endpoints = (await getJson(`${url}/v1/endpoints`, adminToken)).json?.items?.length ?? 0;
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const rel = (p) => {
    const r = path.relative(process.cwd(), p);
    return r === '' ? '.' : r.startsWith('..') ? p : r;
  };
  const lines = [
    '',
    endpoints === null ? 'mcpwatch: started, but no inventory has arrived at the collector yet' : `mcpwatch is running: ${endpoints} endpoint(s) reporting`,
    `  collector API   ${url}   (GET /v1/endpoints, /v1/servers, /v1/findings, /v1/events; /healthz, /metrics)`,
    `  admin token     ${adminToken}   (kept in ${rel(path.join(opts.dir, 'secrets.json'))})`,
    `  query CLI       MCPWATCH_SERVER=${url} MCPWATCH_TOKEN=${adminToken} npx mcpwatch endpoints`,
    `                  (also: servers, findings, events --type server.added, endpoint ID)`,
    `  published       ${rel(path.join(dataDir, 'outlets'))}/ (JSONL: what would go to Kinesis / Security Hub)`,
    `  agent           npx mcpwatch-agent status --state-dir ${rel(stateDir)}`,
    `  logs            ${rel(path.join(opts.dir, 'collector.log'))} (collector), this terminal (agent warnings)`,
    opts.check ? '' : 'Stop with Ctrl-C.',
    '',
  ];
  process.stdout.write(lines.join('\n'));

  let code = endpoints === null ? 1 : 0;
  if (!opts.check) {
    const signalled = new Promise((resolve) => {
      process.once('SIGINT', () => resolve('signal'));
      process.once('SIGTERM', () => resolve('signal'));
    });
    const why = await Promise.race([signalled, agentDown.then(() => 'agent'), collectorDown.then(() => 'collector')]);
    if (why !== 'signal') {
      process.stderr.write(`start: the ${why} stopped unexpectedly\n`);
      code = 1;
    }
  }
  await stop(agent);
  await stop(collector);
  return code;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`start: ${e?.stack ?? e}\n`);
    process.exitCode = 1;
  },
);
