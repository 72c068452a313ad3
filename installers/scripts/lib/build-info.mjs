/**
 * The version stamp of a packaging run: the agent's package version (or MCPWATCH_VERSION), the git
 * commit, and the Node version inside the executables. Versions must suit dpkg, rpm and MSI
 * (MSI wants three numeric fields), so anything else is refused with BAD_CONFIG_VALUE.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { PackagingError, PACKAGING_ERROR_CODES } from './packaging-error.mjs';
import { NODE_VERSION } from './node-binaries.mjs';

const VERSION_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,5})$/;

/**
 * Checks a release version (MAJOR.MINOR.PATCH, each small enough for an MSI ProductVersion).
 * @param {string} version
 * @returns {string} the version
 */
export function checkVersion(version) {
  const match = VERSION_PATTERN.exec(version);
  if (!match || Number(match[1]) > 255 || Number(match[2]) > 255 || Number(match[3]) > 65535) {
    throw new PackagingError(PACKAGING_ERROR_CODES.BAD_CONFIG_VALUE, `version "${version}" must be MAJOR.MINOR.PATCH with MAJOR, MINOR <= 255 and PATCH <= 65535 (dpkg, rpm and MSI all accept that)`);
  }
  return version;
}

/**
 * Reads the build stamp.
 * @param {string} repoRoot
 * @param {NodeJS.ProcessEnv} env
 * @returns {{version: string, commit: string, nodeVersion: string}}
 */
export function readBuildInfo(repoRoot, env = process.env) {
  const agentPackage = JSON.parse(readFileSync(path.join(repoRoot, 'agent', 'package.json'), 'utf8'));
  const version = checkVersion(env.MCPWATCH_VERSION || agentPackage.version);
  const git = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' });
  const commit = git.status === 0 ? git.stdout.trim() : 'unknown';
  return { version, commit, nodeVersion: NODE_VERSION };
}
