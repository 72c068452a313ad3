/**
 * Helper executables carried inside the agent's single executable (Node SEA assets): ps-list's
 * fastlist and mcpwatch-winsnap on Windows. A SEA cannot run a file it only holds in memory, so an
 * asset is extracted, on first use, into a private directory: next to the executable
 * (`<exe dir>\assets`, admin-only when the MSI installed it under Program Files) or else the user's
 * own `%LOCALAPPDATA%\mcpwatch\assets`; the file name carries the first 16 hex digits of its
 * SHA-256. The extracted copy is checked against the asset's SHA-256 before every use and
 * rewritten when it differs (written to a partial file, then renamed into place).
 *
 * Contract: never throws. Outside a SEA, for an asset this build does not carry, or when no
 * directory can be written, the result is `{ ok: false }` with the reason, and the caller falls
 * back or reports it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

/** The part of `node:sea` used here. */
export interface SeaAssets {
  getAsset(key: string): ArrayBuffer;
}

/** Where and how assets are extracted (tests pass their own). */
export interface SeaAssetDeps {
  /** `undefined`: not running as a SEA. Default: the real `node:sea` when this is a SEA. */
  sea?: SeaAssets | undefined;
  execPath?: string;
  env?: NodeJS.ProcessEnv;
  homedir?: () => string;
  fs?: Pick<typeof fs, 'existsSync' | 'readFileSync' | 'mkdirSync' | 'writeFileSync' | 'renameSync'>;
}

export type SeaAssetResult = { ok: true; path: string } | { ok: false; reason: string };

/** The real `node:sea` module when running inside a SEA, otherwise undefined. */
export function loadSea(): SeaAssets | undefined {
  try {
    const sea = createRequire(process.execPath)('node:sea') as SeaAssets & { isSea(): boolean };
    return sea.isSea() ? sea : undefined;
  } catch {
    return undefined; // Node without node:sea (20.11 and older): not a SEA
  }
}

/** Directories to try for extracted assets, most trusted first. */
export function assetDirectories(host: { execPath: string; env: NodeJS.ProcessEnv; homedir: () => string }): string[] {
  const local = host.env.LOCALAPPDATA ?? path.join(host.homedir(), 'AppData', 'Local');
  return [path.join(path.dirname(host.execPath), 'assets'), path.join(local, 'mcpwatch', 'assets')];
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The extracted, verified copy of asset `key` as `fileName`. Never throws. */
export function extractSeaAsset(key: string, fileName: string, deps: SeaAssetDeps = {}): SeaAssetResult {
  const sea = 'sea' in deps ? deps.sea : loadSea();
  if (!sea) return { ok: false, reason: 'not running as the single executable (no embedded helpers)' };
  const fsApi = deps.fs ?? fs;
  let bytes: Buffer;
  try {
    bytes = Buffer.from(sea.getAsset(key));
  } catch {
    return { ok: false, reason: `${fileName} is not embedded in this build` };
  }
  const digest = sha256(bytes);
  const host = { execPath: deps.execPath ?? process.execPath, env: deps.env ?? process.env, homedir: deps.homedir ?? os.homedir };
  const failures: string[] = [];
  for (const dir of assetDirectories(host)) {
    const target = path.join(dir, digest.slice(0, 16), fileName);
    try {
      if (fsApi.existsSync(target) && sha256(fsApi.readFileSync(target)) === digest) return { ok: true, path: target };
      fsApi.mkdirSync(path.dirname(target), { recursive: true });
      const partial = `${target}.${process.pid}.partial`;
      fsApi.writeFileSync(partial, bytes, { mode: 0o755 });
      fsApi.renameSync(partial, target);
      return { ok: true, path: target };
    } catch (error) {
      failures.push(`${dir}: ${(error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error))}`);
    }
  }
  return { ok: false, reason: `${fileName} could not be extracted (${failures.join('; ')})` };
}
