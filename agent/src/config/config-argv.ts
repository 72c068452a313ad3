/**
 * Splits a command's argv into the agent-config flags (CONFIG_TABLE and DEPRECATED_SETTINGS flags,
 * --config FILE), which
 * go to loadConfig, and everything else, which goes to the scan option parser (cli-options.ts).
 * A config flag takes a value (`--flag V` or `--flag=V`); a bool flag may stand alone (= true).
 * Throws UsageError when a config flag lacks its value.
 */
import { tokenizeArgv, type ArgToken } from '@mcpwatch/shared/argv';
import { UsageError } from '../errors.js';
import { CONFIG_TABLE, DEPRECATED_SETTINGS } from './config-table.js';

const FLAGS = new Map<string, string>(Object.values(CONFIG_TABLE).map((s) => [s.flag, s.type]));
FLAGS.set('config', 'string');
// Deprecated settings still take their value (loadConfig warns and ignores it).
for (const d of Object.values(DEPRECATED_SETTINGS)) FLAGS.set(d.flag, 'int');

export function splitConfigArgs(argv: readonly string[]): { config: Record<string, string | boolean>; rest: string[] } {
  const config: Record<string, string | boolean> = {};
  const rest: string[] = [];
  const valueFlags = [...FLAGS].filter(([, type]) => type !== 'bool').map(([name]) => name);
  const tokens = tokenizeArgv(argv, valueFlags);
  let passedIndex = -1;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k] as ArgToken;
    const type = t.kind === 'option' && t.rawName.startsWith('--') && /^[a-z][a-z-]*$/.test(t.name) ? FLAGS.get(t.name) : undefined;
    if (t.kind !== 'option' || type === undefined) {
      // Not a config flag: passed on as written (once per argument; a short-option group is one).
      if (t.index > passedIndex) rest.push(...argv.slice(t.index, tokenEnd(t) + 1));
      passedIndex = tokenEnd(t);
      continue;
    }
    const name = t.name;
    passedIndex = tokenEnd(t);
    if (t.inlineValue) {
      config[name] = t.value as string;
      continue;
    }
    if (type === 'bool') {
      // A bool flag may stand alone (= true) or take an explicit true/false-like next argument.
      const next = tokens[k + 1];
      if (next?.kind === 'positional' && next.index === t.index + 1 && /^(true|false|1|0|yes|no|on|off)$/i.test(next.value)) {
        config[name] = next.value;
        passedIndex = next.index;
        k++;
      } else config[name] = true;
      continue;
    }
    if (t.value === undefined || t.value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
    config[name] = t.value;
  }
  return { config, rest };
}

/** Index of the last argument a token took (an option's separate value is the next argument). */
function tokenEnd(t: ArgToken): number {
  return t.kind === 'option' && t.value !== undefined && !t.inlineValue ? t.index + 1 : t.index;
}
