/**
 * What Linux and macOS (and any other Unix) share behind OsSpec: / as the system root, the
 * effective uid for privilege, chmod for owner-only files, fsync on directories, and the
 * file-URI and state-dir spelling. Each OS's os.ts spreads these and adds its own layout.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { OsSpec } from './os-spec.js';

export const MANAGED_DOMAIN = 'com.mcpwatch.agent';

/** `path` under a fixture root ('' = the real root). */
export function underRoot(systemRoot: string, systemPath: string): string {
  return systemRoot ? path.join(systemRoot, systemPath) : systemPath;
}

export const posix = {
  systemRoot: () => '/',
  posixModes: true,
  fsyncsDirectories: true,
  isPrivileged: () => typeof process.getuid === 'function' && process.getuid() === 0,
  restrictToOwner(target: string): void {
    fs.chmodSync(target, fs.statSync(target).isDirectory() ? 0o700 : 0o600);
  },
  pathFromFileUri: (host: string, decoded: string) => (host === '' || host === 'localhost' ? decoded : null),
  localAppData: () => null,
} satisfies Partial<OsSpec>;

/** Unprivileged state dir of every Unix: under the user's home. */
export function userStateDir(userHome: string): string {
  return path.join(userHome, '.mcpwatch', 'agent');
}
