/**
 * Every process, socket and host-facts source that cannot run shows up as an error record (code
 * and reason) in the inventory and in the CLI table: never as an empty list. Driven through the
 * real CLI with the win32 sources fed captured Wine output (fastlist works there; Wine's netstat
 * has no PID column), and with a host-facts source that fails.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFastlistProcessSource } from '../../../src/platform/win32/process-source.js';
import { createNetstatSocketSource } from '../../../src/platform/win32/netstat-sockets.js';
import type { HostFactsSource } from '../../../src/collect/host-facts.js';
import { runCli } from '../../helpers/cli-run.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures');
const WIN_HOME = path.join(FIXTURES, 'homes/win32/Users/alice');
const WIN_SYSTEM = path.join(FIXTURES, 'homes/win32/system');
const wineNetstat = readFileSync(path.join(FIXTURES, 'win32-output/wine8-netstat-ano.txt'), 'latin1');
const args = ['--home', WIN_HOME, '--system-root', WIN_SYSTEM, '--platform', 'win32', '--sources', 'configs,processes,sockets'];

const processSource = createFastlistProcessSource(async () => [
  { pid: 4, ppid: 0, name: 'System' },
  { pid: 6120, ppid: 76, name: 'Claude.exe' },
  { pid: 7420, ppid: 6120, name: 'node.exe' },
]);
const hostFacts: HostFactsSource = async () => ({
  hostname: 'win-laptop', osName: 'Windows', osRelease: '10.0.19045', arch: 'x64', hardwareUuid: null, serial: null,
  errors: [{ code: 'MCPW_ERR_HOST_FACTS', reason: 'system failed: WMI not available' }],
});

describe('source failures as error records', () => {
  it('shows a socket table without owners (Wine netstat) and failed host facts in --json and in the table', async () => {
    const deps = { processSource, socketSource: createNetstatSocketSource(async () => wineNetstat), hostFacts };
    const json = await runCli(['scan', '--json', ...args], { deps });
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc.processes).toContainEqual(expect.objectContaining({ pid: 6120, kind: 'client', client: 'claude-desktop' }));
    expect(doc.errors).toEqual(expect.arrayContaining([
      expect.objectContaining({ path: '(sockets)', code: 'collect-failed', reason: expect.stringMatching(/^MCPW_ERR_SOCKET_SOURCE: netstat -ano printed 10 of 10 socket line/) }),
      expect.objectContaining({ path: '(host)', code: 'collect-failed', reason: 'MCPW_ERR_HOST_FACTS: system failed: WMI not available' }),
    ]));
    const table = await runCli(['scan', ...args], { deps });
    expect(table.stdout).toMatch(/ERRORS[\s\S]*collect-failed\s+\(sockets\)\s+-?\s*MCPW_ERR_SOCKET_SOURCE: netstat -ano printed/);
    expect(table.stdout).toMatch(/collect-failed\s+\(host\)\s+-?\s*MCPW_ERR_HOST_FACTS: system failed/);
  });

  it('shows a process source that listed nothing as an error, not as "0 processes"', async () => {
    const deps = { processSource: createFastlistProcessSource(async () => []), hostFacts };
    const table = await runCli(['scan', ...args], { deps });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/collect-failed\s+\(processes\)\s+-?\s*MCPW_ERR_PROCESS_SOURCE: fastlist listed no process at all/);
  });

  it('shows a host-facts source that throws as an error record', async () => {
    const deps = { processSource, socketSource: createNetstatSocketSource(async () => wineNetstat), hostFacts: (async () => { throw new Error('boom'); }) as HostFactsSource };
    const doc = JSON.parse((await runCli(['scan', '--json', ...args], { deps })).stdout);
    expect(doc.host.hostname).toBe('unknown');
    expect(doc.errors).toContainEqual(expect.objectContaining({ path: '(host)', reason: 'MCPW_ERR_HOST_FACTS: host facts failed: boom' }));
  });
});
