/**
 * OCSF rendering of mcpwatch events for Security Lake pipelines (OCSF schema 1.1.0), selected by
 * MCPWATCH_OCSF=on. Each event becomes one or more OCSF events:
 *
 * | mcpwatch event                          | OCSF class                                  |
 * | --------------------------------------- | ------------------------------------------- |
 * | process.started / process.stopped       | 1007 Process Activity (Launch / Terminate)  |
 * | config.error                            | 1001 File System Activity (Read, Failure)   |
 * | server.* / client.*                     | 5020 Software Inventory Info (Log)          |
 * | inventory.snapshot                      | 5020 per server and client (Collect)        |
 * | finding.raised / finding.resolved       | 2004 Detection Finding (Create / Close)     |
 * | socket.opened / socket.closed           | 4001 Network Activity (Open / Close)        |
 * | agent.heartbeat / agent.dropped         | 0 Base Event                                |
 * | collector.seq_gap (Medium)              | 2004 Detection Finding (Create)             |
 * | collector.chain_broken (High)           | 2004 Detection Finding (Create)             |
 *
 * Every rendering carries the base attributes OCSF requires (activity_id, category_uid, class_uid,
 * type_uid = class_uid*100+activity_id, severity_id, time in epoch ms, metadata.product and
 * metadata.version) and the class's required objects (process/actor, file/actor, package, device,
 * finding_info). The mcpwatch provenance (endpoint, agent, certificate fingerprint, batch seq, event
 * id and type) is in `unmapped.mcpwatch`; metadata.uid is the event id (suffixed `#n` for the n-th
 * rendering of one event) so a resend is recognisable. The collector's own events (a batch seq
 * gap, a broken hash chain) are findings about the endpoint: their agent id and seq are in
 * `unmapped.mcpwatch.batch`, their finding_info.uid is stable per endpoint + kind + seq.
 * A snapshot's findings are not rendered from the snapshot: the store derives a finding.raised /
 * finding.resolved event for each finding a snapshot raises or resolves (store/projection.ts), and
 * that event is the finding's one 2004 rendering, as it is its one ASFF finding in Security Hub.
 * Pure functions: no I/O.
 */
import type { ClientRecord, EventOf, Finding, ServerEntry } from '@mcpwatch/shared';
import type { CollectorEvent, OutboxRow } from '../store/types.js';
import { collectorFindingKey, collectorFindingText } from './collector-findings.js';

export const OCSF_VERSION = '1.1.0';
export const PRODUCT = { name: 'mcpwatch', vendor_name: 'mcpwatch', version: '0.1.0' } as const;

export type OcsfEvent = Record<string, unknown> & {
  class_uid: number;
  category_uid: number;
  activity_id: number;
  type_uid: number;
  severity_id: number;
  time: number;
  metadata: { version: string; product: typeof PRODUCT; uid: string } & Record<string, unknown>;
};

const CATEGORY: Record<number, string> = {
  0: 'Uncategorized',
  1: 'System Activity',
  2: 'Findings',
  4: 'Network Activity',
  5: 'Discovery',
};
const CLASS: Record<number, [name: string, category: number]> = {
  0: ['Base Event', 0],
  1001: ['File System Activity', 1],
  1007: ['Process Activity', 1],
  2004: ['Detection Finding', 2],
  4001: ['Network Activity', 4],
  5020: ['Software Inventory Info', 5],
};

/** mcpwatch severity -> OCSF severity_id (1 Informational .. 5 Critical). */
export const OCSF_SEVERITY: Record<Finding['severity'], [id: number, name: string]> = {
  info: [1, 'Informational'],
  low: [2, 'Low'],
  medium: [3, 'Medium'],
  high: [4, 'High'],
  critical: [5, 'Critical'],
};

interface Base {
  classUid: number;
  activityId: number;
  activityName: string;
  severity?: Finding['severity'];
  statusId?: number;
  status?: string;
  message?: string;
}

