/**
 * Run mode's hook support around the rules evaluation (composition.ts wires it like the tool and
 * extension findings): every evaluation
 * - adds the `hook-tampered` findings from the hook states the keeper posted on the state dir's
 *   board (hook-state-board.ts), under the same rules options (disabled rules apply, once, in the
 *   rules engine);
 * - refreshes the hook's server map (hook-server-map-writer.ts) from the servers it evaluates, so
 *   the hook command resolves names against the inventory as it is now (a file is rewritten only
 *   when its content changed). The write (fsync'ed file and folder) runs on the next turn of the
 *   event loop (setImmediate), after the pass has emitted its events into the spool: it is not in
 *   the config change → event path, where its fsyncs took ~10 ms of CPU and, on a busy disk, the
 *   p95. Evaluations before it runs are coalesced: the latest servers are written, once.
 * Never throws (the rules engine and the writer report their own failures).
 */
import type { Finding } from '@mcpwatch/shared';
import type { ScanDeps } from '../inventory/scan.js';
import { evaluateRules, hookTamperedRule, type RulesOptions } from '../rules/index.js';
import type { HookStateBoard } from './hook-state-board.js';
import type { HookServerMapWriter } from './hook-server-map-writer.js';

export function withHookSupport(
  base: ScanDeps['evaluateRules'],
  o: { board: HookStateBoard; serverMap: HookServerMapWriter | null; options: () => RulesOptions },
): ScanDeps['evaluateRules'] {
  let pending: { servers: Parameters<HookServerMapWriter['update']>[0]; homes: Parameters<HookServerMapWriter['update']>[1] } | null = null;
  const writeMap = (): void => {
    const p = pending;
    pending = null;
    if (p) o.serverMap?.update(p.servers, p.homes);
  };
  return (input) => {
    const findings: Finding[] = base(input);
    if (o.serverMap) {
      if (pending === null) setImmediate(writeMap);
      pending = { servers: input.servers, homes: input.ctx.homes };
    }
    const hookStates = o.board.read();
    if (hookStates.length === 0) return findings;
    const extra = evaluateRules({ files: [], raw: [], servers: [...input.servers], platform: input.ctx.platform, hookStates }, { ...o.options(), rules: [hookTamperedRule] });
    const ids = new Set(findings.map((f) => f.id));
    return [...findings, ...extra.filter((f) => !ids.has(f.id))];
  };
}
