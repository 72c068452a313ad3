/**
 * Builds mcpwatch-agent-<version>-x64.msi from installers/windows/mcpwatch-agent.wxs with wixl
 * (msitools), after compiling the service host (mcpwatch-service.c) with mingw-w64. wixl implements
 * a subset of WiX 3; what it cannot express is patched into the built database with msibuild
 * (MSI_TABLE_PATCHES below) and each patch is checked by the installers tests.
 */
import { copyFileSync, linkSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { runCommand } from './run-command.mjs';
import { compileWindowsProgram } from './mingw.mjs';

/** MSI custom action type bit: do not log the action's target (its command line holds the secret). */
export const HIDE_TARGET = 0x2000;
/** Properties the msiexec command line may set. */
export const MSI_PUBLIC_PROPERTIES = Object.freeze(['SERVER_URL', 'ENROLL_SECRET', 'CA_FINGERPRINT']);

/** SQL applied to the wixl output, in order. */
export const MSI_TABLE_PATCHES = Object.freeze([
  `UPDATE Property SET Value='${[...MSI_PUBLIC_PROPERTIES, 'WIX_UPGRADE_DETECTED', 'WIX_DOWNGRADE_DETECTED'].join(';')}' WHERE Property='SecureCustomProperties'`,
  `UPDATE CustomAction SET Type=${3090 | HIDE_TARGET} WHERE Action='WriteAgentConfig'`,
  "UPDATE InstallExecuteSequence SET Sequence=1401 WHERE Action='RemoveExistingProducts'",
]);

/**
 * Compiles the Windows service host.
 * @returns {Promise<string>} path of mcpwatch-service.exe
 */
export function compileServiceHost(installersDir, workDir) {
  return compileWindowsProgram(path.join(installersDir, 'windows', 'service-wrapper', 'mcpwatch-service.c'), path.join(workDir, 'mcpwatch-service.exe'), ['advapi32']);
}

/**
 * @param {{installersDir: string, outDir: string, workDir: string, version: string, executables: Record<string, string>, log: (line: string) => void}} options
 * @returns {Promise<string[]>} the .msi (empty when win-x64 was not built)
 */
export async function build({ installersDir, outDir, workDir, version, executables, log }) {
  const agent = executables['win-x64'];
  if (!agent) return [];
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const serviceHost = await compileServiceHost(installersDir, workDir);
  const agentCopy = path.join(workDir, 'mcpwatch-agent.exe');
  try { linkSync(agent, agentCopy); } catch { copyFileSync(agent, agentCopy); }
  copyFileSync(path.join(installersDir, 'windows', 'mcpwatch-agent.wxs'), path.join(workDir, 'mcpwatch-agent.wxs'));
  const msi = path.join(outDir, `mcpwatch-agent-${version}-x64.msi`);
  log(`wixl ${path.basename(msi)} (service host ${path.basename(serviceHost)})`);
  // wixl resolves File/@Source relative to the working directory.
  await runCommand('wixl', ['-a', 'x64', '-D', `Version=${version}`, '-o', msi, 'mcpwatch-agent.wxs'], { cwd: workDir });
  for (const query of MSI_TABLE_PATCHES) await runCommand('msibuild', [msi, '-q', query]);
  return [msi];
}