/**
 * Builds an OCSF event: the base attributes, then `body`. Keys of `body` starting with `mcp_` are
 * not OCSF attributes: they go to `unmapped.mcpwatch` (without the prefix).
 */
function base(row: OutboxRow, n: number, b: Base, body: Record<string, unknown>, hostname?: string | null): OcsfEvent {
  const mapped: Record<string, unknown> = {};
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if (k.startsWith('mcp_')) extra[k.slice(4)] = v;
    else mapped[k] = v;
  }
  const [className, categoryUid] = CLASS[b.classUid]!;
  const [severityId, severityName] = OCSF_SEVERITY[b.severity ?? 'info'];
  const e = row.event;
  const out: OcsfEvent = {
    activity_id: b.activityId,
    activity_name: b.activityName,
    category_uid: categoryUid,
    category_name: CATEGORY[categoryUid],
    class_uid: b.classUid,
    class_name: className,
    type_uid: b.classUid * 100 + b.activityId,
    type_name: `${className}: ${b.activityName}`,
    severity_id: severityId,
    severity: severityName,
    time: Date.parse(e.time),
    metadata: {
      version: OCSF_VERSION,
      product: PRODUCT,
      uid: n === 0 ? e.id : `${e.id}#${n}`,
      correlation_uid: e.id,
      original_time: e.time,
      log_name: e.type,
    },
    device: { uid: row.endpointId, type_id: 0, type: 'Unknown', ...(hostname ? { hostname } : {}) },
    ...mapped,
    unmapped: {
      mcpwatch: {
        ...extra,
        eventId: e.id,
        eventType: e.type,
        endpointId: row.endpointId,
        agentId: row.agentId,
        certFingerprint: row.certFingerprint,
        batchSeq: row.batchSeq,
      },
    },
  };
  if (b.statusId !== undefined) {
    out['status_id'] = b.statusId;
    out['status'] = b.status;
  }
  if (b.message !== undefined) out['message'] = b.message;
  return out;
}

const AGENT_ACTOR = { app_name: 'mcpwatch-agent' };

function purl(s: ServerEntry): string | undefined {
  const p = s.package;
  if (!p || (p.ecosystem !== 'npm' && p.ecosystem !== 'pypi')) return undefined;
  const name = p.ecosystem === 'npm' ? p.name.replace(/^@/, '%40') : p.name;
  return `pkg:${p.ecosystem}/${name}${p.version ? `@${encodeURIComponent(p.version)}` : ''}`;
}

function serverPackage(s: ServerEntry): Record<string, unknown> {
  const u = purl(s);
  return {
    name: s.package?.name ?? s.name,
    version: s.package?.version ?? 'unspecified',
    ...(u ? { purl: u } : {}),
    ...(s.package?.digest ? { hash: { algorithm_id: 3, algorithm: 'SHA-256', value: s.package.digest.replace(/^sha256:/, '') } } : {}),
    type: s.package?.ecosystem ?? 'mcp-server',
  };
}

function serverInventory(row: OutboxRow, n: number, s: ServerEntry, activity: [number, string], verb: string, hostname?: string | null): OcsfEvent {
  return base(
    row,
    n,
    { classUid: 5020, activityId: activity[0], activityName: activity[1], message: `MCP server ${s.name} ${verb} in ${s.client} (${s.configPath})` },
    {
      actor: AGENT_ACTOR,
      package: serverPackage(s),
      product: { name: s.name, vendor_name: s.client },
      mcp_server: s,
    },
    hostname,
  );
}

function clientInventory(row: OutboxRow, n: number, c: ClientRecord, activity: [number, string], verb: string, hostname?: string | null): OcsfEvent {
  return base(
    row,
    n,
    { classUid: 5020, activityId: activity[0], activityName: activity[1], message: `MCP client ${c.displayName} ${verb}` },
    { actor: AGENT_ACTOR, package: { name: c.client, version: 'unspecified', type: 'mcp-client' }, mcp_client: c },
    hostname,
  );
}

