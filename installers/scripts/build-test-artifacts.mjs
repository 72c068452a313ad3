#!/usr/bin/env node
/**
 * Builds what the installers tests check (run by `npm test` before jest): the linux-x64 and win-x64
 * executables and every package whose build tools are installed, into installers/.cache/test-out.
 * A package kind whose tools are missing is skipped with a message (the tests that need it say they
 * are skipped); run scripts/install-build-tools.sh as root to get them. Set
 * MCPWATCH_TEST_REUSE_PACKAGES=1 to keep an existing test-out (local re-runs).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasTool } from './lib/run-command.mjs';
import { parseSettings, runPackaging } from './package.mjs';

/** Tools each package kind needs. */
export const PACKAGE_TOOLS = Object.freeze({
  deb: ['dpkg-deb'],
  rpm: ['rpmbuild'],
  msi: ['wixl', 'msibuild', 'x86_64-w64-mingw32-gcc'],
  macos: [],
});

export const TEST_OUT_DIR = fileURLToPath(new URL('../.cache/test-out', import.meta.url));

const log = (line) => process.stdout.write(`[test-artifacts] ${line}\n`);
if (process.env.MCPWATCH_TEST_REUSE_PACKAGES === '1' && existsSync(path.join(TEST_OUT_DIR, 'SHA256SUMS'))) {
  log(`reusing ${TEST_OUT_DIR}`);
} else {
  const kinds = Object.entries(PACKAGE_TOOLS).filter(([kind, tools]) => {
    const missing = tools.filter((tool) => !hasTool(tool));
    if (missing.length > 0) log(`skipping ${kind}: ${missing.join(', ')} not installed (scripts/install-build-tools.sh)`);
    return missing.length === 0;
  }).map(([kind]) => kind);
  delete process.env.MCPWATCH_VERSION; // the tests expect agent/package.json's version
  const settings = parseSettings(['--targets', 'linux-x64,win-x64', '--packages', kinds.join(',') || 'none', '--out-dir', TEST_OUT_DIR]);
  try {
    await runPackaging(settings, log);
  } catch (error) {
    process.stderr.write(`[test-artifacts] ${error.code ?? 'MCPW_ERR_PACKAGE_UNEXPECTED'}: ${error.message}\n`);
    process.exitCode = 1;
  }
}
