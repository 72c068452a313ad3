/**
 * Host facts for the inventory (hostname, OS, arch, hardware UUID, serial, scanned users), from
 * systeminformation and node:os. The slow part (OS release, UUID) is read once per process and
 * cached. Never throws: unreadable facts are null.
 */
import os from 'node:os';
import type { HostInfo } from '@mcpwatch/shared';
import type { Platform } from '../types.js';

/** Facts that do not change while the agent runs. */
export interface StaticHostFacts {
  hostname: string;
  osName: string | null;
  osRelease: string | null;
  arch: string | null;
  hardwareUuid: string | null;
  serial: string | null;
}

export type HostFactsSource = () => Promise<StaticHostFacts>;

let cached: Promise<StaticHostFacts> | null = null;

/** Real host facts, read once per process. */
export const systemHostFacts: HostFactsSource = () => {
  cached ??= readHostFacts();
  return cached;
};

async function readHostFacts(): Promise<StaticHostFacts> {
  const base: StaticHostFacts = {
    hostname: os.hostname(),
    osName: os.type(),
    osRelease: os.release(),
    arch: os.arch(),
    hardwareUuid: null,
    serial: null,
  };
  try {
    const si = (await import('systeminformation')).default;
    const [info, uuid, system] = await Promise.all([
      si.osInfo().catch(() => null),
      si.uuid().catch(() => null),
      si.system().catch(() => null),
    ]);
    if (info) {
      base.osName = info.distro || base.osName;
      base.osRelease = info.release || base.osRelease;
      base.arch = info.arch || base.arch;
    }
    base.hardwareUuid = (system?.uuid || uuid?.hardware || uuid?.os || '').slice(0, 128) || null;
    base.serial = (system?.serial && !/^(-|none|default string|0)$/i.test(system.serial) ? system.serial : '').slice(0, 128) || null;
  } catch {
    // systeminformation unavailable: keep node:os facts
  }
  return base;
}

/** Builds the inventory's HostInfo from the facts, the scanned platform and users. */
export function hostInfo(facts: StaticHostFacts, platform: Platform, users: readonly string[]): HostInfo {
  return {
    hostname: facts.hostname.slice(0, 256),
    platform,
    osName: facts.osName,
    osRelease: facts.osRelease,
    arch: facts.arch,
    hardwareUuid: facts.hardwareUuid,
    serial: facts.serial,
    users: [...new Set(users)].sort(),
  };
}
