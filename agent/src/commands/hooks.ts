/**
 * `mcpwatch-agent hooks install|uninstall|status [--client ID] [--scope user|managed]
 *   [--home DIR] [--platform darwin|win32|linux] [--system-root DIR] [--state-dir DIR]
 *   [--command CMD] [--json]`
 *
 * Puts mcpwatch's hook (`mcpwatch-agent hook <client>`) into the clients' hook files, takes it out,
 * or says where it is (hooks/hook-installer.ts). Without --client, install and uninstall act on the
 * clients whose configuration directory exists (no directories are created for absent clients);
 * status lists every client. --home/--platform/--system-root point at a fixture laid out as on
 * that OS (tests). Exit 0 when every action succeeded, 1 when one failed, 2 on usage errors.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultStateDir } from '../config/config-table.js';
import { UsageError } from '../errors.js';
import { hostPlatform, isKnownPlatform, osSpec } from '../platform/os.js';
import { HOOK_CLIENT_IDS, HOOK_CLIENTS, isHookClientId, type HookClientId, type HookScope } from '../hooks/hook-catalog.js';
import { clientPresenceDir, defaultHookCommand, hookStatus, installHook, uninstallHook, type HookTarget } from '../hooks/hook-installer.js';
import type { Platform } from '../types.js';
import type { Command } from './command.js';
import { parseCommandArgs } from './command-args.js';

const USAGE = 'usage: mcpwatch-agent hooks install|uninstall|status [--client ID] [--scope user|managed] [--home DIR] [--platform darwin|win32|linux] [--system-root DIR] [--state-dir DIR] [--command CMD] [--json]\n';

export const hooksCommand: Command = {
  name: 'hooks',
  summary: "install, remove or show mcpwatch's MCP tool-call hook in the clients' hook files",
  options: [],
  async run(argv, io) {
    const parsed = parseCommandArgs(argv, {
      client: { type: 'string' }, scope: { type: 'string' }, home: { type: 'string' }, platform: { type: 'string' },
      'system-root': { type: 'string' }, 'state-dir': { type: 'string' }, command: { type: 'string' }, json: { type: 'boolean' },
    });
    if ('error' in parsed) throw new UsageError(parsed.error);
    const { values, positionals } = parsed;
    if (values.help) {
      io.stdout(USAGE);
      return 0;
    }
    const action = positionals[0];
    if (action !== 'install' && action !== 'uninstall' && action !== 'status') throw new UsageError(`hooks: expected install, uninstall or status, got ${JSON.stringify(action ?? '')}`);
    if (positionals.length > 1) throw new UsageError(`hooks: unexpected argument ${JSON.stringify(positionals[1])}`);
    const client = values.client as string | undefined;
    if (client !== undefined && !isHookClientId(client)) throw new UsageError(`--client must be one of ${HOOK_CLIENT_IDS.join(', ')}`);
    const scope = (values.scope as string | undefined) ?? 'user';
    if (scope !== 'user' && scope !== 'managed') throw new UsageError('--scope must be user or managed');
    const platform = (values.platform as string | undefined) ?? hostPlatform();
    if (!isKnownPlatform(platform)) throw new UsageError('--platform must be darwin, win32 or linux');
    const home = values.home !== undefined ? path.resolve(values.home as string) : os.homedir();
    const systemRoot = values['system-root'] !== undefined ? path.resolve(values['system-root'] as string) : osSpec(platform).systemRoot({});
    const explicitStateDir = (values['state-dir'] as string | undefined) ?? io.env.MCPWATCH_STATE_DIR ?? null;
    const stateDir = explicitStateDir ? path.resolve(explicitStateDir) : defaultStateDir();

    const targetOf = (id: HookClientId): HookTarget => ({ client: id, scope: scope as HookScope, platform: platform as Platform, home, systemRoot });
    const chosen = client !== undefined ? [client as HookClientId] : HOOK_CLIENT_IDS;
    // The state dir is always written into the command: the hook then never loads the config table.
    const commandOf = (id: HookClientId): string => (values.command as string | undefined) ?? defaultHookCommand(id, stateDir);
    const lines: string[] = [];
    const results: unknown[] = [];
    let failed = false;
    for (const id of chosen) {
      const t = targetOf(id);
      if (action === 'status') {
        const s = hookStatus(t, { stateDir, command: commandOf(id) });
        results.push(s);
        lines.push(`${id.padEnd(12)} ${scope.padEnd(8)} ${s.state.padEnd(11)} ${s.path ?? '-'}${s.detail ? `  (${s.detail})` : ''}`);
        continue;
      }
      const present = clientPresenceDir(t);
      // Without --client: only clients present on this machine (their directory exists).
      if (client === undefined && (!present || !fs.existsSync(present))) continue;
      const r = action === 'install' ? installHook(t, { stateDir, command: commandOf(id) }) : uninstallHook(t, { stateDir });
      results.push(r);
      if (r.action === 'error' || (r.action === 'unsupported' && client !== undefined)) failed = true;
      lines.push(`${id.padEnd(12)} ${scope.padEnd(8)} ${r.action.padEnd(11)} ${r.path ?? '-'}${r.message ? `  (${r.code ? `${r.code}: ` : ''}${r.message})` : ''}`);
    }
    if (values.json) io.stdout(`${JSON.stringify(results, null, 2)}\n`);
    else io.stdout(lines.length > 0 ? `${lines.join('\n')}\n` : `no client hook files found (clients: ${HOOK_CLIENT_IDS.map((c) => HOOK_CLIENTS[c].displayName).join(', ')}); use --client ID\n`);
    return failed ? 1 : 0;
  },
};
