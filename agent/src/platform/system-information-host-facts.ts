/**
 * Host facts through systeminformation (macOS, Windows): node:os facts first, then OS info, UUIDs
 * and the system's serial; systeminformation is loaded on first use only. Never throws: each
 * failed read is listed in `errors` (MCPW_ERR_HOST_FACTS) and its fact stays as node:os gave it.
 */
import os from 'node:os';
import { AgentCodes } from '../errors.js';
import { NO_SERIAL, type StaticHostFacts } from './source-types.js';

export async function systemInformationHostFacts(): Promise<StaticHostFacts> {
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
