/**
 * Builds the ScanContext for this machine or for a fixture home.
 *  - Fixture (--home DIR): DIR is the one user's home (user name = its base name); the environment
 *    is NOT taken from this process (a developer's $CLAUDE_CONFIG_DIR must not leak into a fixture
 *    scan); machine-wide (managed) locations are looked up under --system-root, else under DIR
 *    itself, so a fixture can hold them too.
 *  - This machine: every user's home when privileged, else the current user's (discovery's
 *    home-finder); this process's environment; the real system root.
 * Never throws.
 */
import { defaultHomes, injectedHome } from '../discovery/index.js';
import type { Platform, ScanContext } from '../types.js';

export interface ContextOptions {
  platform: Platform;
  home: string | null;
  projectRoots: string[];
  systemRoot: string | null;
  env?: Record<string, string | undefined>;
}

/** The context of one scan. */
export async function buildScanContext(options: ContextOptions): Promise<ScanContext> {
  if (options.home) {
    return {
      platform: options.platform,
      homes: injectedHome(options.home),
      env: {},
      projectRoots: options.projectRoots,
      systemRoot: options.systemRoot ?? options.home,
    };
  }
  let homes: ScanContext['homes'];
  try {
    homes = await defaultHomes(options.platform);
  } catch {
    homes = [];
  }
  return {
    platform: options.platform,
    homes,
    env: { ...(options.env ?? process.env) },
    projectRoots: options.projectRoots,
    systemRoot: options.systemRoot ?? '',
  };
}
