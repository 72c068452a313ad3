/**
 * Strict argv parsing shared by the commands that parse their own options (hook, hooks): named
 * options plus positionals plus `-h/--help`. A parse failure comes back as a message, because the
 * commands answer it differently (hooks: usage error; hook: allow and report, never break the tool).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface CommandArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** `argv` parsed strictly against `options` (and `--help`), or the parser's error message. */
export function parseCommandArgs(argv: readonly string[], options: NonNullable<ParseArgsConfig['options']>): CommandArgs | { error: string } {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: { ...options, help: { type: 'boolean', short: 'h' } } });
    return { values: values as CommandArgs['values'], positionals };
  } catch (e) {
    return { error: (e as Error).message };
  }
}
