/**
 * Turns the bundled agent into Node single executables (SEA) for each target: the dispatcher is the
 * SEA's main script, the agent and hook bundles are SEA assets (bundle-agent.mjs). The blob is made by
 * the linux-x64 Node binary of the SAME version as every target binary, with Node's own code cache
 * and startup snapshot off (they are not portable across platforms); the agent bundle's code cache,
 * made by one target's binary, goes into that target's blob only. Windows blobs carry ps-list's
 * fastlist helpers and mcpwatch-winsnap (compiled here with mingw-w64; without mingw the build says
 * so and the executable's Windows sources fall back to fastlist and netstat) as SEA assets. postject injects the blob; for Mach-O targets into the NODE_SEA
 * segment. Injection invalidates the Node binaries' own signatures: macOS outputs must be re-signed
 * on a Mac (ad hoc or Developer ID) and Windows outputs Authenticode-signed (see installers/README.md).
 */
import { copyFileSync, chmodSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { runCommand, hasTool } from './run-command.mjs';
import { TARGETS, HOST_TARGET, ensureNodeBinary } from './node-binaries.mjs';
import { fastlistAssetKey } from '../sea/sea-runtime.mjs';
import { WINSNAP_ASSET_KEY } from '../../../agent/dist/platform/win32/winsnap.js';
import { MINGW_GCC, compileWinsnap } from './mingw.mjs';
import { PackagingError, PACKAGING_ERROR_CODES } from './packaging-error.mjs';

/** postject's fuse sentinel for Node SEA (fixed by Node). */
export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const FASTLIST_BINARIES = ['fastlist-0.3.0-x64.exe', 'fastlist-0.3.0-x86.exe'];

/** GNU strip per Linux architecture (binutils; aarch64 needs binutils-aarch64-linux-gnu). */
const STRIP_TOOLS = Object.freeze({ x64: 'strip', arm64: 'aarch64-linux-gnu-strip' });

/**
 * Strips symbols from a Linux Node binary before the blob is injected (about 19 MB smaller, and
 * Debian policy wants stripped binaries). Stripping never touches the SEA fuse string. Skipped,
 * with a log line, when the strip tool for that architecture is not installed.
 */
async function stripLinuxBinary(spec, file, log) {
  if (spec.os !== 'linux') return;
  const tool = STRIP_TOOLS[spec.arch];
  if (!hasTool(tool)) {
    log(`${tool} not installed: ${path.basename(file)} stays unstripped`);
    return;
  }
  // Only section-name warnings come out of stripping Node's notes; a real failure exits non-zero.
  await runCommand(tool, ['--strip-all', file]);
}

/**
 * Makes a SEA preparation blob with the Node binary `hostNode` (same version as the target's).
 * @param {{main: string, assets: Record<string, string>, blob: string, hostNode: string}} options
 *   main: the main script; assets: SEA asset key → file
 * @returns {Promise<string>} blob path
 */
export async function makeSeaBlob({ main, assets, blob, hostNode }) {
  const config = {
    main,
    output: blob,
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache: false,
    assets,
  };
  const configFile = `${blob}.json`;
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  await runCommand(hostNode, ['--experimental-sea-config', configFile], { cwd: path.dirname(blob) });
  return blob;
}

/**
 * Copies `nodeBinary` to `file`, strips it (Linux) and injects `blob` with postject.
 * @param {{repoRoot: string, nodeBinary: string, blob: string, file: string, spec: (typeof TARGETS)[keyof typeof TARGETS], log?: (line: string) => void}} options
 */
export async function injectSeaBlob({ repoRoot, nodeBinary, blob, file, spec, log = () => {} }) {
  const postject = path.join(path.dirname(createRequire(path.join(repoRoot, 'package.json')).resolve('postject/package.json')), 'dist', 'cli.js');
  rmSync(file, { force: true });
  copyFileSync(nodeBinary, file);
  chmodSync(file, 0o755);
  await stripLinuxBinary(spec, file, log);
  const args = [postject, file, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE];
  if (spec.macho) args.push('--macho-segment-name', 'NODE_SEA');
  await runCommand(process.execPath, args);
  assertSeaFuseFlipped(file);
}

/**
 * Makes a SEA preparation blob: the bundle's main script and assets, the code cache when it was
 * made for `target`, and for Windows the helper executables.
 * @returns {Promise<string>} blob path
 */
async function makeBlob({ bundle, workDir, target, os, hostNode, repoRoot, log }) {
  const assets = { ...bundle.assets, ...(bundle.codeCache?.target === target ? bundle.codeCache.assets : {}) };
  if (os === 'win32') {
    const psListDir = path.dirname(createRequire(path.join(repoRoot, 'agent', 'package.json')).resolve('ps-list'));
    for (const name of FASTLIST_BINARIES) assets[fastlistAssetKey(name)] = path.join(psListDir, 'vendor', name);
    if (hasTool(MINGW_GCC)) assets[WINSNAP_ASSET_KEY] = await compileWinsnap(path.join(repoRoot, 'installers'), workDir);
    else log(`${MINGW_GCC} not installed: the Windows executable carries no mcpwatch-winsnap (processes from fastlist without command lines or users; run scripts/install-build-tools.sh)`);
  }
  return makeSeaBlob({ main: bundle.main, assets, blob: path.join(workDir, `sea-${target}.blob`), hostNode });
}

/**
 * Checks that postject flipped the SEA fuse (`<sentinel>:0` becomes `<sentinel>:1`): without it
 * the binary would start as plain Node and ignore the blob. Throws BUNDLE_FAILED otherwise.
 */
export function assertSeaFuseFlipped(file) {
  const bytes = readFileSync(file);
  if (!bytes.includes(Buffer.from(`${SEA_FUSE}:1`)) || bytes.includes(Buffer.from(`${SEA_FUSE}:0`))) {
    throw new PackagingError(PACKAGING_ERROR_CODES.BUNDLE_FAILED, `${path.basename(file)}: the SEA fuse was not flipped; the blob was not injected`);
  }
}

/**
 * Builds the executables for `targets` into `outDir`.
 * @param {{repoRoot: string, bundle: {main: string, assets: Record<string, string>, codeCache: {target: string, assets: Record<string, string>} | null}, outDir: string, workDir: string, cacheDir: string, targets: string[], log?: (line: string) => void}} options
 *   bundle: what bundleAgent returned
 * @returns {Promise<{target: string, file: string}[]>}
 */
export async function makeExecutables({ repoRoot, bundle, outDir, workDir, cacheDir, targets, log = () => {} }) {
  mkdirSync(outDir, { recursive: true });
  mkdirSync(workDir, { recursive: true });
  const hostNode = await ensureNodeBinary(HOST_TARGET, cacheDir, log);
  const blobs = new Map();
  const built = [];
  for (const target of targets) {
    const spec = TARGETS[target];
    const nodeBinary = await ensureNodeBinary(target, cacheDir, log);
    // One blob per OS, apart from the target the code cache was made for.
    const blobKey = bundle.codeCache?.target === target ? target : spec.os;
    if (!blobs.has(blobKey)) blobs.set(blobKey, await makeBlob({ bundle, workDir, target, os: spec.os, hostNode, repoRoot, log }));
    const file = path.join(outDir, spec.output);
    log(`injecting ${target}`);
    await injectSeaBlob({ repoRoot, nodeBinary, blob: blobs.get(blobKey), file, spec, log });
    built.push({ target, file });
  }
  return built;
}
