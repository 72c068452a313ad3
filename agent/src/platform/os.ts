/**
 * Selects the OsSpec (os-spec.ts) once: `osSpec(platform)` for the platform a scan lays out
 * (`--platform` in tests and fixtures), `hostOs()` for the machine this agent runs on (chosen on
 * first use and kept). Another Unix is laid out as Linux, as the CLI has always reported it.
 */
import os from 'node:os';
import type { Platform } from '../types.js';
import { darwinOs } from './darwin/os.js';
import { linuxOs } from './linux/os.js';
import type { OsSpec } from './os-spec.js';
import { win32Os } from './win32/os.js';

export type { Env, ManagedPlace, OsSpec } from './os-spec.js';

/** Every platform the agent knows, as `--platform` accepts them. */
export const PLATFORMS: readonly Platform[] = ['darwin', 'win32', 'linux'];

const BY_NAME: Readonly<Record<Platform, OsSpec>> = { linux: linuxOs, darwin: darwinOs, win32: win32Os };

/** The spec of `platform`. */
export function osSpec(platform: Platform): OsSpec {
  return BY_NAME[platform] ?? linuxOs;
}

/** Whether `name` (a Node platform string) is one the agent knows. */
export function isKnownPlatform(name: string): name is Platform {
  return (PLATFORMS as readonly string[]).includes(name);
}

let host: OsSpec | null = null;

/** The spec of the machine this process runs on, selected once. */
export function hostOs(): OsSpec {
  host ??= osSpec(hostPlatform());
  return host;
}

/** The running OS as a Platform (another Unix counts as linux). */
export function hostPlatform(): Platform {
  const p = os.platform();
  return isKnownPlatform(p) ? p : 'linux';
}
