/**
 * The CLI's command table. Registering a command is one line here (plus its file).
 */
import type { Command } from './command.js';
import { scanCommand } from './scan.js';
import { watchCommand } from './watch.js';

export const COMMANDS: readonly Command[] = [
  scanCommand,
  watchCommand,
];

export type { Command, CommandIO } from './command.js';
