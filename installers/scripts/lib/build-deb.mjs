/**
 * Builds mcpwatch-agent_<version>_<arch>.deb with dpkg-deb for every Linux executable that was
 * built. No debhelper: the tree is staged by linux-layout.mjs, the maintainer scripts come from
 * installers/linux/debian with the shared settings inlined, files are owned by root.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { runCommand } from './run-command.mjs';
import { LINUX_ARCH, renderMaintainerScript, stageLinuxFiles } from './linux-layout.mjs';

/**
 * @param {{installersDir: string, outDir: string, workDir: string, version: string, executables: Record<string, string>, log: (line: string) => void}} options
 * @returns {Promise<string[]>} the .deb files
 */
export async function build({ installersDir, outDir, workDir, version, executables, log }) {
  const produced = [];
  for (const [target, arch] of Object.entries(LINUX_ARCH)) {
    const executable = executables[target];
    if (!executable) continue;
    const root = path.join(workDir, `deb-${arch.deb}`);
    rmSync(root, { recursive: true, force: true });
    const files = stageLinuxFiles({ installersDir, root, executable, version, unitDir: '/lib/systemd/system', debianChangelog: true });
    const overrides = path.join(root, 'usr/share/lintian/overrides/mcpwatch-agent');
    mkdirSync(path.dirname(overrides), { recursive: true });
    copyFileSync(path.join(installersDir, 'linux', 'debian', 'lintian-overrides'), overrides);
    chmodSync(overrides, 0o644);
    files.push('usr/share/lintian/overrides/mcpwatch-agent');

    const control = path.join(root, 'DEBIAN');
    mkdirSync(control, { recursive: true });
    const installedKiB = files.reduce((sum, file) => sum + Math.ceil(statSync(path.join(root, file)).size / 1024), 0);
    writeFileSync(path.join(control, 'control'), readFileSync(path.join(installersDir, 'linux', 'debian', 'control.in'), 'utf8')
      .replace('@VERSION@', version).replace('@ARCH@', arch.deb).replace('@INSTALLED_SIZE@', String(installedKiB)));
    for (const script of ['postinst', 'prerm', 'postrm']) {
      const file = path.join(control, script);
      writeFileSync(file, renderMaintainerScript(installersDir, readFileSync(path.join(installersDir, 'linux', 'debian', script), 'utf8')));
      chmodSync(file, 0o755);
    }
    const sums = files.sort().map((file) => `${createHash('md5').update(readFileSync(path.join(root, file))).digest('hex')}  ${file}`);
    writeFileSync(path.join(control, 'md5sums'), `${sums.join('\n')}\n`);
    const deb = path.join(outDir, `mcpwatch-agent_${version}_${arch.deb}.deb`);
    log(`dpkg-deb ${path.basename(deb)}`);
    await runCommand('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z6', '--build', root, deb]);
    produced.push(deb);
  }
  return produced;
}
