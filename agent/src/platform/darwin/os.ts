/**
 * macOS behind OsSpec: homes in /Users plus /var/root, ~/Library/Application Support for
 * application data, /Library/Application Support/mcpwatch/state as the daemon's state, the
 * configuration profile's managed preferences plist before /etc/mcpwatch/agent.json, host facts
 * through systeminformation.
 */
import { join } from 'node:path';
import type { OsSpec } from '../os-spec.js';
import { MANAGED_DOMAIN, posix, underRoot, userStateDir } from '../posix.js';

const NON_USERS = new Set(['shared', 'guest', 'deleted users']);

export const darwinOs: OsSpec = {
  ...posix,
  name: 'darwin',
  usersRoot: () => '/Users',
  isNonUserFolder: (name) => NON_USERS.has(name),
  systemHomes: (usersDir) => [{ user: 'root', home: usersDir ? join(usersDir, '..', 'var', 'root') : '/var/root' }],
  listsPasswdAccounts: false,
  appData: (home) => join(home, 'Library', 'Application Support'),
  defaultStateDir: (_env, privileged, userHome) => (privileged() ? '/Library/Application Support/mcpwatch/state' : userStateDir(userHome)),
  managedPlaces: (systemRoot) => [
    { kind: 'plist', path: underRoot(systemRoot, `/Library/Managed Preferences/${MANAGED_DOMAIN}.plist`) },
    { kind: 'json', name: 'system config', path: underRoot(systemRoot, '/etc/mcpwatch/agent.json') },
  ],
  hostFacts: async () => (await import('../system-information-host-facts.js')).systemInformationHostFacts(),
};
