/**
 * Where the installers tests find what `npm test` built first (scripts/build-test-artifacts.mjs),
 * and small process helpers. An integration test whose artifact or tool is missing is skipped
 * with a console message naming what to install or run (never a silent pass).
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const INSTALLERS_DIR = fileURLToPath(new URL('../..', import.meta.url));
export const REPO_ROOT = path.resolve(INSTALLERS_DIR, '..');
export const TEST_OUT = process.env.MCPWATCH_TEST_PACKAGE_OUT ?? path.join(INSTALLERS_DIR, '.cache', 'test-out');
/** The version the packages are stamped with (agent/package.json; MCPWATCH_VERSION is not used in tests). */
export const AGENT_VERSION: string = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'agent', 'package.json'), 'utf8')) as { version: string }).version;

/** Path of a built artifact in the test output directory (it may not exist). */
export function artifact(name: string): string {
  return path.join(TEST_OUT, name);
}

/** True when `tool` is on PATH. */
export function hasTool(tool: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1" >/dev/null 2>&1', 'sh', tool]).status === 0;
}

/**
 * `it` when every artifact and tool is present, else `it.skip` after saying why.
 */
export function itWhen(requirements: { artifacts?: string[]; tools?: string[]; root?: boolean }): jest.It {
  const missing = [
    ...(requirements.artifacts ?? []).filter((name) => !existsSync(artifact(name))).map((name) => `${artifact(name)} (run: npm test -w @mcpwatch/installers, which builds it)`),
    ...(requirements.tools ?? []).filter((tool) => !hasTool(tool)).map((tool) => `${tool} (run: sudo sh installers/scripts/install-build-tools.sh)`),
    ...(requirements.root && process.getuid?.() !== 0 ? ['root privileges'] : []),
  ];
  if (missing.length === 0) return it;
  console.warn(`installers tests skipped, missing: ${missing.join('; ')}`);
  return it.skip;
}

export interface RunResult { status: number | null; stdout: string; stderr: string }

/** Runs a command to completion (no shell), capturing output; never rejects on a non-zero exit. */
export function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error && typeof (error as NodeJS.ErrnoException).code === 'string') { reject(error); return; }
      resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
