/**
 * The MSI built by `npm test` (wixl + msibuild patches), checked with msitools: summary, the
 * service registration (install starts, uninstall stops and deletes), the properties and custom
 * actions that write agent.json and enroll, the upgrade order, and the payload files.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AGENT_VERSION, artifact, itWhen, run } from '../helpers/artifacts.js';

const MSI = `mcpwatch-agent-${AGENT_VERSION}-x64.msi`;
const needs = { artifacts: [MSI], tools: ['msiinfo'] };

/** msiinfo export of one table as rows keyed by column name. */
async function table(name: string): Promise<Record<string, string>[]> {
  const result = await run('msiinfo', ['export', artifact(MSI), name]);
  if (result.status !== 0) throw new Error(`msiinfo export ${name}: ${result.stderr}`);
  const [header, , , ...rows] = result.stdout.split(/\r?\n/).filter((line) => line !== '');
  const columns = header!.split('\t');
  return rows.map((row) => Object.fromEntries(row.split('\t').map((value, i) => [columns[i], value])));
}

const byKey = (rows: Record<string, string>[], key: string) => Object.fromEntries(rows.map((row) => [row[key], row]));

describe('MSI', () => {
  itWhen(needs)('is an x64 per-machine package of this version', async () => {
    const summary = (await run('msiinfo', ['suminfo', artifact(MSI)])).stdout;
    expect(summary).toContain('Template: x64;1033');
    expect(summary).toContain(`Subject: mcpwatch agent ${AGENT_VERSION}`);
    const properties = byKey(await table('Property'), 'Property');
    expect(properties.ProductVersion!.Value).toBe(AGENT_VERSION);
    expect(properties.ALLUSERS!.Value).toBe('1');
    expect(properties.UpgradeCode!.Value).toBe('{5E0C6A47-7A3B-4C1E-9A0E-6B0E2D6C4D11}');
    expect(properties.SecureCustomProperties!.Value.split(';')).toEqual(expect.arrayContaining(['SERVER_URL', 'ENROLL_SECRET', 'CA_FINGERPRINT']));
    expect(properties.MsiHiddenProperties!.Value.split(';')).toContain('ENROLL_SECRET');
  });

  itWhen(needs)('registers the mcpwatch-agent service: LocalSystem, automatic, started on install, stopped and deleted on uninstall', async () => {
    const [service] = await table('ServiceInstall');
    expect(service).toMatchObject({ Name: 'mcpwatch-agent', StartName: 'LocalSystem', StartType: '2', ServiceType: '16', Arguments: 'run-service', Component_: 'ServiceHost' });
    const [control] = await table('ServiceControl');
    const event = Number(control!.Event);
    // msidbServiceControlEvent: Start 0x1, Stop 0x2, UninstallStop 0x20, UninstallDelete 0x80.
    expect(event & 0x1).toBe(0x1);
    expect(event & 0x2).toBe(0x2);
    expect(event & 0x20).toBe(0x20);
    expect(event & 0x80).toBe(0x80);
    const directories = byKey(await table('Directory'), 'Directory');
    expect(directories.INSTALLDIR).toMatchObject({ Directory_Parent: 'ProgramFiles64Folder', DefaultDir: 'mcpwatch' });
    expect(directories.DATADIR).toMatchObject({ Directory_Parent: 'CommonAppDataFolder', DefaultDir: 'mcpwatch' });
    const files = byKey(await table('File'), 'File');
    expect(files.ServiceExe).toMatchObject({ FileName: 'mcpwatch-service.exe', Component_: 'ServiceHost' });
    expect(files.AgentExe).toMatchObject({ FileName: 'mcpwatch-agent.exe' });
  });

  itWhen(needs)('writes agent.json from the properties (target hidden from logs) and enrolls without failing the install', async () => {
    const actions = byKey(await table('CustomAction'), 'Action');
    const write = actions.WriteAgentConfig!;
    const type = Number(write.Type);
    expect(type & 0x3f).toBe(18); // exe from an installed file
    expect(type & 0x400).toBe(0x400); // deferred
    expect(type & 0x800).toBe(0x800); // no impersonation: LocalSystem
    expect(type & 0x2000).toBe(0x2000); // HideTarget: the command line carries the secret
    expect(type & 0x40).toBe(0); // a failure fails the install
    expect(write.Source).toBe('ServiceExe');
    expect(write.Target).toBe('write-config "[DATADIR]agent.json" "[SERVER_URL]" "[ENROLL_SECRET]" "[CA_FINGERPRINT]"');
    const enroll = actions.EnrollAgent!;
    expect(Number(enroll.Type) & 0x40).toBe(0x40); // Return="ignore": an unreachable collector does not roll back
    expect(enroll.Target).toContain('enroll-if-needed "[INSTALLDIR]mcpwatch-agent.exe" "[DATADIR]state" "[DATADIR]agent.json"');
  });

  itWhen(needs)('sequences: old version removed first, config written after files and before the service starts', async () => {
    const sequence = byKey(await table('InstallExecuteSequence'), 'Action');
    const at = (action: string) => Number(sequence[action]!.Sequence);
    expect(at('RemoveExistingProducts')).toBeGreaterThan(at('InstallValidate'));
    expect(at('RemoveExistingProducts')).toBeLessThan(at('InstallInitialize'));
    expect(at('WriteAgentConfig')).toBeGreaterThan(at('InstallFiles'));
    expect(at('EnrollAgent')).toBeGreaterThan(at('WriteAgentConfig'));
    expect(at('EnrollAgent')).toBeLessThan(at('StartServices'));
    expect(sequence.WriteAgentConfig!.Condition).toBe('NOT REMOVE~="ALL"');
    const upgrades = await table('Upgrade');
    expect(upgrades.map((u) => u.ActionProperty).sort()).toEqual(['WIX_DOWNGRADE_DETECTED', 'WIX_UPGRADE_DETECTED']);
  });

  itWhen({ ...needs, artifacts: [MSI, 'mcpwatch-agent-win-x64.exe'], tools: ['msiextract'] })('carries the built agent executable and a Windows service host', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mcpwatch-msi-'));
    try {
      expect((await run('msiextract', ['--directory', dir, artifact(MSI)])).status).toBe(0);
      const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
      const installDir = path.join(dir, 'mcpwatch'); // msiextract drops the standard ProgramFiles64Folder
      expect(sha(path.join(installDir, 'mcpwatch-agent.exe'))).toBe(sha(artifact('mcpwatch-agent-win-x64.exe')));
      const host = readFileSync(path.join(installDir, 'mcpwatch-service.exe'));
      expect(host.subarray(0, 2).toString('latin1')).toBe('MZ');
      expect(host.includes(Buffer.from('StartServiceCtrlDispatcherA'))).toBe(true);
      expect(host.includes(Buffer.from('SetNamedSecurityInfoA'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
