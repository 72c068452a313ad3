#!/usr/bin/env node
/**
 * `npm run package`: builds the agent's single executables and the OS packages into installers/out.
 *
 *   node installers/scripts/package.mjs [--targets linux-x64,win-x64,...] [--packages deb,rpm,msi,macos]
 *                                       [--out-dir DIR] [--cache-dir DIR]
 *
 * Options come from the table below (flag, environment variable, default). Outputs:
 *   mcpwatch-agent-<target>[.exe]      one per target (Node SEA, version stamped)
 *   mcpwatch-agent_<v>_<arch>.deb      per Linux target          (needs dpkg-deb)
 *   mcpwatch-agent-<v>-1.<arch>.rpm    per Linux target          (needs rpmbuild)
 *   mcpwatch-agent-<v>-x64.msi         for win-x64               (needs wixl; service wrapper needs mingw)
 *   macos/                             .pkg payload, scripts, build-pkg.sh, launchd plist, profiles
 *   SHA256SUMS                         of every file above
 * Exit code 0 on success; 1 with a MCPW_ERR_PACKAGE_* code on stderr otherwise.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HOST_TARGET, TARGETS, ensureNodeBinary } from './lib/node-binaries.mjs';
import { readBuildInfo } from './lib/build-info.mjs';
import { bundleAgent } from './lib/bundle-agent.mjs';
import { makeExecutables } from './lib/make-executables.mjs';
import { writeChecksums } from './lib/checksums.mjs';
import { PackagingError, PACKAGING_ERROR_CODES } from './lib/packaging-error.mjs';

const INSTALLERS_DIR = fileURLToPath(new URL('..', import.meta.url));
const REPO_ROOT = path.resolve(INSTALLERS_DIR, '..');
const PACKAGE_KINDS = ['deb', 'rpm', 'msi', 'macos'];

/** Options: name, environment variable, default, description. Parsed once, then frozen. */
const OPTIONS = [
  { name: 'targets', env: 'MCPWATCH_PACKAGE_TARGETS', default: Object.keys(TARGETS).join(','), description: 'executable targets, comma separated' },
  { name: 'packages', env: 'MCPWATCH_PACKAGE_KINDS', default: PACKAGE_KINDS.join(','), description: 'packages to build (deb,rpm,msi,macos; "none" for executables only)' },
  { name: 'out-dir', env: 'MCPWATCH_PACKAGE_OUT', default: path.join(INSTALLERS_DIR, 'out'), description: 'output directory (emptied first)' },
  { name: 'cache-dir', env: 'MCPWATCH_INSTALLERS_CACHE', default: path.join(INSTALLERS_DIR, '.cache'), description: 'reusable download cache (Node tarballs)' },
];

/** Splits a comma list and checks every item against `known`. */
function parseList(name, value, known) {
  const items = value === 'none' ? [] : value.split(',').map((item) => item.trim()).filter(Boolean);
  for (const item of items) {
    if (!known.includes(item)) throw new PackagingError(PACKAGING_ERROR_CODES.BAD_ARGUMENT, `--${name}: unknown "${item}" (known: ${known.join(', ')})`);
  }
  return items;
}

/**
 * Parses the command line and environment into the packaging settings.
 * @param {string[]} argv
 * @param {NodeJS.ProcessEnv} env
 */
export function parseSettings(argv, env = process.env) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: Object.fromEntries(OPTIONS.map((o) => [o.name, { type: 'string' }])), strict: true, allowPositionals: false });
  } catch (error) {
    throw new PackagingError(PACKAGING_ERROR_CODES.BAD_ARGUMENT, `${error instanceof Error ? error.message : String(error)} (options: ${OPTIONS.map((o) => `--${o.name}`).join(' ')})`, error);
  }
  const raw = Object.fromEntries(OPTIONS.map((o) => [o.name, parsed.values[o.name] ?? env[o.env] ?? o.default]));
  return Object.freeze({
    targets: parseList('targets', raw.targets, Object.keys(TARGETS)),
    packages: parseList('packages', raw.packages, PACKAGE_KINDS),
    outDir: path.resolve(raw['out-dir']),
    cacheDir: path.resolve(raw['cache-dir']),
  });
}

/**
 * Runs the whole packaging pipeline.
 * @param {ReturnType<typeof parseSettings>} settings
 * @param {(line: string) => void} log
 * @returns {Promise<{files: string[], build: ReturnType<typeof readBuildInfo>}>}
 */
export async function runPackaging(settings, log) {
  const build = readBuildInfo(REPO_ROOT);
  rmSync(settings.outDir, { recursive: true, force: true });
  // One work dir per output dir, so `npm run package` and the tests' build can run side by side.
  const workDir = path.join(settings.cacheDir, `work-${createHash('sha256').update(settings.outDir).digest('hex').slice(0, 12)}`);
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const files = [];

  // The agent bundle's V8 code cache can only be made by the target's own Node binary: the host's.
  const codeCache = settings.targets.includes(HOST_TARGET) ? { target: HOST_TARGET, node: await ensureNodeBinary(HOST_TARGET, settings.cacheDir, log) } : null;
  const bundle = await bundleAgent({ repoRoot: REPO_ROOT, outDir: workDir, build, codeCache });
  const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;
  log(`bundled agent ${build.version} (${build.commit}): agent ${kib(bundle.bytes.agent)}, hook ${kib(bundle.bytes.hook)}, dispatcher ${kib(bundle.bytes.main)}${codeCache ? `, agent code cache for ${codeCache.target} ${kib(bundle.bytes.agentCodeCache)}` : ''}`);
  const executables = await makeExecutables({ repoRoot: REPO_ROOT, bundle, outDir: settings.outDir, workDir, cacheDir: settings.cacheDir, targets: settings.targets, log });
  files.push(...executables.map((e) => e.file));
  const byTarget = Object.fromEntries(executables.map((e) => [e.target, e.file]));

  for (const kind of settings.packages) {
    const step = await import(`./lib/build-${kind}.mjs`);
    const produced = await step.build({ repoRoot: REPO_ROOT, installersDir: INSTALLERS_DIR, outDir: settings.outDir, workDir: path.join(workDir, kind), version: build.version, executables: byTarget, log });
    files.push(...produced);
  }
  const sums = await writeChecksums(settings.outDir, files.filter((file) => file.startsWith(settings.outDir)));
  log(`wrote ${sums}`);
  return { files, build };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const log = (line) => process.stdout.write(`[package] ${line}\n`);
  try {
    const { files } = await runPackaging(parseSettings(process.argv.slice(2)), log);
    for (const file of files) log(path.relative(process.cwd(), file));
  } catch (error) {
    const code = error instanceof PackagingError ? error.code : 'MCPW_ERR_PACKAGE_UNEXPECTED';
    process.stderr.write(`[package] ${code}: ${error instanceof Error ? error.message : String(error)}\n`);
    if (error instanceof Error && error.cause) process.stderr.write(`  cause: ${error.cause instanceof Error ? error.cause.message : String(error.cause)}\n`);
    process.exitCode = 1;
  }
}
