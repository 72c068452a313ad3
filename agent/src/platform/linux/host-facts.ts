/**
 * Linux host facts from files: /etc/os-release (or /usr/lib/os-release), /sys/class/dmi/id and
 * /etc/machine-id. No command is spawned and systeminformation is not loaded. Never throws: an
 * unreadable fact is null and listed in `errors` (MCPW_ERR_HOST_FACTS).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { AgentCodes } from '../../errors.js';
import { NO_SERIAL, type StaticHostFacts } from '../source-types.js';

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
