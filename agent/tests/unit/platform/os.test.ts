import { mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PLATFORMS, hostOs, hostPlatform, isKnownPlatform, osSpec } from '../../../src/platform/os.js';

const env = (vars: Record<string, string>) => (name: string) => vars[name];

describe('OsSpec: one implementation per OS, selected once', () => {
  it('selects one spec per known platform and the same host spec every time', () => {
    expect(PLATFORMS.map((p) => osSpec(p).name)).toEqual(['darwin', 'win32', 'linux']);
    expect(isKnownPlatform('freebsd')).toBe(false);
    expect(hostOs()).toBe(hostOs());
    expect(hostOs()).toBe(osSpec(hostPlatform()));
  });

  it('lays out homes per OS: users folder, folders that are not people, root\'s home', () => {
    expect(osSpec('linux').usersRoot({})).toBe('/home');
    expect(osSpec('darwin').usersRoot({})).toBe('/Users');
    expect(osSpec('win32').usersRoot({ SystemDrive: 'D:' })).toBe('D:\\Users');
    expect(osSpec('win32').isNonUserFolder('default user')).toBe(true);
    expect(osSpec('darwin').isNonUserFolder('shared')).toBe(true);
    expect(osSpec('linux').isNonUserFolder('lost+found')).toBe(true);
    expect(osSpec('linux').isNonUserFolder('alice')).toBe(false);
    expect(osSpec('linux').systemHomes()).toEqual([{ user: 'root', home: '/root' }]);
    expect(osSpec('darwin').systemHomes('/fx/Users')).toEqual([{ user: 'root', home: path.join('/fx/Users', '..', 'var', 'root') }]);
    expect(osSpec('win32').systemHomes()).toEqual([]);
    expect(PLATFORMS.filter((p) => osSpec(p).listsPasswdAccounts)).toEqual(['linux']);
  });

  it('resolves application data per OS, overrides from the environment where the OS has them', () => {
    expect(osSpec('linux').appData('/h', env({}))).toBe('/h/.config');
    expect(osSpec('linux').appData('/h', env({ XDG_CONFIG_HOME: '/x' }))).toBe('/x');
    expect(osSpec('darwin').appData('/h', env({ XDG_CONFIG_HOME: '/x' }))).toBe('/h/Library/Application Support');
    expect(osSpec('win32').appData('/h', env({}))).toBe(path.join('/h', 'AppData', 'Roaming'));
    expect(osSpec('win32').localAppData('/h', env({ LOCALAPPDATA: 'E:\\L' }))).toBe('E:\\L');
    expect(osSpec('linux').localAppData('/h', env({ LOCALAPPDATA: 'E:\\L' }))).toBeNull();
    expect(osSpec('win32').systemRoot({ SystemDrive: ' ' })).toBe('C:\\');
    expect(osSpec('darwin').systemRoot({ SystemDrive: 'D:' })).toBe('/');
  });

  it('puts the default state where each OS keeps a service\'s state, asking privilege only where it matters', () => {
    const never = () => {
      throw new Error('privilege asked');
    };
    expect(osSpec('win32').defaultStateDir({ ProgramData: 'D:\\PD' }, never, '/h')).toBe('D:\\PD\\mcpwatch\\state');
    expect(osSpec('linux').defaultStateDir({}, () => true, '/h')).toBe('/var/lib/mcpwatch');
    expect(osSpec('darwin').defaultStateDir({}, () => true, '/h')).toBe('/Library/Application Support/mcpwatch/state');
    expect(osSpec('darwin').defaultStateDir({}, () => false, '/h')).toBe(path.join('/h', '.mcpwatch', 'agent'));
  });

  it('lists each OS\'s managed places, highest precedence first, under a fixture root', () => {
    expect(osSpec('linux').managedPlaces('/fx', {})).toEqual([{ kind: 'json', name: 'system config', path: '/fx/etc/mcpwatch/agent.json' }]);
    expect(osSpec('darwin').managedPlaces('', {}).map((p) => p.kind)).toEqual(['plist', 'json']);
    expect(osSpec('win32').managedPlaces('', { ProgramData: 'D:\\PD' })).toEqual([
      { kind: 'registry', key: 'HKLM\\SOFTWARE\\Policies\\mcpwatch' },
      { kind: 'json', name: 'ProgramData config', path: 'D:\\PD\\mcpwatch\\agent.json' },
    ]);
  });

  it('reads file URIs as each OS spells local paths', () => {
    expect(osSpec('win32').pathFromFileUri('', '/c:/Users/u/p')).toBe('c:\\Users\\u\\p');
    expect(osSpec('win32').pathFromFileUri('srv', '/share/p')).toBe('\\\\srv\\share\\p');
    expect(osSpec('linux').pathFromFileUri('localhost', '/home/u/p')).toBe('/home/u/p');
    expect(osSpec('darwin').pathFromFileUri('remote', '/p')).toBeNull();
    expect(PLATFORMS.filter((p) => osSpec(p).posixModes)).toEqual(['darwin', 'linux']);
  });

  // The Windows host operations (icacls, net session, reg) are exercised under Wine, not here.
  const onPosix = hostPlatform() === 'win32' ? it.skip : it;
  onPosix('host operations on this (POSIX) machine: owner-only modes, directory fsync, privilege from the uid', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mcpw-os-'));
    try {
      const file = path.join(dir, 'key.pem');
      writeFileSync(file, 'x', { mode: 0o644 });
      mkdirSync(path.join(dir, 'sub'), { mode: 0o755 });
      hostOs().restrictToOwner(file);
      hostOs().restrictToOwner(path.join(dir, 'sub'));
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(path.join(dir, 'sub')).mode & 0o777).toBe(0o700);
      expect(hostOs().fsyncsDirectories).toBe(true);
      expect(hostOs().isPrivileged({})).toBe(process.getuid?.() === 0);
      expect(osSpec('win32').fsyncsDirectories).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
