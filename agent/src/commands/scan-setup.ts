/**
 * What `scan` and `watch` share: parsing their options, building the ScanContext, and the
 * collaborators (real ones, with any the caller injected on top). Throws UsageError only.
 */
import { hostPlatform } from '../platform/os.js';
import { UsageError, type AgentError } from '../errors.js';
import { parseOptions, scanOptionsFrom, type ParsedValues, type ScanCliOptions } from './cli-options.js';
import { buildScanContext } from '../inventory/scan-context.js';
import { defaultScanDeps } from '../inventory/scan-deps.js';
import type { ScanContext } from '../types.js';
import type { WatchDeps } from '../inventory/inventory-watcher.js';
import type { CommandIO } from './command.js';

/** Options every scanning command takes. */
export const SCAN_OPTIONS = ['json', 'home', 'platform', 'project-root', 'system-root', 'sources', 'fail-on', 'help'] as const;

export interface ScanSetup {
  values: ParsedValues;
  options: ScanCliOptions;
  ctx: ScanContext;
  deps: WatchDeps;
}

/** Parses argv and prepares a scan. Throws UsageError on bad usage. */
export async function prepareScan(argv: readonly string[], io: CommandIO, allowed: readonly string[]): Promise<ScanSetup> {
  const { values, positionals } = parseOptions(argv, allowed);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const options = scanOptionsFrom(values, hostPlatform());
  const ctx = await buildScanContext({
    platform: options.platform,
    home: options.home,
    projectRoots: options.projectRoots,
    systemRoot: options.systemRoot,
    env: io.env,
  });
  // A rule that fails is said on stderr (the rules engine skips it and runs the others).
  const reportError = (e: AgentError) => io.stderr(`mcpwatch-agent: ${e.code}: ${e.message}\n`);
  const deps: WatchDeps = { ...defaultScanDeps({ reportError }), ...(io.deps ?? {}) };
  return { values, options, ctx, deps };
}
