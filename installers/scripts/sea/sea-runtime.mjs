/**
 * Run-time support compiled into the agent's single executable (injected by esbuild).
 *
 * - `import_meta_url`: the bundle is CommonJS, so ESM-only dependencies (ps-list, chokidar) read
 *   `import.meta.url` from here. It names the running file (the executable inside a SEA).
 * - `resolveFastlistPath`: ps-list runs a helper executable (fastlist) on Windows that normally sits
 *   in node_modules/ps-list/vendor. Inside a SEA that directory does not exist, so the helper is
 *   carried as a SEA asset and extracted, on first use only, next to the executable (an
 *   admin-only directory when installed by the MSI) or else under the user's local app data. The
 *   extracted file is checked against the asset's SHA-256 before every use and rewritten if it
 *   differs; if it cannot be written, the original path is returned and ps-list fails as it would.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/* global __filename */
/** URL of the running file, standing in for `import.meta.url` in the CommonJS bundle. */
export const import_meta_url = pathToFileURL(typeof __filename === 'string' ? __filename : process.execPath).href;

/** SEA asset key for a ps-list vendor file (the build stores them under these keys). */
export function fastlistAssetKey(binaryName) {
  return `ps-list/vendor/${binaryName}`;
}

/** The real `node:sea` module when running inside a SEA, otherwise undefined. */
function loadSea() {
  try {
    const requireBuiltin = createRequire(import_meta_url);
    const sea = requireBuiltin('node:sea');
    return sea.isSea() ? sea : undefined;
  } catch {
    return undefined; // Node without node:sea (20.11 and older): not a SEA
  }
}

/**
 * Directories to try for extracted assets, most trusted first.
 * @param {{execPath: string, env: NodeJS.ProcessEnv, homedir: () => string}} host
 */
export function assetDirectories(host) {
  const local = host.env.LOCALAPPDATA ?? path.join(host.homedir(), 'AppData', 'Local');
  return [path.join(path.dirname(host.execPath), 'assets'), path.join(local, 'mcpwatch', 'assets')];
}

/**
 * Returns where ps-list should find `binaryName`: inside a SEA, an extracted copy of the embedded
 * asset; otherwise `fallbackPath` unchanged. Never throws.
 * @param {string} binaryName e.g. fastlist-0.3.0-x64.exe
 * @param {string} fallbackPath ps-list's own path for it
 * @param {{sea?: {getAsset(key: string): ArrayBuffer} | undefined, execPath?: string, env?: NodeJS.ProcessEnv, homedir?: () => string, fs?: typeof fs}} [deps]
 */
export function resolveFastlistPath(binaryName, fallbackPath, deps = {}) {
  const sea = 'sea' in deps ? deps.sea : loadSea();
  if (!sea) return fallbackPath;
  const fsApi = deps.fs ?? fs;
  let bytes;
  try {
    bytes = Buffer.from(sea.getAsset(fastlistAssetKey(binaryName)));
  } catch {
    return fallbackPath; // not embedded for this target
  }
  const digest = createHash('sha256').update(bytes).digest('hex');
  const host = { execPath: deps.execPath ?? process.execPath, env: deps.env ?? process.env, homedir: deps.homedir ?? os.homedir };
  for (const dir of assetDirectories(host)) {
    const target = path.join(dir, digest.slice(0, 16), binaryName);
    try {
      if (fsApi.existsSync(target) && createHash('sha256').update(fsApi.readFileSync(target)).digest('hex') === digest) return target;
      fsApi.mkdirSync(path.dirname(target), { recursive: true });
      const partial = `${target}.${process.pid}.partial`;
      fsApi.writeFileSync(partial, bytes, { mode: 0o755 });
      fsApi.renameSync(partial, target);
      return target;
    } catch {
      // not writable: try the next directory
    }
  }
  return fallbackPath;
}
