/**
 * Linux behind OsSpec: homes in /home plus /root and passwd(5) login accounts, XDG config for
 * application data, /var/lib/mcpwatch as the service's state, /etc/mcpwatch/agent.json as the
 * managed place, host facts from files (no systeminformation).
 */
import { join } from 'node:path';
import type { OsSpec } from '../os-spec.js';
import { posix, underRoot, userStateDir } from '../posix.js';

export const linuxOs: OsSpec = {
  ...posix,
  name: 'linux',
  usersRoot: () => '/home',
  isNonUserFolder: (name) => name === 'lost+found',
  systemHomes: (usersDir) => [{ user: 'root', home: usersDir ? join(usersDir, '..', 'root') : '/root' }],
  listsPasswdAccounts: true,
  appData: (home, env) => env('XDG_CONFIG_HOME') ?? join(home, '.config'),
  defaultStateDir: (_env, privileged, userHome) => (privileged() ? '/var/lib/mcpwatch' : userStateDir(userHome)),
  managedPlaces: (systemRoot) => [{ kind: 'json', name: 'system config', path: underRoot(systemRoot, '/etc/mcpwatch/agent.json') }],
  hostFacts: async () => (await import('./host-facts.js')).linuxHostFacts(),
};