function detection(row: OutboxRow, f: Finding, resolved: boolean): OcsfEvent {
  return base(
    row,
    0,
    {
      classUid: 2004,
      activityId: resolved ? 3 : 1,
      activityName: resolved ? 'Close' : 'Create',
      severity: f.severity,
      statusId: resolved ? 4 : 1,
      status: resolved ? 'Resolved' : 'New',
      message: f.title,
    },
    {
      finding_info: {
        uid: `${row.endpointId}/${f.id}`,
        title: f.title,
        desc: f.description,
        types: [f.ruleId],
        analytic: { uid: f.ruleId, name: f.ruleId, type_id: 1, type: 'Rule' },
      },
      resources: [{ uid: row.endpointId, type: 'Endpoint' }],
      ...(f.evidence ? { evidences: [{ data: f.evidence }] } : {}),
      mcp_finding_subject: f.subject,
    },
  );
}

/** A collector tamper/gap event as a new Detection Finding about the endpoint. */
function collectorDetection(row: OutboxRow, e: CollectorEvent): OcsfEvent {
  const t = collectorFindingText(e);
  return base(
    row,
    0,
    { classUid: 2004, activityId: 1, activityName: 'Create', severity: t.severity, statusId: 1, status: 'New', message: t.message },
    {
      finding_info: {
        uid: collectorFindingKey(row.endpointId, e),
        title: t.title,
        desc: t.description,
        types: [e.type],
        analytic: { uid: e.type, name: e.type, type_id: 1, type: 'Rule' },
      },
      resources: [{ uid: row.endpointId, type: 'Endpoint' }],
      mcp_batch: e.data,
    },
  );
}

