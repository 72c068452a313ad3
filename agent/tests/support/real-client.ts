/**
 * For end-to-end tests that drive a real AI client installed from npm (Claude Code, Gemini CLI):
 * which binary to use (an environment variable; CI sets them, see .ci/run), and running a child
 * process to completion with its output. A variable that is set but names no file is a broken
 * set-up, so the test fails instead of skipping; unset, the tests are skipped and that is said on
 * stderr (developer machines without the clients).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { JOURNAL_DIR, readJournal } from '../../src/hooks/hook-journal.js';

/** The agent's bin, as a client's installed hook runs it. */
export const AGENT_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/mcpwatch-agent.js');
/** The policies the real-client tests run under: server-everything's get-sum blocked, or asked about. */
export const BLOCK_GET_SUM = { mode: 'enforce', blockedTools: [{ server: 'everything', tool: 'get-sum' }], contact: 'secops@example.com' };
export const ASK_GET_SUM = { mode: 'enforce', askTools: [{ server: 'everything', tool: 'get-sum' }], contact: 'secops@example.com' };

export interface RealClient {
  /** The binary, or '' when the variable is unset. */
  bin: string;
  /** `test` when the variable is set (a missing file then fails in the test), else `test.skip`. */
  maybe: jest.It;
  /** Throws when the variable names a file that is not there. */
  assertPresent(): void;
}

export function realClient(envVar: string, label: string, hint: string): RealClient {
  const bin = process.env[envVar] ?? '';
  if (!bin) process.stderr.write(`${label}: skipped (set ${envVar} to ${hint})\n`);
  return {
    bin,
    maybe: bin ? test : test.skip,
    assertPresent() {
      if (!fs.existsSync(bin)) throw new Error(`${envVar}=${bin}: no such file (install the client, e.g. with .ci/run, or unset ${envVar} to skip)`);
    },
  };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (SIGKILL after `killAfterMs`), collecting its output. */
export function runToEnd(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, killAfterMs = 120_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A fresh root with home/, state/ and work/ (and the given dirs under home). */
export function clientRoot(prefix: string, homeDirs: string[]): { root: string; home: string; stateDir: string; work: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const home = path.join(root, 'home');
  const stateDir = path.join(root, 'state');
  const work = path.join(root, 'work');
  for (const d of [home, stateDir, work, ...homeDirs.map((h) => path.join(home, h))]) fs.mkdirSync(d, { recursive: true });
  return { root, home, stateDir, work };
}

/** Every byte of the hook journal in `stateDir`, as text (for "this value is nowhere in it"). */
export function journalText(stateDir: string): string {
  const dir = path.join(stateDir, JOURNAL_DIR);
  return fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f)).toString('latin1')).join('');
}

/** Writes `policy` as the cached tool policy and installs mcpwatch's hook for `client` with the real bin. */
export async function installHook(client: string, at: { home: string; stateDir: string; work: string }, policy: Record<string, unknown>): Promise<void> {
  fs.writeFileSync(path.join(at.stateDir, 'tool-policy.json'), JSON.stringify(policy));
  const inst = await runToEnd(process.execPath, [AGENT_BIN, 'hooks', 'install', '--client', client, '--home', at.home, '--state-dir', at.stateDir], process.env, at.work);
  if (inst.code !== 0) throw new Error(`hooks install --client ${client} exited ${inst.code}: ${inst.stderr}`);
}

/** The journal's records and its raw bytes. */
export function journalOf(stateDir: string): { journal: Record<string, unknown>[]; journalBytes: string } {
  return { journal: readJournal(stateDir).records as Record<string, unknown>[], journalBytes: journalText(stateDir) };
}
