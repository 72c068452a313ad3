/**
 * `mcpwatch-agent hook <client> [--state-dir DIR] [--journal-max-bytes N] [--input-timeout-ms MS]`:
 * what a client's hook runs around each MCP tool call (installed by `mcpwatch-agent hooks install`).
 * Reads the client's JSON from stdin (bounded: 1 MiB, --input-timeout-ms, default 3000), answers
 * in the client's protocol (hooks/hook-protocol.ts), decides from the cached policy
 * (hooks/tool-policy.ts), appends one record to the hook journal, or, when the agent's journal is
 * not writable by this user, to the user's own (~/.mcpwatch/hook-journal, hooks/hook-journal.ts).
 * No network.
 *
 * Never fails the client's tool by accident: usage errors and internal errors still answer (allow,
 * or the policy's failMode in enforce) with exit 0, the error on stderr; the only non-zero exit is a
 * deliberate deny for a client that takes deny as exit 2 (Windsurf).
 */
import { homedir } from 'node:os';
import { isHookClientId, HOOK_CLIENT_IDS } from '../hooks/hook-catalog.js';
import { readBoundedInput, HOOK_INPUT_MAX_BYTES, HOOK_INPUT_TIMEOUT_MS } from '../hooks/bounded-stdin.js';
import { runHook } from '../hooks/hook-runner.js';
import { userHookStateDir } from '../hooks/hook-journal.js';
import type { Command } from './command.js';
import { parseCommandArgs } from './command-args.js';

const USAGE = `usage: mcpwatch-agent hook <${HOOK_CLIENT_IDS.join('|')}> [--state-dir DIR] [--journal-max-bytes N] [--input-timeout-ms MS]\n`;

function positiveInt(v: string | undefined, fallback: number): number {
  const n = Number(v);
  return v !== undefined && Number.isInteger(n) && n > 0 ? n : fallback;
}

export const hookCommand: Command = {
  name: 'hook',
  summary: "answer a client's MCP tool-call hook from the cached policy and journal the call (run by the client)",
  options: [],
  async run(argv, io) {
    const parsed = parseCommandArgs(argv, { 'state-dir': { type: 'string' }, 'journal-max-bytes': { type: 'string' }, 'input-timeout-ms': { type: 'string' } });
    if ('error' in parsed) {
      // A mangled hook entry must not break the user's tool: say so, allow (no client-specific answer possible).
      io.stderr(`mcpwatch hook: ${parsed.error}\n${USAGE}`);
      return 0;
    }
    const { values, positionals } = parsed;
    if (values.help) {
      io.stdout(USAGE);
      return 0;
    }
    const client = positionals[0];
    if (client === undefined || !isHookClientId(client)) {
      io.stderr(`mcpwatch hook: unknown client ${JSON.stringify(client ?? '')}\n${USAGE}`);
      return 0;
    }
    // Installed hooks pass --state-dir; the config table (and the platform layer behind it) is loaded
    // only without it, to keep the per-call start-up small.
    const stateDir = (values['state-dir'] as string | undefined) ?? io.env.MCPWATCH_STATE_DIR ?? (await import('../config/config-table.js')).defaultStateDir();
    const input = await readBoundedInput(process.stdin, HOOK_INPUT_MAX_BYTES, positiveInt(values['input-timeout-ms'] as string | undefined, HOOK_INPUT_TIMEOUT_MS));
    const maxBytes = values['journal-max-bytes'] !== undefined ? positiveInt(values['journal-max-bytes'] as string, 0) : 0;
    const home = io.env.HOME || io.env.USERPROFILE || homedir();
    const result = runHook({ client, input, stateDir, home: home || null, userStateDir: home ? userHookStateDir(home) : null, ...(maxBytes > 0 ? { journal: { maxBytes } } : {}) });
    if (result.stdout) io.stdout(result.stdout);
    if (result.stderr) io.stderr(result.stderr);
    return result.exitCode;
  },
};
