/**
 * Wraps a watch engine with extra start/stop work (extension watcher, tool watcher) while
 * forwarding `current` and every optional capability the wrapped engine has, so a wrapper never
 * hides one (the runtime checks for them by presence).
 */
import type { WatchEngine } from './agent-runtime.js';

/** `engine` with `start`/`stop` replaced by the given ones; everything else forwarded to `engine`. */
export function wrapWatchEngine(engine: WatchEngine, start: () => Promise<void>, stop: () => Promise<void>): WatchEngine {
  const wrapped: WatchEngine = { start, stop, current: () => engine.current() };
  if (engine.setProcessIntervalMs) wrapped.setProcessIntervalMs = (ms) => engine.setProcessIntervalMs?.(ms);
  if (engine.configChanged) wrapped.configChanged = () => engine.configChanged?.();
  if (engine.sourceErrors) wrapped.sourceErrors = () => engine.sourceErrors?.() ?? [];
  return wrapped;
}
