/**
 * Run-time support compiled into the agent's single executable (injected by esbuild).
 *
 * - `import_meta_url`: the bundle is CommonJS, so ESM-only dependencies (ps-list, chokidar) read
 *   `import.meta.url` from here. It names the running file (the executable inside a SEA).
 * - `resolveFastlistPath`: ps-list runs a helper executable (fastlist) on Windows that normally sits
 *   in node_modules/ps-list/vendor. Inside a SEA that directory does not exist, so the helper is
 *   carried as a SEA asset and extracted by the agent's extractSeaAsset
 *   (agent/src/platform/win32/sea-asset.ts: a private directory, SHA-256 checked before every
 *   use); if it cannot be, the original path is returned and ps-list fails as it would.
 */
import { pathToFileURL } from 'node:url';
import { assetDirectories, extractSeaAsset } from '../../../agent/dist/platform/win32/sea-asset.js';

export { assetDirectories };

/* global __filename */
/** URL of the running file, standing in for `import.meta.url` in the CommonJS bundle. */
export const import_meta_url = pathToFileURL(typeof __filename === 'string' ? __filename : process.execPath).href;

/** SEA asset key for a ps-list vendor file (the build stores them under these keys). */
export function fastlistAssetKey(binaryName) {
  return `ps-list/vendor/${binaryName}`;
}

/**
 * Returns where ps-list should find `binaryName`: inside a SEA, an extracted copy of the embedded
 * asset; otherwise `fallbackPath` unchanged. Never throws.
 * @param {string} binaryName e.g. fastlist-0.3.0-x64.exe
 * @param {string} fallbackPath ps-list's own path for it
 * @param {import('../../../agent/dist/platform/win32/sea-asset.js').SeaAssetDeps} [deps]
 */
export function resolveFastlistPath(binaryName, fallbackPath, deps = {}) {
  const extracted = extractSeaAsset(fastlistAssetKey(binaryName), binaryName, deps);
  return extracted.ok ? extracted.path : fallbackPath;
}
