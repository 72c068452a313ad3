import { hostInfo, systemHostFacts } from '../../../src/collect/host-facts.js';
import { hostOs } from '../../../src/platform/os.js';

describe('host facts', () => {
  it('reads this machine\'s facts through its OsSpec, once per process', async () => {
    const first = systemHostFacts();
    expect(systemHostFacts()).toBe(first);
    expect((await first).hostname).toBe((await hostOs().hostFacts()).hostname);
  });

  it('builds HostInfo with the scanned platform and sorted unique users', () => {
    const facts = { hostname: 'h', osName: null, osRelease: null, arch: 'x64', hardwareUuid: null, serial: null };
    expect(hostInfo(facts, 'win32', ['bob', 'alice', 'bob'])).toEqual({ ...facts, platform: 'win32', users: ['alice', 'bob'] });
  });
});
