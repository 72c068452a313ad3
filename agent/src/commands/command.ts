/**
 * The shape of a CLI command. Each command lives in its own file under commands/ and is listed in
 * commands/index.ts (one line). A command gets its own argv (after the command name) and an IO
 * object, and resolves to the exit code; it never throws (the CLI maps a stray UsageError to 2).
 */
import type { McpEvent } from '@mcpwatch/shared';
import type { WatchDeps } from '../inventory/inventory-watcher.js';

/** Where a command writes and what it may be given instead of the real machine. */
export interface CommandIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Environment (default process.env). */
  env: Record<string, string | undefined>;
  /** Stops long-running commands (watch); the CLI wires SIGINT/SIGTERM to it. */
  signal: AbortSignal;
  /** Replaces the real collaborators (tests). */
  deps?: Partial<WatchDeps>;
  /** Observes events as they are printed (tests, benchmarks). */
  onEvent?: (event: McpEvent) => void;
}

export interface Command {
  name: string;
  summary: string;
  /** Names from OPTIONS (cli-options.ts) this command takes. */
  options: readonly string[];
  run: (argv: readonly string[], io: CommandIO) => Promise<number>;
}
