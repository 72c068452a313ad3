/**
 * Joins tool probing to run mode's watch engine, so the composition root only wires:
 * - `withToolWatch(engine, opts)` returns an engine that starts the ToolWatcher after the
 *   inventory engine (it needs the first inventory to know the MCP processes and configured
 *   local URLs) and stops it first; everything else is the inner engine's. When tools or MCP
 *   listeners change, the inner engine's `configChanged()` re-evaluates the rules (when it has one;
 *   otherwise tool findings refresh with the next inventory change).
 * - `withToolFindings(base, …)` adds the tool rules' findings (tools/listeners as the watcher sees
 *   them now) to the base rules evaluation, under the same rules options (disabled rules and
 *   allow-lists apply in the rules engine, once).
 * With probing off (`probeListeners` false, or the sockets source off) the engine is returned
 * unchanged and nothing of tools/ or probe/ beyond this module is loaded: the ToolWatcher (and
 * with it the prober, pins and client-cache readers) is imported when the wrapped engine starts.
 * Listeners come from the platform's listener source (platform/listener-source.ts: /proc on
 * Linux, nothing spawned per poll), falling back to the given socket source.
 * Switches the collector serves (`toolProbing` in the agent settings) override the local ones and
 * apply at the next poll: probeOtherListeners, probeRemote, shipToolDescriptions; probeListeners
 * served false pauses polling (a served true cannot start probing that local config turned off).
 */
import type { AgentSettings, Finding, McpEvent } from '@mcpwatch/shared';
import type { AgentConfig } from '../config/config-table.js';
import type { ScanDeps } from '../inventory/scan.js';
import type { SocketSource } from '../platform/source-types.js';
import { evaluateRules, TOOL_RULES, type RulesOptions } from '../rules/index.js';
import type { WatchEngine } from '../runtime/agent-runtime.js';
import { wrapWatchEngine } from '../runtime/wrap-watch-engine.js';
import type { Platform } from '../types.js';

import { listenerSource } from '../platform/listener-source.js';
import type { ToolWatcher } from './tool-watcher.js';

/** The collector-served switches (shared AgentSettings.toolProbing). */
export type ServedToolProbing = NonNullable<AgentSettings['toolProbing']>;

export interface ToolWatchOptions {
  config: AgentConfig;
  /** probeListeners and the sockets source both on. */
  enabled: boolean;
  endpointId: string;
  socketSource: SocketSource;
  onEvent: (event: McpEvent) => void;
  onError: (error: Error) => void;
  /** Tool probing switches served by the collector; each overrides the local setting (read at every poll). */
  served?: () => ServedToolProbing | null | undefined;
  /** Homes whose clients' tool caches are read (omit: none). */
  clientCaches?: { platform: Platform; homes: () => string[] };
  /** Receives the watcher (or null when probing is off), for withToolFindings. */
  expose: (watcher: ToolWatcher | null) => void;
}

export function withToolWatch(engine: WatchEngine, o: ToolWatchOptions): WatchEngine {
  if (!o.enabled) {
    o.expose(null);
    return engine;
  }
  const pick = (k: keyof ServedToolProbing): boolean => o.served?.()?.[k] ?? o.config[k];
  const mcpPids = (): Set<number> => new Set((engine.current()?.processes ?? []).filter((p) => p.kind === 'server').map((p) => p.pid));
  const sockets = listenerSource(o.socketSource, mcpPids);
  let tools: ToolWatcher | null = null;
  let stopped = false;
  const create = async (): Promise<ToolWatcher> => {
    const { ToolWatcher } = await import('./tool-watcher.js');
    return new ToolWatcher({
      endpointId: o.endpointId,
      stateDir: o.config.stateDir,
      socketSource: sockets,
      knowledge: () => {
        const doc = engine.current();
        const servers = (doc?.processes ?? []).filter((p) => p.kind === 'server');
        const users = new Map(servers.map((p) => [p.pid, p.user ?? null]));
        const starts = new Map(servers.map((p) => [p.pid, p.startedAt ?? null]));
        return {
          mcpPids: new Set(servers.map((p) => p.pid)),
          servers: doc?.servers ?? [],
          userOf: (pid) => (pid === null ? null : users.get(pid) ?? null),
          startOf: (pid) => (pid === null ? null : starts.get(pid) ?? null),
        };
      },
      prober: {
        maxProbesPerPoll: o.config.probeMaxPerPoll,
        reprobeMcpMs: o.config.toolReprobeMs,
        probeOtherListeners: () => pick('probeOtherListeners'),
      },
      shipDescriptions: () => pick('shipToolDescriptions'),
      active: () => pick('probeListeners'),
      probeRemote: () => pick('probeRemote'),
      ...(o.clientCaches ? { clientCaches: o.clientCaches } : {}),
      remoteReprobeMs: o.config.toolReprobeMs,
      pollIntervalMs: o.config.probePollMs,
      onEvent: o.onEvent,
      onError: o.onError,
      onChange: () => engine.configChanged?.(),
    });
  };
  o.expose(null);
  return wrapWatchEngine(
    engine,
    async () => {
      await engine.start();
      const created = await create();
      if (stopped) return;
      tools = created;
      o.expose(tools);
      tools.start();
    },
    async () => {
      stopped = true;
      await tools?.stop();
      await engine.stop();
    },
  );
}

/** The base rules evaluation plus the tool rules over what the watcher sees now. */
export function withToolFindings(
  base: ScanDeps['evaluateRules'],
  watcher: () => ToolWatcher | null,
  options: () => RulesOptions,
): ScanDeps['evaluateRules'] {
  return (input) => {
    const findings: Finding[] = base(input);
    const w = watcher();
    if (!w) return findings;
    const extra = evaluateRules(
      { files: [], raw: [], servers: [...input.servers], platform: input.ctx.platform, tools: w.ruleViews(), mcpListeners: w.listeners() },
      { ...options(), rules: TOOL_RULES },
    );
    const ids = new Set(findings.map((f) => f.id));
    return [...findings, ...extra.filter((f) => !ids.has(f.id))];
  };
}
