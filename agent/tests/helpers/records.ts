/** Builders of inventory records for unit tests (valid per the shared schemas). */
import { computeFingerprint, computeServerKey, type Finding, type PackageIdentity, type ProcessRecord, type ServerEntry } from '@mcpwatch/shared';
import type { ProcessRow } from '../../src/platform/source-types.js';

export function server(over: Partial<ServerEntry> & { name: string }): ServerEntry {
  const base = {
    client: 'claude-desktop',
    scope: 'user' as const,
    configPath: '/home/u/.config/Claude/claude_desktop_config.json',
    user: 'u',
    projectPath: null,
    transport: 'stdio' as const,
    command: null as string | null,
    args: [] as string[],
    url: null as string | null,
    envKeys: [] as string[],
    headerKeys: [] as string[],
    cwd: null,
    disabled: false,
    package: null as PackageIdentity | null,
    wrapper: null,
    remoteUrl: null,
    ...over,
  };
  return {
    ...base,
    serverKey: over.serverKey ?? computeServerKey(base),
    fingerprint: over.fingerprint ?? computeFingerprint(base),
  };
}

export function npmPackage(name: string, version: string | null = null): PackageIdentity {
  return { ecosystem: 'npm', name, version, pinned: version !== null && /^\d/.test(version), digest: null, runner: 'npx' };
}

export function row(pid: number, ppid: number | null, cmd: string, over: Partial<ProcessRow> = {}): ProcessRow {
  const name = cmd.split(/\s+/)[0]?.split('/').pop() ?? cmd;
  return { pid, ppid, name, cmd, path: null, uid: 1000, startedAt: '2026-01-01T00:00:00.000Z', ...over };
}

export function proc(over: Partial<ProcessRecord> & { pid: number }): ProcessRecord {
  return { ppid: 1, name: 'node', cmd: 'node x', user: 'u', kind: 'server', client: null, serverKey: null, match: 'pattern', startedAt: null, ...over };
}

export function finding(id: string, severity: Finding['severity'] = 'high'): Finding {
  return { id, ruleId: 'secret-in-env', severity, title: `finding ${id}`, description: 'd', subject: { serverName: 'x', client: 'cursor' } };
}
