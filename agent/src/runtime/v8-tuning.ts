/**
 * V8 settings for the long-running commands (`run`, `watch`) when they own their process: no
 * optimizing compiler (TurboFan). The agent's JavaScript runs a few milliseconds every poll, so
 * code never gets hot enough for optimized code to pay back its compile time and memory: on the
 * bench box (same-window A/B, run mode, 440+ processes, load 4) the agent used 0.25 % of a core
 * and 71 MB RSS (median) without it against 0.31 % and 74 MB with it, and the config write ->
 * stored latency did not get longer. Interpreter and Sparkplug baseline code stay on.
 *
 * Set at run time (v8.setFlagsFromString) rather than on the command line: NODE_OPTIONS does not
 * accept the flag, and the installed single executable starts without the bin's launcher.
 * Applies to functions optimized from then on. Never throws.
 */
import v8 from 'node:v8';
import { installWebLiteGlobals } from '../probe/web-lite.js';

/** The V8 flags a long-running agent process runs with (see the module comment). */
export const LONG_RUNNING_V8_FLAGS = ['--no-opt'] as const;

/**
 * Applies LONG_RUNNING_V8_FLAGS to this process; in one started without the JIT (`run`,
 * launch.ts), where Node's undici cannot load, installs the prober's Headers and Response as the
 * globals (probe/web-lite.ts installWebLiteGlobals).
 */
export function tuneForLongRunning(setFlags: (flags: string) => void = (f) => v8.setFlagsFromString(f)): void {
  installWebLiteGlobals();
  for (const flag of LONG_RUNNING_V8_FLAGS) {
    try {
      setFlags(flag);
    } catch {
      // a V8 without the flag: the agent runs as it would have
    }
  }
}
