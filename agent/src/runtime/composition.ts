/**
 * The composition root of run mode: wires the watch engine (inventory/), the rules engine with the
 * collector-served policy (rules/), and the runtime that spools and ships (runtime/, spool/, ship/).
 * It holds no logic of its own; each piece decides in its own folder. Served settings reach the
 * rules engine here, once (through `runtime.rulesOptions()`, read at every evaluation), and a rule
 * that throws is reported through the runtime (log + heartbeat lastError). Signed commands from
 * batch acks go from the shipper (through the runtime) to containment/, which verifies and acts
 * on them against the watch engine's current inventory and reports through the runtime's spool.
 */
import type { McpEvent } from '@mcpwatch/shared';
import type { AgentConfig } from '../config/config-table.js';
import type { ScanSetup } from '../commands/scan-setup.js';
import { diffInventories } from '../inventory/diff.js';
import { InventoryWatcher } from '../inventory/inventory-watcher.js';
import { rulesEvaluator } from '../inventory/scan-deps.js';
import type { ScanDeps } from '../inventory/scan.js';
import { AgentRuntime, type Logger, type WatchEngine, type WatchEngineOptions } from './agent-runtime.js';
import { withToolFindings, withToolWatch } from '../tools/tool-watch-engine.js';
import type { ToolWatcher } from '../tools/tool-watcher.js';
import { withExtensionFindings, withExtensionWatch, type ExtensionWatcher } from '../extensions/extension-watch.js';
import type { ContainmentExecutor } from '../containment/index.js';
import type { HostInfo } from '@mcpwatch/shared';
import { withHookSupport } from '../hooks/hook-findings.js';
import { hookStateBoard } from '../hooks/hook-state-board.js';
import { HookServerMapWriter } from '../hooks/hook-server-map-writer.js';

export interface CompositionOptions {
  config: AgentConfig;
  log: Logger;
  hostInfo: () => Promise<HostInfo>;
  /** Parsed scan options, context and collaborators of this run. */
  setup: ScanSetup;
  /** Replaces the rules evaluation (tests). */
  evaluateRules?: ScanDeps['evaluateRules'];
  /** Observes every event as the watch engine emits it (tests, benchmarks). */
  onEvent?: (event: McpEvent) => void;
}

/** How often run mode rescans skills, hooks and plugins (they are read whole: hashed folders). */
const EXTENSION_SCAN_MS = 60_000;

