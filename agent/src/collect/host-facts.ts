/**
 * Host facts for the inventory (hostname, OS, arch, hardware UUID, serial, scanned users): on
 * Linux from /etc/os-release, /sys/class/dmi/id and /etc/machine-id (no commands spawned, and
 * systeminformation is not loaded at all); elsewhere from systeminformation. Read once per
 * process and cached. Never throws: unreadable facts are null, and off Linux each failed read is
 * listed in `errors` (MCPW_ERR_HOST_FACTS) so the inventory says which fact is missing and why.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { HostInfo } from '@mcpwatch/shared';
import type { Platform } from '../types.js';
import { AgentCodes } from '../errors.js';

/** Facts that do not change while the agent runs. */
export interface StaticHostFacts {
  hostname: string;
  osName: string | null;
  osRelease: string | null;
  arch: string | null;
  hardwareUuid: string | null;
  serial: string | null;
  /** Facts that could not be read and why (the inventory shows each as an error record). */
  errors?: readonly { code: string; reason: string }[];
}

export type HostFactsSource = () => Promise<StaticHostFacts>;

let cached: Promise<StaticHostFacts> | null = null;

/** Real host facts, read once per process. */
export const systemHostFacts: HostFactsSource = () => {
  cached ??= readHostFacts();
  return cached;
};

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').slice(0, 64 * 1024).trim() || null;
  } catch {
    return null;
  }
}

/** Value of KEY in os-release(5) text (quotes removed). */
export function osReleaseField(text: string, key: string): string | null {
  const m = new RegExp(`^${key}=(.*)$`, 'm').exec(text);
  return m?.[1] ? m[1].trim().replace(/^(["'])(.*)\1$/, '$2') || null : null;
}

const NO_SERIAL = /^(-|none|default string|0|to be filled by o\.e\.m\.|not specified)$/i;

/** Linux facts from files (root = '' on a real machine; tests point it at a fixture). */
export function linuxHostFacts(root = ''): StaticHostFacts {
  const release = readText(`${root}/etc/os-release`) ?? readText(`${root}/usr/lib/os-release`) ?? '';
  const serial = readText(`${root}/sys/class/dmi/id/product_serial`);
  const hardwareUuid = (readText(`${root}/sys/class/dmi/id/product_uuid`) ?? readText(`${root}/etc/machine-id`) ?? '').slice(0, 128) || null;
  const facts: StaticHostFacts = {
    hostname: os.hostname(),
    osName: osReleaseField(release, 'NAME') ?? os.type(),
    osRelease: osReleaseField(release, 'VERSION_ID') ?? os.release(),
    arch: os.arch(),
    hardwareUuid,
    serial: serial && !NO_SERIAL.test(serial) ? serial.slice(0, 128) : null,
  };
  if (!release) facts.errors = [{ code: AgentCodes.hostFacts, reason: 'neither /etc/os-release nor /usr/lib/os-release could be read; OS name and release are from node:os' }];
  if (!hardwareUuid) facts.errors = [...(facts.errors ?? []), { code: AgentCodes.hostFacts, reason: 'neither /sys/class/dmi/id/product_uuid nor /etc/machine-id could be read; the host has no hardware id' }];
  return facts;
}

async function readHostFacts(): Promise<StaticHostFacts> {
  if (os.platform() === 'linux') return linuxHostFacts();
  const base: StaticHostFacts = {
    hostname: os.hostname(),
    osName: os.type(),
    osRelease: os.release(),
    arch: os.arch(),
    hardwareUuid: null,
    serial: null,
  };
  const errors: { code: string; reason: string }[] = [];
  const failed = (what: string) => (error: unknown) => {
    errors.push({ code: AgentCodes.hostFacts, reason: `${what} failed: ${error instanceof Error ? error.message : String(error)}` });
    return null;
  };
  try {
    const si = (await import('systeminformation')).default;
    const [info, uuid, system] = await Promise.all([si.osInfo().catch(failed('osInfo')), si.uuid().catch(failed('uuid')), si.system().catch(failed('system'))]);
    if (info) {
      base.osName = info.distro || base.osName;
      base.osRelease = info.release || base.osRelease;
      base.arch = info.arch || base.arch;
    }
    base.hardwareUuid = (system?.uuid || uuid?.hardware || uuid?.os || '').slice(0, 128) || null;
    base.serial = (system?.serial && !NO_SERIAL.test(system.serial) ? system.serial : '').slice(0, 128) || null;
    if (!base.hardwareUuid) errors.push({ code: AgentCodes.hostFacts, reason: 'no hardware or OS UUID could be read' });
  } catch (error) {
    failed('systeminformation')(error); // unavailable: keep node:os facts
  }
  return errors.length > 0 ? { ...base, errors } : base;
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
