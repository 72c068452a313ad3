/**
 * The main job (`npm start` = scripts/start.mjs): collector on loopback with SQLite and the file
 * sink, a local agent enrolled and running on this machine, and a note of where to look. `--check`
 * stops once this machine's inventory is stored at the collector.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { filesContaining, freePort } from './agent-pipeline-harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('npm start (scripts/start.mjs)', () => {
  test('starts the collector, enrolls and runs a local agent, and prints where to look', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-start-'));
    const port = await freePort();
    const proc = spawn(process.execPath, [path.join(ROOT, 'scripts', 'start.mjs'), '--dir', dir, '--port', String(port), '--check'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => proc.on('exit', r));
    expect({ code, err: code === 0 ? '' : err }).toEqual({ code: 0, err: '' });
    expect(out).toMatch(/mcpwatch is running: 1 endpoint\(s\) reporting/);
    expect(out).toContain(`collector API   http://127.0.0.1:${port}`);
    expect(out).toContain(`MCPWATCH_SERVER=http://127.0.0.1:${port} MCPWATCH_TOKEN=`);
    const secrets = JSON.parse(fs.readFileSync(path.join(dir, 'secrets.json'), 'utf8')) as { enrollSecret: string; adminToken: string };
    expect(fs.statSync(path.join(dir, 'secrets.json')).mode & 0o777).toBe(0o600);
    expect(fs.existsSync(path.join(dir, 'collector', 'mcpwatch.sqlite'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'agent', 'enrollment.json'))).toBe(true);
    // the enroll secret stays in secrets.json: not in the agent's state, the store or the logs
    expect(filesContaining(dir, secrets.enrollSecret).map((f) => path.relative(dir, f))).toEqual(['secrets.json']);
    expect(err).not.toContain(secrets.enrollSecret);
  }, 90_000);
});
