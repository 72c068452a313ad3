/**
 * mcpwatch's one argv tokenizer: Node's own `util.parseArgs` (tokens mode, non-strict), so
 * `--name V`, `--name=V`, `--` and short options are read the way Node reads them. The agent's
 * command options and config flags and the collector's admin CLI interpret these tokens; none
 * walks argv by hand. Pure; never throws. Also loadable alone as @mcpwatch/shared/argv.
 */
import { parseArgs } from 'node:util';

/** One argument as read: an option (with the value it took, if any) or a positional. */
export type ArgToken =
  | {
      kind: 'option';
      /** Long name without dashes, or the short letter. */
      name: string;
      /** `--name` or `-n` as written. */
      rawName: string;
      /** The value: inline (`--name=V`), or the next argument for a value-taking option. */
      value: string | undefined;
      inlineValue: boolean;
      /** Index in argv of the argument this token came from. */
      index: number;
    }
  | { kind: 'positional'; value: string; index: number }
  | { kind: 'option-terminator'; index: number };

/** Tokenizes argv; options named in `valueOptions` take a value, every other option is a flag. */
export function tokenizeArgv(argv: readonly string[], valueOptions: Iterable<string>): ArgToken[] {
  const options = Object.fromEntries([...valueOptions].map((name) => [name, { type: 'string' as const }]));
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  return tokens.map((t): ArgToken => {
    if (t.kind === 'option') return { kind: 'option', name: t.name, rawName: t.rawName, value: t.value ?? undefined, inlineValue: t.inlineValue === true, index: t.index };
    if (t.kind === 'positional') return { kind: 'positional', value: t.value, index: t.index };
    return { kind: 'option-terminator', index: t.index };
  });
}
