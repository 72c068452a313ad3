/**
 * `mcpwatch-agent scan`: one inventory of this machine (or of a fixture home), printed as a
 * table or, with --json, as the InventoryDocument. Exit 1 when a finding is at or above
 * --fail-on, 2 on usage errors, else 0.
 */
import { atOrAbove, jsonTerminalSafe } from '@mcpwatch/shared/protocol';
import { optionsHelp } from './cli-options.js';
import { formatInventoryTable } from '../inventory/inventory-table.js';
import { runScan } from '../inventory/scan.js';
import type { Command } from './command.js';
import { prepareScan, SCAN_OPTIONS } from './scan-setup.js';

export const scanCommand: Command = {
  name: 'scan',
  summary: 'print the MCP inventory of this machine (clients, servers, processes, sockets, findings, errors)',
  options: SCAN_OPTIONS,
  async run(argv, io) {
    const setup = await prepareScan(argv, io, this.options);
    if (setup.values.help) {
      io.stdout(`usage: mcpwatch-agent scan [options]\n\n${optionsHelp(this.options)}\n`);
      return 0;
    }
    const { document } = await runScan({ ctx: setup.ctx, sources: setup.options.sources }, setup.deps);
    // Both forms are terminal-safe: no raw control, C1 or bidi character reaches the terminal.
    io.stdout(setup.options.json ? `${jsonTerminalSafe(JSON.stringify(document, null, 2))}\n` : formatInventoryTable(document));
    const failOn = setup.options.failOn;
    if (failOn && document.findings.some((f) => atOrAbove(f.severity, failOn))) {
      io.stderr(`mcpwatch-agent: findings at or above ${failOn}\n`);
      return 1;
    }
    return 0;
  },
};
