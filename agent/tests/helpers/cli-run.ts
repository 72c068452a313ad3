/** Runs the CLI's main() in-process and captures what it prints. */
import { main } from '../../src/cli.js';
import type { CommandIO } from '../../src/commands/command.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(argv: string[], io: Partial<CommandIO> = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    env: {},
    signal: new AbortController().signal,
    ...io,
  });
  return { code, stdout, stderr };
}
