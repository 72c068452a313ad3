/**
 * Builds mcpwatch-agent-<version>-1.<arch>.rpm with rpmbuild for every Linux executable that was
 * built, from the same staged tree as the .deb (linux-layout.mjs) and scriptlets from
 * installers/linux/rpm with the shared settings inlined. Works on Debian hosts (rpm package).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync, readdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { runCommand } from './run-command.mjs';
import { LINUX_ARCH, buildDate, renderMaintainerScript, stageLinuxFiles } from './linux-layout.mjs';

/** `%changelog` date: "Sun Nov 22 2026" (from toUTCString's "Sun, 22 Nov 2026 12:00:00 GMT"). */
function rpmDate(date) {
  const [weekday, day, month, year] = date.toUTCString().replace(',', '').split(' ');
  return `${weekday} ${month} ${day} ${year}`;
}

/**
 * @param {{installersDir: string, outDir: string, workDir: string, version: string, executables: Record<string, string>, log: (line: string) => void}} options
 * @returns {Promise<string[]>} the .rpm files
 */
export async function build({ installersDir, outDir, workDir, version, executables, log }) {
  const produced = [];
  const rpmDir = path.join(installersDir, 'linux', 'rpm');
  const script = (name) => renderMaintainerScript(installersDir, readFileSync(path.join(rpmDir, `${name}.sh`), 'utf8')).trimEnd();
  for (const [target, arch] of Object.entries(LINUX_ARCH)) {
    const executable = executables[target];
    if (!executable) continue;
    const top = path.join(workDir, `rpm-${arch.rpm}`);
    rmSync(top, { recursive: true, force: true });
    const stage = path.join(top, 'stage');
    stageLinuxFiles({ installersDir, root: stage, executable, version, unitDir: '/usr/lib/systemd/system', debianChangelog: false });
    const spec = readFileSync(path.join(rpmDir, 'mcpwatch-agent.spec.in'), 'utf8')
      .replaceAll('@VERSION@', version)
      .replace('@STAGE@', stage)
      .replace('@DATE@', rpmDate(buildDate()))
      .replace('@POST@', () => script('post'))
      .replace('@PREUN@', () => script('preun'))
      .replace('@POSTUN@', () => script('postun'));
    const specFile = path.join(top, 'mcpwatch-agent.spec');
    mkdirSync(top, { recursive: true });
    writeFileSync(specFile, spec);
    log(`rpmbuild ${arch.rpm}`);
    await runCommand('rpmbuild', ['-bb', '--quiet', '--target', arch.rpm, '--define', `_topdir ${top}`, '--define', `_rpmdir ${path.join(top, 'RPMS')}`, specFile]);
    const built = path.join(top, 'RPMS', arch.rpm);
    for (const name of readdirSync(built)) {
      const out = path.join(outDir, name);
      renameSync(path.join(built, name), out);
      produced.push(out);
    }
  }
  return produced;
}
