/**
 * `mcpwatch-agent watch`: scan once, then print one JSON event per line on stdout for every
 * change to configs (chokidar, debounced), processes and sockets (polled). Status and errors go to
 * stderr. Stops cleanly when the IO signal aborts (the CLI wires SIGINT/SIGTERM to it).
 */
import { jsonTerminalSafe, stableId, terminalSafe } from '@mcpwatch/shared/protocol';
import { optionsHelp } from './cli-options.js';
import { InventoryWatcher } from '../inventory/inventory-watcher.js';
import type { Command } from './command.js';
import { prepareScan, SCAN_OPTIONS } from './scan-setup.js';

/** Endpoint id used before enrollment: stable per machine. */
export function localEndpointId(hostname: string, hardwareUuid: string | null | undefined): string {
  return `local-${stableId(['endpoint/v1', hostname, hardwareUuid ?? null], 24)}`;
}

export const watchCommand: Command = {
  name: 'watch',
  summary: 'print changes (server.added, process.started, ...) as JSON lines as they happen',
  options: [...SCAN_OPTIONS.filter((o) => o !== 'json' && o !== 'fail-on'), 'process-interval-ms', 'debounce-ms'],
  async run(argv, io) {
    const setup = await prepareScan(argv, io, this.options);
    if (setup.values.help) {
      io.stdout(`usage: mcpwatch-agent watch [options]\n\n${optionsHelp(this.options)}\n`);
      return 0;
    }
    const facts = await setup.deps.hostFacts();
    const processIntervalMs = setup.values['process-interval-ms'] as number | undefined;
    const debounceMs = setup.values['debounce-ms'] as number | undefined;
    const watcher = new InventoryWatcher(
      {
        ctx: setup.ctx,
        sources: setup.options.sources,
        endpointId: localEndpointId(facts.hostname, facts.hardwareUuid),
        ...(processIntervalMs !== undefined ? { processIntervalMs } : {}),
        ...(debounceMs !== undefined ? { debounceMs } : {}),
        onEvent: (event) => {
          io.stdout(`${jsonTerminalSafe(JSON.stringify(event))}\n`);
          io.onEvent?.(event);
        },
        onError: (error) => io.stderr(`mcpwatch-agent: ${error.code}: ${terminalSafe(`${error.message}${error.cause instanceof Error ? `: ${error.cause.message}` : ''}`)}\n`),
      },
      setup.deps,
    );
    const stopped = new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await watcher.start();
    const s = setup.options.sources;
    io.stderr(
      `mcpwatch-agent: watching (${[s.configs && 'configs', s.processes && 'processes', s.sockets && 'sockets'].filter(Boolean).join(', ')})` +
        `${s.processes || s.sockets ? `, polling every ${processIntervalMs ?? 5000} ms` : ''}\n`,
    );
    // Keeps the process alive while watching (the watcher's own timers are unref'd).
    const keepAlive = setInterval(() => undefined, 1 << 30);
    await stopped;
    clearInterval(keepAlive);
    await watcher.stop();
    io.stderr('mcpwatch-agent: stopped\n');
    return 0;
  },
};
