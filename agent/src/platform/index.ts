/**
 * The operating system behind one interface, selected once: where the running processes and their
 * sockets come from on this OS (PlatformSources, here), and every other per-OS difference (layout,
 * privilege, owner-only files, managed places, host facts) in OsSpec (os.ts). Each OS's
 * implementation lives in its folder (platform/linux, platform/win32: its own Win32 helper, then
 * fastlist and netstat, no PowerShell; macOS uses the portable ps-list and systeminformation
 * sources), and nothing outside platform/ asks which OS it runs on. Heavy modules (ps-list, systeminformation, /proc readers)
 * load on first use, so a `scan --home` never loads them.
 */
import os from 'node:os';
import type { Platform } from '../types.js';
import { psListSource } from './ps-list-source.js';
import type { ProcessSource, SocketSource } from './source-types.js';
import { systemInformationSockets } from './system-information-sockets.js';

/** Where this OS's processes and sockets come from. */
export interface PlatformSources {
  processSource(): ProcessSource;
  socketSource(): SocketSource;
}

/** Linux: /proc (no ps spawned), ps-list / systeminformation when /proc cannot be read. */
const linux: PlatformSources = {
  processSource() {
    let proc: ProcessSource | null = null;
    return async () => {
      proc ??= (await import('./linux/proc-source.js')).createProcProcessSource();
      const rows = await proc();
      return rows.ok ? rows : psListSource();
    };
  },
  socketSource() {
    const cache: { current: import('./linux/socket-source.js').ProcSocketCache | null } = { current: null };
    return async (scope) => {
      if (scope) {
        const { readProcSockets } = await import('./linux/socket-source.js');
        const rows = await readProcSockets(scope.pids, scope.names, { cache });
        if (rows.ok) return rows;
      }
      return systemInformationSockets();
    };
  },
};

/** macOS (and any other Unix): ps-list and systeminformation. */
const darwin: PlatformSources = {
  processSource: () => () => psListSource(),
  socketSource: () => () => systemInformationSockets(),
};

/**
 * Windows: the agent's mcpwatch-winsnap helper, then fastlist (processes) or `netstat -ano`
 * (sockets); none needs PowerShell or WMI (win32/sources.ts).
 */
const win32: PlatformSources = {
  processSource() {
    let chain: ProcessSource | null = null;
    return async () => {
      chain ??= (await import('./win32/sources.js')).createWindowsProcessSource();
      return chain();
    };
  },
  socketSource() {
    let chain: SocketSource | null = null;
    return async (scope) => {
      chain ??= (await import('./win32/sources.js')).createWindowsSocketSource();
      return chain(scope);
    };
  },
};

const BY_OS: Readonly<Record<Platform, PlatformSources>> = { linux, darwin, win32 };

/** The sources of `platform` (default: the OS this agent runs on; another Unix is taken as macOS). */
export function platformSources(platform: string = os.platform()): PlatformSources {
  return BY_OS[platform as Platform] ?? darwin;
}

export { PLATFORMS, hostOs, hostPlatform, isKnownPlatform, osSpec, type OsSpec } from './os.js';
