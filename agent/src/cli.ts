/**
 * The `mcpwatch-agent` command line: `main(argv)` looks the command up in the table
 * (commands/index.ts), runs it and resolves to the exit code: 0 ok, 1 findings at or above
 * --fail-on, 2 usage error (message on stderr), 3 unexpected failure. It never throws and never
 * calls process.exit (bin/mcpwatch-agent.js sets process.exitCode).
 */
import { COMMANDS, type CommandIO } from './commands/index.js';
import { UsageError } from './errors.js';
import { isLongRunning } from './runtime/launch.js';
import { tuneForLongRunning } from './runtime/v8-tuning.js';

export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_USAGE = 2;
export const EXIT_FAILURE = 3;

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'usage: mcpwatch-agent <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Run `mcpwatch-agent <command> --help` for a command\'s options.',
    '',
  ].join('\n');
}

/**
 * Runs the CLI. `io` replaces stdout/stderr/env/signal (tests run it in-process); without a
 * signal, SIGINT and SIGTERM stop long-running commands.
 */
let stdoutGuarded = false;
/**
 * Output still queued when a command returns (`scan --json | head -c 100`) fails with EPIPE after
 * main's own listener is gone: one process-wide listener keeps that from crashing the process as
 * an unhandled 'error' event (the reader is gone; there is nothing else to do).
 */
function guardStdout(): void {
  if (stdoutGuarded) return;
  stdoutGuarded = true;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') process.stderr.write(`mcpwatch-agent: stdout: ${error.message}\n`);
  });
}

export async function main(argv: readonly string[], io: Partial<CommandIO> = {}): Promise<number> {
  // A closed stdout (`watch | head`) ends long-running commands quietly instead of crashing.
  const stdout = io.stdout ?? ((s: string) => void (process.stdout.destroyed ? undefined : process.stdout.write(s)));
  const stderr = io.stderr ?? ((s: string) => void process.stderr.write(s));
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? stderr : stdout)(usage());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    stderr(`mcpwatch-agent: unknown command "${name}"\n\n${usage()}`);
    return EXIT_USAGE;
  }
  let controller: AbortController | null = null;
  const onSignal = (): void => controller?.abort();
  const onStdoutError = (error: NodeJS.ErrnoException): void => {
    if (error.code !== 'EPIPE') stderr(`mcpwatch-agent: stdout: ${error.message}\n`);
    controller?.abort();
  };
  if (!io.signal) {
    // The command owns this process (no caller's signal): a long-running one tunes V8 for it.
    if (isLongRunning(name)) tuneForLongRunning();
    controller = new AbortController();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  if (!io.stdout) {
    guardStdout();
    process.stdout.on('error', onStdoutError);
  }
  try {
    return await command.run(rest, {
      stdout,
      stderr,
      env: io.env ?? process.env,
      signal: io.signal ?? (controller as AbortController).signal,
      ...(io.deps ? { deps: io.deps } : {}),
      ...(io.onEvent ? { onEvent: io.onEvent } : {}),
    });
  } catch (error) {
    if (error instanceof UsageError) {
      stderr(`mcpwatch-agent ${name}: ${error.message}\n`);
      return EXIT_USAGE;
    }
    stderr(`mcpwatch-agent ${name}: unexpected failure: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_FAILURE;
  } finally {
    if (!io.stdout) process.stdout.off('error', onStdoutError);
    if (controller) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
