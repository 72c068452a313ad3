/**
 * The readable form of an inventory: sections CLIENTS, SERVERS, PROCESSES, SOCKETS, EXTENSIONS (when scanned), FINDINGS,
 * ERRORS as aligned text tables, with a one-line summary. Only fields of the (already
 * secret-free) records are printed; long cells are cut with an ellipsis. Every value from the
 * inventory (names, hostnames, titles, paths, commands) is shown with control, format and bidi
 * characters as visible escapes (`\x1b`, `\n`, `\u202e`: shared terminalSafe), so a hostile config
 * cannot drive the terminal or disguise a row. Pure.
 */
import { SEVERITIES, terminalSafe } from '@mcpwatch/shared/protocol';
import type { InventoryDocument } from '@mcpwatch/shared';
import { byText } from '../normalize/text-order.js';

const MAX_CELL = 60;

function cell(v: unknown): string {
  const s = v === null || v === undefined || v === '' ? '-' : terminalSafe(String(v)).replace(/\s+/g, ' ');
  return s.length > MAX_CELL ? `${s.slice(0, MAX_CELL - 1)}…` : s;
}

/** Keeps the end of a long path (the file name matters more than the top folders). */
function tail(raw: string | null | undefined): string | null {
  if (!raw) return null;
  const p = terminalSafe(raw);
  return p.length > MAX_CELL ? `…${p.slice(p.length - MAX_CELL + 1)}` : p;
}

/** Renders rows under a header as aligned columns. */
export function renderTable(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const head = header.map(terminalSafe);
  const cells = rows.map((r) => r.map(cell));
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

function section(title: string, header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return `${title} (${rows.length})\n${rows.length === 0 ? '  none' : renderTable(header, rows)}`;
}

/** The whole inventory as text. */
export function formatInventoryTable(doc: InventoryDocument): string {
  const parts: string[] = [];
  parts.push(
    `mcpwatch inventory of ${terminalSafe(doc.host.hostname)} (${terminalSafe(doc.host.platform)}) at ${terminalSafe(doc.generatedAt)}: ` +
      `${doc.clients.length} clients, ${doc.servers.length} servers, ${doc.processes.length} processes, ` +
      `${doc.sockets.length} sockets, ${doc.findings.length} findings, ${doc.errors.length} errors`,
  );
  parts.push(section('CLIENTS', ['CLIENT', 'NAME', 'USER', 'SERVERS', 'CONFIG FILES'], doc.clients.map((c) => [c.client, c.displayName, c.user, c.serverCount, c.configPaths.length])));
  parts.push(
    section(
      'SERVERS',
      ['CLIENT', 'SCOPE', 'NAME', 'TRANSPORT', 'RUNS', 'PACKAGE', 'STATE', 'CONFIG'],
      doc.servers.map((s) => [
        s.client,
        s.scope,
        s.name,
        s.transport,
        s.url ?? [s.command, ...s.args].filter(Boolean).join(' '),
        s.package ? `${s.package.ecosystem}:${s.package.name}${s.package.version ? `@${s.package.version}` : ''}` : null,
        s.effective ?? (s.disabled ? 'disabled' : 'enabled'),
        tail(s.configPath),
      ]),
    ),
  );
  if (doc.processes.length > 0) {
    parts.push(section('PROCESSES', ['PID', 'KIND', 'CLIENT', 'USER', 'MATCH', 'COMMAND'], doc.processes.map((p) => [p.pid, p.kind, p.client, p.user, p.match, p.cmd])));
  }
  if (doc.sockets.length > 0) {
    parts.push(
      section(
        'SOCKETS',
        ['PID', 'KIND', 'LOCAL', 'PEER', 'ALL INTERFACES', 'CLIENT'],
        doc.sockets.map((s) => [s.pid, s.kind, `${s.localAddress}:${s.localPort}`, s.peerAddress ? `${s.peerAddress}:${s.peerPort}` : null, s.allInterfaces ? 'yes' : 'no', s.client]),
      ),
    );
  }
  if (doc.extensions) {
    parts.push(
      section(
        'EXTENSIONS',
        ['CLIENT', 'KIND', 'SCOPE', 'NAME', 'VERSION', 'RUNS COMMAND', 'PATH'],
        doc.extensions.map((e) => [e.client, e.kind, e.scope, e.name, e.version, e.runsCommand ? (e.hookCommand ?? 'yes') : 'no', tail(e.path)]),
      ),
    );
  }
  const bySeverity = [...doc.findings].sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity) || byText(a.ruleId, b.ruleId));
  parts.push(
    section(
      'FINDINGS',
      ['SEVERITY', 'RULE', 'SERVER', 'CLIENT', 'TITLE'],
      bySeverity.map((f) => [f.severity, f.ruleId, f.subject.serverName, f.subject.client, f.title]),
    ),
  );
  parts.push(section('ERRORS', ['CODE', 'PATH', 'LINE', 'REASON'], doc.errors.map((e) => [e.code, tail(e.path), e.line ?? null, e.entry ? `${e.entry}: ${e.reason}` : e.reason])));
  return `${parts.join('\n\n')}\n`;
}
