/**
 * Runs external tools (tar, npm, dpkg-deb, rpmbuild, wixl, postject ...) for the packaging
 * scripts. Contract: resolves with captured stdout/stderr when the tool exits 0; otherwise rejects
 * with a PackagingError (COMMAND_FAILED, or TOOL_MISSING when the executable is not installed).
 * Output is bounded (the last 64 KiB of each stream is kept).
 */
import { spawn, spawnSync } from 'node:child_process';
import { PackagingError, PACKAGING_ERROR_CODES } from './packaging-error.mjs';

const MAX_CAPTURE_BYTES = 64 * 1024;

/** Appends a chunk to a bounded capture buffer, keeping the tail. */
function appendBounded(current, chunk) {
  const next = current + chunk;
  return next.length > MAX_CAPTURE_BYTES ? next.slice(next.length - MAX_CAPTURE_BYTES) : next;
}

/**
 * Runs `command args` and waits for it.
 * @param {string} command executable name or path
 * @param {string[]} args arguments (never passed through a shell)
 * @param {{cwd?: string, env?: NodeJS.ProcessEnv, input?: string}} [options]
 * @returns {Promise<{stdout: string, stderr: string}>}
 */
export function runCommand(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => { stdout = appendBounded(stdout, chunk); });
    child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr = appendBounded(stderr, chunk); });
    child.on('error', (error) => {
      const missing = /** @type {NodeJS.ErrnoException} */ (error).code === 'ENOENT';
      reject(new PackagingError(
        missing ? PACKAGING_ERROR_CODES.TOOL_MISSING : PACKAGING_ERROR_CODES.COMMAND_FAILED,
        missing ? `${command} is not installed (run installers/scripts/install-build-tools.sh)` : `${command} could not start`,
        error,
      ));
    });
    child.on('close', (code, signal) => {
      if (code === 0) resolve({ stdout, stderr });
      else reject(new PackagingError(
        PACKAGING_ERROR_CODES.COMMAND_FAILED,
        `${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${stderr.trim().slice(-2000)}`,
      ));
    });
    child.stdin.end(options.input ?? '');
  });
}

/** True when `command` is on PATH (checked with `command -v`). */
export function hasTool(command) {
  return spawnSync('sh', ['-c', `command -v "$1" >/dev/null 2>&1`, 'sh', command]).status === 0;
}