/** The agent of run mode, wired and not yet started. */
export function composeAgent(o: CompositionOptions): AgentRuntime {
  const { setup } = o;
  const debounceMs = setup.values['debounce-ms'] as number | undefined;
  // Tool probing (tools/): the watcher joins the engine, its findings join the rules evaluation.
  let toolWatcher: ToolWatcher | null = null;
  const baseRules = o.evaluateRules ?? rulesEvaluator(() => runtime.rulesOptions());
  // Extensions (extensions/): skills, hooks and plugins rescanned every EXTENSION_SCAN_MS; their findings join the rules too.
  let extensionWatcher: ExtensionWatcher | null = null;
  const toolRules = withToolFindings(baseRules, () => toolWatcher, () => runtime.rulesOptions());
  // The extension watcher owns extensions in run mode (events, persisted state): the inventory engine does not hash them again.
  // Client hooks (hooks/): the keeper's hook states join the rules (hook-tampered), and each evaluation refreshes the hook's server map.
  const hookBoard = hookStateBoard(o.config.stateDir);
  const serverMap = new HookServerMapWriter({ stateDir: o.config.stateDir, onError: (e) => o.log('warn', `hook server map: ${e.message}`) });
  const deps = {
    ...setup.deps,
    findExtensions: undefined,
    evaluateRules: withHookSupport(withExtensionFindings(toolRules, () => extensionWatcher), { board: hookBoard, serverMap, options: () => runtime.rulesOptions() }),
  };
  const tooled = (engine: WatchEngine, w: WatchEngineOptions): WatchEngine =>
    withExtensionWatch(withToolWatch(engine, {
      config: o.config,
      enabled: o.config.probeListeners && setup.options.sources.sockets,
      endpointId: w.endpointId,
      socketSource: setup.deps.socketSource,
      onEvent: (e) => {
        w.onEvent(e);
        o.onEvent?.(e);
      },
      onError: (e) => w.onError(e),
      clientCaches: { platform: setup.ctx.platform, homes: () => setup.ctx.homes.map((h) => h.home) },
      served: () => runtime.toolProbing(),
      expose: (t) => (toolWatcher = t),
    }), {
      ctx: setup.ctx,
      stateDir: o.config.stateDir,
      endpointId: w.endpointId,
      intervalMs: EXTENSION_SCAN_MS,
      redact: setup.deps.redact,
      onEvent: (e) => {
        w.onEvent(e);
        o.onEvent?.(e);
      },
      onError: (e) => w.onError(e),
      expose: (x) => (extensionWatcher = x),
    });
  let engine: InventoryWatcher | null = null;
  // A hook state changed: the rules evaluate again (a config pass; without the configs source, at the next change).
  hookBoard.onChange(() => {
    if (setup.options.sources.configs) engine?.configChanged();
  });
  let containment: Promise<ContainmentExecutor> | null = null;
  const runtime: AgentRuntime = new AgentRuntime({
    config: o.config,
    log: o.log,
    hostInfo: o.hostInfo,
    // `run --home DIR` watches that home only: the hook keeper and the journal pump use it too,
    // never the machine's real homes (without --home the runtime finds them, as scan does).
    ...(setup.values.home !== undefined ? { userHomes: async () => setup.ctx.homes } : {}),
    // Containment (containment/) loads with the first signed command: most agents never get one.
    onCommands: (commands) => {
      containment ??= import('../containment/index.js').then(
        ({ ContainmentExecutor }) =>
          new ContainmentExecutor({
            stateDir: o.config.stateDir,
            endpointId: () => runtime.endpointId,
            servers: () => engine?.current()?.servers ?? null,
            emit: (e) => {
              runtime.push(e);
              o.onEvent?.(e);
            },
            log: o.log,
          }),
      );
      void containment.then((c) => c.handle(commands)).catch((e: unknown) => {
        containment = null; // the next command tries to load it again
        o.log('error', `containment: ${e instanceof Error ? e.message : String(e)}`);
      });
    },
    diff: (prev, next, endpointId) => diffInventories(prev, next, endpointId),
    createWatcher: (w): WatchEngine => {
      const watcher = new InventoryWatcher(
        {
          ctx: setup.ctx,
          sources: setup.options.sources,
          endpointId: w.endpointId,
          processIntervalMs: w.processIntervalMs,
          emitSnapshot: w.emitSnapshot,
          sourceFailurePolls: o.config.sourceFailurePolls,
          sourceFailureMs: o.config.sourceFailureMs,
          ...(debounceMs !== undefined ? { debounceMs } : {}),
          onEvent: (e) => {
            w.onEvent(e);
            o.onEvent?.(e);
            // A new MCP server process may open a listener: the tool watcher looks in seconds, not at its next poll.
            if (e.type === 'process.started' && e.data.kind === 'server') toolWatcher?.kick();
          },
          onError: (e) => w.onError(e),
        },
        deps,
      );
      engine = watcher;
      // Re-evaluating the rules through configChanged() would read config files; without the
      // configs source the runtime falls back to a lossless restart of the engine instead.
      if (setup.options.sources.configs) return tooled(watcher, w);
      return tooled({ start: () => watcher.start(), stop: () => watcher.stop(), current: () => watcher.current(), setProcessIntervalMs: (ms) => watcher.setProcessIntervalMs(ms), sourceErrors: () => watcher.sourceErrors() }, w);
    },
  });
  return runtime;
}
