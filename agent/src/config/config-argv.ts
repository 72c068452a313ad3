/**
 * Splits a command's argv into the agent-config flags (CONFIG_TABLE flags and --config FILE), which
 * go to loadConfig, and everything else, which goes to the scan option parser (cli-options.ts).
 * A config flag takes a value (`--flag V` or `--flag=V`); a bool flag may stand alone (= true).
 * Throws UsageError when a config flag lacks its value.
 */
import { UsageError } from '../errors.js';
import { CONFIG_TABLE } from './config-table.js';

const FLAGS = new Map<string, string>(Object.values(CONFIG_TABLE).map((s) => [s.flag, s.type]));
FLAGS.set('config', 'string');

export function splitConfigArgs(argv: readonly string[]): { config: Record<string, string | boolean>; rest: string[] } {
  const config: Record<string, string | boolean> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--([a-z][a-z-]*)(?:=(.*))?$/s.exec(arg);
    const type = m ? FLAGS.get(m[1]!) : undefined;
    if (!m || type === undefined) {
      rest.push(arg);
      continue;
    }
    const name = m[1]!;
    if (m[2] !== undefined) {
      config[name] = m[2];
      continue;
    }
    const next = argv[i + 1];
    if (type === 'bool' && (next === undefined || next.startsWith('--') || !/^(true|false|1|0|yes|no|on|off)$/i.test(next))) {
      config[name] = true;
      continue;
    }
    if (next === undefined || next.startsWith('--')) throw new UsageError(`--${name} needs a value`);
    config[name] = next;
    i++;
  }
  return { config, rest };
}
