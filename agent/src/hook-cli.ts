/**
 * The start-up path of `mcpwatch-agent hook <client>`, apart from the full CLI (cli.ts): a client
 * runs the hook around every MCP tool call, so its process start is on the user's critical path
 * (DESIGN budget: p95 ≤ 60 ms over a bare `node -e 0`, `npm run bench:hooks`). The bin imports this
 * module instead of cli.js when the command is `hook` (runtime/launch.ts cliEntry), and
 * scripts/bundle-cli.mjs bundles it into ONE file (dist/bundle-hook/hook-cli.js) that holds only
 * the hook's code: no command table, no @mcpwatch/shared (TypeBox), no npm dependency. The config
 * table (platform layer, systeminformation) stays a lazy import taken only without --state-dir.
 *
 * Same contract as cli.ts main() for this one command: resolves to the exit code, never throws,
 * never calls process.exit. `main(argv)` takes the whole command line after the script, so the bin
 * calls either entry the same way. It knows no other command (exit 2): importing the full CLI from
 * here would put all of it into the hook's bundle.
 */
import { hookCommand } from './commands/hook.js';

/** Runs `hook …` (argv[0] is the command name). */
export async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] !== 'hook') {
    process.stderr.write(`mcpwatch-agent: the hook entry runs only "hook", not ${JSON.stringify(argv[0] ?? '')}\n`);
    return 2;
  }
  // The client may close our stdout early; that must not crash the hook (cli.ts ignores EPIPE too).
  // Left on: the process ends right after the answer.
  process.stdout.on('error', () => undefined);
  try {
    return await hookCommand.run(argv.slice(1), {
      stdout: (s) => void (process.stdout.destroyed ? undefined : process.stdout.write(s)),
      stderr: (s) => void process.stderr.write(s),
      env: process.env,
      signal: new AbortController().signal,
    });
  } catch (error) {
    // hookCommand answers its own failures; this is the last resort (exit 0 = allow, as it promises).
    process.stderr.write(`mcpwatch hook: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 0;
  }
}
