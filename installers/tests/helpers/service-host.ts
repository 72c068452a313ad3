/**
 * Builds the Windows service host's portable part (installers/windows/service-wrapper) natively with
 * the system C compiler, so its write-config and enroll-if-needed modes run for real here.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { INSTALLERS_DIR, run } from './artifacts.js';

export const SERVICE_HOST_SOURCE = path.join(INSTALLERS_DIR, 'windows', 'service-wrapper', 'mcpwatch-service.c');

/** Compiles the service host for this machine; resolves with the binary path. */
export async function buildNativeServiceHost(): Promise<string> {
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'mcpwatch-service-')), 'mcpwatch-service');
  const result = await run('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', out, SERVICE_HOST_SOURCE]);
  if (result.status !== 0) throw new Error(`cc failed: ${result.stderr}`);
  return out;
}
