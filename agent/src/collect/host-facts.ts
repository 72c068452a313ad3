/**
 * Host facts for the inventory (hostname, OS, arch, hardware UUID, serial, scanned users), read
 * through this machine's OsSpec (platform/: on Linux from os-release, DMI and machine-id files
 * without spawning anything; elsewhere from systeminformation) once per process and cached.
 * Never throws: unreadable facts are null and listed in `errors` (MCPW_ERR_HOST_FACTS) so the
 * inventory says which fact is missing and why.
 */
import type { HostInfo } from '@mcpwatch/shared';
import { hostOs } from '../platform/os.js';
import type { StaticHostFacts } from '../platform/source-types.js';
import type { Platform } from '../types.js';

export type { StaticHostFacts } from '../platform/source-types.js';

export type HostFactsSource = () => Promise<StaticHostFacts>;

let cached: Promise<StaticHostFacts> | null = null;

/** Real host facts (this machine's OsSpec), read once per process. */
export const systemHostFacts: HostFactsSource = () => {
  cached ??= hostOs().hostFacts();
  return cached;
};

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