/** Renders one outbox row as OCSF events (one for most types, several for a snapshot). */
export function toOcsf(row: OutboxRow): OcsfEvent[] {
  const e = row.event;
  switch (e.type) {
    case 'process.started':
    case 'process.stopped': {
      const p = e.data;
      const launch = e.type === 'process.started';
      return [
        base(
          row,
          0,
          { classUid: 1007, activityId: launch ? 1 : 2, activityName: launch ? 'Launch' : 'Terminate', message: `MCP ${p.kind} process ${p.name} ${launch ? 'started' : 'stopped'}` },
          {
            actor: p.user ? { user: { name: p.user } } : { process: { pid: p.ppid ?? 0 } },
            process: {
              pid: p.pid,
              name: p.name,
              cmd_line: p.cmd,
              ...(p.user ? { user: { name: p.user } } : {}),
              ...(p.ppid != null ? { parent_process: { pid: p.ppid } } : {}),
              ...(p.startedAt ? { created_time: Date.parse(p.startedAt) } : {}),
            },
            mcp_process: { kind: p.kind, client: p.client ?? null, serverKey: p.serverKey ?? null, match: p.match ?? null },
          },
        ),
      ];
    }
    case 'config.error': {
      const c = e.data;
      return [
        base(
          row,
          0,
          { classUid: 1001, activityId: 2, activityName: 'Read', statusId: 2, status: 'Failure', message: `config file could not be read: ${c.code}` },
          {
            actor: AGENT_ACTOR,
            file: { path: c.path, name: c.path.split(/[\\/]/).pop() ?? c.path, type_id: 1, type: 'Regular File' },
            status_code: c.code,
            status_detail: c.reason,
            mcp_config_error: c,
          },
        ),
      ];
    }
    case 'server.added':
      return [serverInventory(row, 0, e.data, [1, 'Log'], 'added')];
    case 'server.changed':
      return [serverInventory(row, 0, e.data, [1, 'Log'], `changed (${e.data.changedFields.join(', ')})`)];
    case 'server.removed':
      return [serverInventory(row, 0, e.data, [1, 'Log'], 'removed')];
    case 'client.detected':
      return [clientInventory(row, 0, e.data, [1, 'Log'], 'detected')];
    case 'client.removed':
      return [clientInventory(row, 0, e.data, [1, 'Log'], 'removed')];
    case 'inventory.snapshot':
      return snapshot(row, e);
    case 'finding.raised':
      return [detection(row, e.data, false)];
    case 'finding.resolved':
      return [detection(row, e.data, true)];
    case 'socket.opened':
    case 'socket.closed': {
      const s = e.data;
      const open = e.type === 'socket.opened';
      return [
        base(
          row,
          0,
          { classUid: 4001, activityId: open ? 1 : 2, activityName: open ? 'Open' : 'Close', message: `${s.kind} socket of ${s.processName}` },
          {
            src_endpoint: { ip: s.localAddress, port: s.localPort },
            ...(s.peerAddress ? { dst_endpoint: { ip: s.peerAddress, ...(s.peerPort != null ? { port: s.peerPort } : {}) } } : {}),
            connection_info: { protocol_name: s.protocol.startsWith('tcp') ? 'tcp' : 'udp', protocol_ver_id: s.protocol === 'tcp6' ? 6 : 4 },
            actor: { process: { pid: s.pid, name: s.processName } },
            mcp_socket: s,
          },
        ),
      ];
    }
    case 'agent.heartbeat':
    case 'agent.dropped':
      return [base(row, 0, { classUid: 0, activityId: 0, activityName: 'Unknown', message: e.type }, { mcp_agent: e.data })];
    case 'server.quarantined':
    case 'server.restored':
    case 'command.failed':
      return [base(row, 0, { classUid: 0, activityId: 0, activityName: 'Unknown', message: `containment: ${e.type}` }, { mcp_containment: e.data })];
    // Tool inventory (issue 12): hashes and annotations as the agent sent them (no OCSF class fits).
    case 'tool.added':
    case 'tool.changed':
    case 'tool.removed':
      return [base(row, 0, { classUid: 0, activityId: 0, activityName: 'Unknown', message: `MCP tool ${e.data.name} of ${e.data.serverName ?? e.data.serverId}: ${e.type}` }, { mcp_tool: e.data })];
    // Added in version 2 by other areas (tool-call hooks, extensions): carried as sent until they get
    // a mapping of their own, so the switch stays exhaustive and every event reaches the stream.
    case 'tool.called':
    case 'hook.status':
    case 'extension.added':
    case 'extension.changed':
    case 'extension.removed':
      return [base(row, 0, { classUid: 0, activityId: 0, activityName: 'Unknown', message: e.type }, { mcp_event: e.data })];
    case 'mcp-listener.added':
    case 'mcp-listener.changed':
    case 'mcp-listener.removed':
      return [base(row, 0, { classUid: 0, activityId: 0, activityName: 'Unknown', message: `MCP server listening on ${e.data.bind}:${e.data.port}: ${e.type}` }, { mcp_listener: e.data })];
    case 'collector.seq_gap':
    case 'collector.chain_broken':
      return [collectorDetection(row, e)];
  }
}

function snapshot(row: OutboxRow, e: EventOf<'inventory.snapshot'>): OcsfEvent[] {
  const host = e.data.host.hostname;
  const out: OcsfEvent[] = [];
  for (const s of e.data.servers) out.push(serverInventory(row, out.length, s, [2, 'Collect'], 'present', host));
  for (const c of e.data.clients) out.push(clientInventory(row, out.length, c, [2, 'Collect'], 'present', host));
  if (out.length === 0) {
    out.push(base(row, 0, { classUid: 5020, activityId: 2, activityName: 'Collect', message: 'no MCP clients or servers' }, { actor: AGENT_ACTOR, package: { name: 'none', version: 'unspecified' } }, host));
  }
  return out;
}
