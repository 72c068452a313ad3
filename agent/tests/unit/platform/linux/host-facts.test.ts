import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { linuxHostFacts, osReleaseField } from '../../../../src/platform/linux/host-facts.js';

describe('Linux host facts (platform/linux/host-facts)', () => {
  it('reads os-release fields with or without quotes', () => {
    const text = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID=12\nID=debian\n';
    expect(osReleaseField(text, 'NAME')).toBe('Debian GNU/Linux');
    expect(osReleaseField(text, 'VERSION_ID')).toBe('12');
    expect(osReleaseField(text, 'MISSING')).toBeNull();
  });

  it('takes Linux facts from files: DMI uuid over machine-id, placeholder serials dropped', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'mcpw-host-'));
    try {
      mkdirSync(path.join(root, 'etc'));
      mkdirSync(path.join(root, 'sys/class/dmi/id'), { recursive: true });
      writeFileSync(path.join(root, 'etc/os-release'), 'NAME="Ubuntu"\nVERSION_ID="24.04"\n');
      writeFileSync(path.join(root, 'etc/machine-id'), 'abc123\n');
      writeFileSync(path.join(root, 'sys/class/dmi/id/product_serial'), 'To Be Filled By O.E.M.\n');
      expect(linuxHostFacts(root)).toMatchObject({ osName: 'Ubuntu', osRelease: '24.04', hardwareUuid: 'abc123', serial: null, hostname: os.hostname() });
      writeFileSync(path.join(root, 'sys/class/dmi/id/product_uuid'), '4C4C4544-0042\n');
      writeFileSync(path.join(root, 'sys/class/dmi/id/product_serial'), 'SN-42\n');
      expect(linuxHostFacts(root)).toMatchObject({ hardwareUuid: '4C4C4544-0042', serial: 'SN-42' });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('lists the Linux facts it could not read (no os-release, no machine id) as MCPW_ERR_HOST_FACTS', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'mcpw-host-'));
    try {
      expect(linuxHostFacts(root)).toMatchObject({
        hardwareUuid: null,
        errors: [
          { code: 'MCPW_ERR_HOST_FACTS', reason: expect.stringContaining('/etc/os-release') },
          { code: 'MCPW_ERR_HOST_FACTS', reason: expect.stringContaining('/etc/machine-id') },
        ],
      });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
