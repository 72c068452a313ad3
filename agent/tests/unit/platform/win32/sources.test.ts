/**
 * The Windows source chains (win32/sources.ts) and what the inventory shows of them, through the
 * real CLI with captured helper output: mcpwatch-winsnap first (command lines redacted like on
 * every OS, users as DOMAIN\user), fastlist with its missing fields declared as a collect-partial
 * record, netstat when the helper's socket table cannot be had, and one error naming both
 * failures when nothing answers.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFastlistOutput } from '../../../../src/platform/win32/process-source.js';
import { createWindowsProcessSource, createWindowsSocketSource } from '../../../../src/platform/win32/sources.js';
import type { WinsnapMode } from '../../../../src/platform/win32/winsnap.js';
import { runCli } from '../../../helpers/cli-run.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures');
const read = (name: string) => readFileSync(path.join(FIXTURES, 'win32-output', name), 'utf8');
const args = ['--home', path.join(FIXTURES, 'homes/win32/Users/alice'), '--system-root', path.join(FIXTURES, 'homes/win32/system'), '--platform', 'win32', '--sources', 'configs,processes,sockets'];
const hostFacts = async () => ({ hostname: 'wine', osName: 'Windows', osRelease: '10.0.18362', arch: 'x64', hardwareUuid: null, serial: null });
const SECRET = 'wsnap-fixture-secret-7d1e';

const captured = async (mode: WinsnapMode) => read(mode === 'processes' ? 'wine8-winsnap-processes.txt' : 'wine8-winsnap-sockets.txt');
const notEmbedded = async () => { throw new Error('mcpwatch-winsnap.exe is not embedded in this build'); };
const fastlist = async () => parseFastlistOutput(read('wine8-fastlist.txt'));

describe('Windows source chains', () => {
  it('reports processes from the helper with redacted command lines and users; Wine\'s ownerless sockets as collect-partial', async () => {
    const deps = { processSource: createWindowsProcessSource({ winsnap: captured, fastlist }), socketSource: createWindowsSocketSource({ winsnap: captured }), hostFacts };
    const json = await runCli(['scan', '--json', ...args], { deps });
    expect(json.code).toBe(0);
    expect(json.stdout).not.toContain(SECRET);
    const doc = JSON.parse(json.stdout) as { processes: { pid: number; cmd: string; user: string | null; kind: string; match: string | null; startedAt: string | null }[]; errors: { path: string; code: string; reason: string }[] };
    const standIn = doc.processes.find((p) => p.pid === 568);
    expect(standIn).toMatchObject({ kind: 'server', match: 'pattern', user: 'VM\\root', startedAt: '2026-12-06T18:40:23.634Z' });
    expect(standIn?.cmd).toMatch(/mcp-server-standin\\index\.cjs --port 39518 --api-key \S+ "tab\tinside" "café 日本"$/);
    expect(doc.processes.find((p) => p.pid === 32)?.cmd).toMatch(/index\.cjs --port 39517$/);
    expect(doc.errors.filter((e) => e.path === '(processes)')).toEqual([]);
    expect(doc.errors).toContainEqual({ path: '(sockets)', client: null, code: 'collect-partial', reason: 'MCPW_ERR_SOCKET_SOURCE: mcpwatch-winsnap gave no owning pid for any of 35 socket(s): sockets cannot be tied to processes' });
    const table = await runCli(['scan', ...args], { deps });
    expect(table.stdout).toMatch(/collect-partial\s+\(sockets\)\s+-?\s*MCPW_ERR_SOCKET_SOURCE: mcpwatch-winsnap gave no owning pid/);
    expect(table.stdout).not.toContain(SECRET);
  });

  it('falls back to fastlist and says which fields are missing and why', async () => {
    const result = await createWindowsProcessSource({ winsnap: notEmbedded, fastlist })();
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.rows.map((r) => r.name)).toContain('explorer.exe');
    expect(result.rows.every((r) => r.user === null && r.startedAt === null && r.cmd === r.name)).toBe(true);
    expect(result.partial).toMatchObject({ code: 'MCPW_ERR_PROCESS_SOURCE', message: 'mcpwatch-winsnap failed: mcpwatch-winsnap.exe is not embedded in this build; processes from fastlist, without cmd, path, user, uid, startedAt' });
    const deps = { processSource: createWindowsProcessSource({ winsnap: notEmbedded, fastlist }), hostFacts };
    const doc = JSON.parse((await runCli(['scan', '--json', ...args], { deps })).stdout) as { errors: { path: string; code: string; reason: string }[] };
    expect(doc.errors).toContainEqual({ path: '(processes)', client: null, code: 'collect-partial', reason: `MCPW_ERR_PROCESS_SOURCE: ${result.partial?.message}` });
    const table = await runCli(['scan', ...args], { deps });
    expect(table.stdout).toMatch(/collect-partial\s+\(processes\)\s+-?\s*MCPW_ERR_PROCESS_SOURCE: mcpwatch-winsnap failed/);
  });

  it('is one coded error naming both failures when neither the helper nor fastlist answers', async () => {
    const result = await createWindowsProcessSource({ winsnap: async () => 'garbage', fastlist: async () => { throw new Error('spawn EACCES'); } })();
    expect(result).toMatchObject({ ok: false, error: { code: 'MCPW_ERR_PROCESS_SOURCE', message: 'mcpwatch-winsnap printed no "MCPWATCH-WINSNAP 1 processes" header; fastlist failed: spawn EACCES' } });
  });

  it('takes sockets from netstat -ano when the helper fails (complete: netstat has owners), else names both failures', async () => {
    const scope = { pids: new Set([7420]), names: new Map([[7420, 'node.exe']]) };
    const viaNetstat = await createWindowsSocketSource({ winsnap: notEmbedded, netstat: async () => read('windows10-netstat-ano.txt') })(scope);
    expect(viaNetstat.ok).toBe(true);
    if (!viaNetstat.ok) return;
    expect(viaNetstat.partial).toBeUndefined();
    expect(viaNetstat.rows).toContainEqual(expect.objectContaining({ localPort: 3845, state: 'LISTEN', pid: 7420, processName: 'node.exe' }));
    const neither = await createWindowsSocketSource({ winsnap: notEmbedded, netstat: async () => read('wine8-netstat-ano.txt') })(scope);
    expect(neither).toMatchObject({ ok: false, error: { code: 'MCPW_ERR_SOCKET_SOURCE', message: expect.stringMatching(/^mcpwatch-winsnap failed: mcpwatch-winsnap.exe is not embedded in this build; netstat -ano printed 10 of 10 socket line\(s\) without the PID column/) } });
  });
});
