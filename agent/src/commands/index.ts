/**
 * The CLI's command table. Registering a command is one line here (plus its file).
 */
import type { Command } from './command.js';
import { scanCommand } from './scan.js';
import { watchCommand } from './watch.js';
import { enrollCommand } from './enroll.js';
import { runCommand } from './run.js';
import { statusCommand } from './status.js';

export const COMMANDS: readonly Command[] = [
  scanCommand,
  watchCommand,
  enrollCommand,
  runCommand,
  statusCommand,
];

export type { Command, CommandIO } from './command.js';
