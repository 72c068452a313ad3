/**
 * `mcpwatch-agent status [--state-dir DIR] [--json]`: enrollment, collector reachability
 * (GET /healthz over the pinned connection), spool depth, last ship, last heartbeat and last
 * error. Read-only: safe while an agent runs. Exit 0 when enrolled and the collector answers,
 * 1 otherwise (with the reason printed), 2 on usage errors.
 */
import * as path from 'node:path';
import { loadConfig } from '../config/load-config.js';
import { splitConfigArgs } from '../config/config-argv.js';
import { UsageError } from '../errors.js';
import { jsonTerminalSafe, terminalSafe } from '@mcpwatch/shared/protocol';
import { collectorTrust, loadIdentity } from '../enroll/enroll-client.js';
import { HttpClient } from '../ship/http-client.js';
import { inspectSpool } from '../spool/spool.js';
import { readShipperState } from '../ship/shipper.js';
import { readJsonFile } from '../spool/durable-file.js';
import { describeError } from '../errors.js';
import type { HealthFile } from '../runtime/agent-runtime.js';
import type { Command } from './command.js';

export interface StatusReport {
  stateDir: string;
  enrolled: boolean;
  agentId: string | null;
  endpointId: string | null;
  server: string | null;
  certNotAfter: string | null;
  collector: { reachable: boolean; status: number | null; latencyMs: number | null; error: string | null };
  spool: { depth: number; pendingBytes: number; diskBytes: number } | null;
  lastSeq: number;
  lastShipAt: string | null;
  lastError: string | null;
  deadLettered: number;
  lastHeartbeatAt: string | null;
  agentPid: number | null;
  /** From the last heartbeat: self-limiting and the intervals in force. */
  throttled: boolean | null;
  throttleReason: string | null;
  intervalsMs: Record<string, number> | null;
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'show enrollment, collector reachability, spool depth and last ship',
  options: ['json', 'help'],
  async run(argv, io) {
    if (argv.includes('--help') || argv.includes('-h')) {
      io.stdout('usage: mcpwatch-agent status [--state-dir DIR] [--config FILE] [--json]\n');
      return 0;
    }
    const { config: cli, rest } = splitConfigArgs(argv);
    const json = rest.includes('--json');
    const unknown = rest.find((a) => a !== '--json');
    if (unknown !== undefined) throw new UsageError(`unknown argument "${unknown}"`);
    const loaded = await loadConfig({ cli, env: io.env });
    const { stateDir } = loaded.config;
    const id = loadIdentity(stateDir);
    const server = id?.record.server ?? loaded.config.server;
    const collector: StatusReport['collector'] = { reachable: false, status: null, latencyMs: null, error: null };
    if (server) {
      const trust = collectorTrust(id, stateDir);
      const http = new HttpClient({ pinSha256: trust.pinSha256 ?? loaded.config.caFingerprint, pinnedCaPem: trust.pinnedCaPem, timeoutMs: 5000 });
      const t0 = performance.now();
      try {
        const res = await http.request({ method: 'GET', url: new URL('/healthz', server).toString() });
        collector.status = res.status;
        collector.latencyMs = Math.round(performance.now() - t0);
        collector.reachable = res.status >= 200 && res.status < 300;
        if (!collector.reachable) collector.error = `healthz answered ${res.status}`;
      } catch (e) {
        collector.error = describeError(e);
      } finally {
        http.close();
      }
    } else collector.error = 'no collector configured';
    const shipper = readShipperState(stateDir);
    let health: HealthFile | null = null;
    try {
      health = readJsonFile<HealthFile>(path.join(stateDir, 'health.json'));
    } catch {
      health = null;
    }
    const report: StatusReport = {
      stateDir,
      enrolled: id !== null,
      agentId: id?.record.agentId ?? null,
      endpointId: id?.record.endpointId ?? null,
      server: server ?? null,
      certNotAfter: id?.record.certNotAfter ?? null,
      collector,
      spool: inspectSpool(path.join(stateDir, 'spool')),
      lastSeq: shipper.lastSeq,
      lastShipAt: shipper.lastShipAt,
      lastError: shipper.lastError ?? health?.heartbeat.lastError ?? null,
      deadLettered: shipper.deadLettered,
      lastHeartbeatAt: health?.writtenAt ?? null,
      agentPid: health?.pid ?? null,
      throttled: health?.heartbeat.throttled ?? null,
      throttleReason: health?.heartbeat.throttleReason ?? null,
      intervalsMs: health?.heartbeat.intervalsMs ?? null,
    };
    if (json) io.stdout(`${jsonTerminalSafe(JSON.stringify(report, null, 2))}\n`);
    else {
      const lines = [
        `state dir:     ${report.stateDir}`,
        `enrolled:      ${report.enrolled ? `yes — agent ${report.agentId}, endpoint ${report.endpointId}, certificate valid until ${report.certNotAfter}` : 'no (run: mcpwatch-agent enroll --server URL --secret S)'}`,
        `collector:     ${report.server ?? '(none)'} — ${collector.reachable ? `reachable (${collector.status}, ${collector.latencyMs} ms)` : `NOT reachable: ${collector.error}`}`,
        `spool:         ${report.spool ? `${report.spool.depth} events pending (${report.spool.pendingBytes} bytes; ${report.spool.diskBytes} bytes on disk)` : 'none yet'}`,
        `last ship:     ${report.lastShipAt ?? 'never'} (seq ${report.lastSeq})`,
        `last heartbeat:${report.lastHeartbeatAt ? ` ${report.lastHeartbeatAt} (pid ${report.agentPid})` : ' never'}`,
        `self-limit:    ${report.throttled === null ? 'unknown (no heartbeat yet)' : report.throttled ? `throttled: ${report.throttleReason}` : 'within budget'}${report.intervalsMs ? ` (${Object.entries(report.intervalsMs).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`,
        `dead letters:  ${report.deadLettered}`,
        `last error:    ${report.lastError ?? 'none'}`,
      ];
      io.stdout(`${lines.map(terminalSafe).join('\n')}\n`);
    }
    return report.enrolled && collector.reachable ? 0 : 1;
  },
};
