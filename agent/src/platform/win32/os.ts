/**
 * Windows behind OsSpec: homes in <system drive>\Users without Public/Default/..., %APPDATA% and
 * %LOCALAPPDATA%, %ProgramData%\mcpwatch\state for state (service or not), the registry policy
 * key before %ProgramData%\mcpwatch\agent.json, owner-only files through icacls, no directory
 * fsync, host facts through systeminformation. Host operations spawn `net`, `icacls` and `reg`:
 * they run only through hostOs() on Windows.
 */
import { execFile, execFileSync } from 'node:child_process';
import { userInfo } from 'node:os';
import * as path from 'node:path';
import type { Env, OsSpec } from '../os-spec.js';

export const REGISTRY_KEY = 'HKLM\\SOFTWARE\\Policies\\mcpwatch';
const NON_USERS = new Set(['public', 'default', 'default user', 'all users', 'shared', 'defaultapppool', 'wdagutilityaccount']);
/** Largest `reg query` output read. */
const MAX_REG_BYTES = 1024 * 1024;

function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v.trim() !== '' ? v : undefined;
}

function systemDrive(env: Env): string {
  return nonEmpty(env.SystemDrive) ?? 'C:';
}

export const win32Os: OsSpec = {
  name: 'win32',
  usersRoot: (env) => `${env.SystemDrive ?? 'C:'}\\Users`,
  isNonUserFolder: (name) => NON_USERS.has(name),
  systemHomes: () => [],
  listsPasswdAccounts: false,
  systemRoot: (env) => `${systemDrive(env)}\\`,
  appData: (home, env) => env('APPDATA') ?? path.join(home, 'AppData', 'Roaming'),
  localAppData: (home, env) => env('LOCALAPPDATA') ?? path.join(home, 'AppData', 'Local'),
  defaultStateDir: (env) => path.win32.join(env.ProgramData ?? 'C:\\ProgramData', 'mcpwatch', 'state'),
  managedPlaces: (systemRoot, env) => [
    { kind: 'registry', key: REGISTRY_KEY },
    {
      kind: 'json',
      name: 'ProgramData config',
      path: systemRoot ? path.join(systemRoot, 'ProgramData', 'mcpwatch', 'agent.json') : path.win32.join(env.ProgramData ?? 'C:\\ProgramData', 'mcpwatch', 'agent.json'),
    },
  ],
  pathFromFileUri(host, decoded) {
    if (host !== '') return `\\\\${host}${decoded.replace(/\//g, '\\')}`; // UNC
    if (/^\/[a-zA-Z]:/.test(decoded)) return decoded.slice(1).replace(/\//g, '\\');
    return decoded;
  },
  posixModes: false,
  isPrivileged(env) {
    if ((env.USERPROFILE ?? '').toLowerCase().includes('\\systemprofile')) return true;
    try {
      // `net session` succeeds only in an elevated (Administrator) process.
      execFileSync('net', ['session'], { stdio: 'ignore', windowsHide: true, timeout: 5000 });
      return true;
    } catch {
      return false;
    }
  },
  restrictToOwner(target) {
    // SYSTEM (the service account), Administrators, and the account running the agent (a
    // user-mode run must still read its own key).
    const self = `${process.env.USERDOMAIN ? `${process.env.USERDOMAIN}\\` : ''}${userInfo().username}:F`;
    execFileSync('icacls', [target, '/inheritance:r', '/grant:r', '*S-1-5-18:F', '/grant:r', '*S-1-5-32-544:F', '/grant:r', self], {
      windowsHide: true,
      stdio: 'ignore',
      timeout: 10_000,
    });
  },
  fsyncsDirectories: false,
  hostFacts: async () => (await import('../system-information-host-facts.js')).systemInformationHostFacts(),
  regQuery: (key) =>
    new Promise((resolve) => {
      execFile('reg', ['query', key], { windowsHide: true, timeout: 5000, maxBuffer: MAX_REG_BYTES }, (err, stdout) => {
        resolve(err ? '' : String(stdout));
      });
    }),
};
