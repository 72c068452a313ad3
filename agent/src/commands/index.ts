/**
 * The CLI's command table. Registering a command is one line here (plus its file).
 *
 * Commands are loaded when run, not when the CLI starts: `scan` and a long-running `watch` do not
 * pay for the enrollment and shipping code (node-forge, HTTP client) in start-up time or memory.
 * The summary written here is what the usage text shows.
 */
import type { Command, CommandIO } from './command.js';

/** A command whose module is imported on first run. */
export function lazyCommand(name: string, summary: string, load: () => Promise<Command>): Command {
  return {
    name,
    summary,
    options: [],
    run: async (argv: readonly string[], io: CommandIO) => (await load()).run(argv, io),
  };
}

export const COMMANDS: readonly Command[] = [
  lazyCommand('scan', 'print the MCP inventory of this machine (clients, servers, processes, sockets, findings, errors)', async () => (await import('./scan.js')).scanCommand),
  lazyCommand('watch', 'print changes (server.added, process.started, ...) as JSON lines as they happen', async () => (await import('./watch.js')).watchCommand),
  lazyCommand('enroll', 'enroll this machine with a collector (key pair, CSR, pinned certificate)', async () => (await import('./enroll.js')).enrollCommand),
  lazyCommand('run', 'run as the agent service: watch, spool and ship signed batches to the collector', async () => (await import('./run.js')).runCommand),
  lazyCommand('status', 'show enrollment, collector reachability, spool depth and last ship', async () => (await import('./status.js')).statusCommand),
  lazyCommand('hook', "answer a client's MCP tool-call hook from the cached policy and journal the call (run by the client)", async () => (await import('./hook.js')).hookCommand),
  lazyCommand('hooks', "install, remove or show mcpwatch's MCP tool-call hook in the clients' hook files", async () => (await import('./hooks.js')).hooksCommand),
];

export type { Command, CommandIO } from './command.js';
